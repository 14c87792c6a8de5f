//! A small line chart of one scale's scores, drawn on the server as SVG coordinates the
//! template renders (no HTML or SVG is built as a string here). The chart is an image with a
//! text title for screen readers; the table beside it carries the same figures.

/// Where everything goes, in the SVG's own units.
pub(crate) struct Chart {
    pub width: i32,
    pub height: i32,
    /// What the chart shows, for `<title>`.
    pub label: String,
    /// The polyline's `points` attribute.
    pub line: String,
    /// Each score: x, y and what it says.
    pub dots: Vec<(i32, i32, String)>,
    /// Gridlines on the score axis: y and the value.
    pub ticks: Vec<(i32, String)>,
    /// The days under the axis: x and the label.
    pub days: Vec<(i32, String)>,
    pub left: i32,
    pub right: i32,
    pub bottom: i32,
}

const WIDTH: i32 = 320;
const HEIGHT: i32 = 150;
const LEFT: i32 = 34;
const RIGHT: i32 = 12;
const TOP: i32 = 10;
const BOTTOM: i32 = 28;

impl Chart {
    /// A chart of `points` (day label, score) on a scale from `min` to `max`, evenly spaced.
    pub fn draw(title: &str, min: f64, max: f64, points: &[(String, f64)]) -> Chart {
        let plot_w = f64::from(WIDTH - LEFT - RIGHT);
        let plot_h = f64::from(HEIGHT - TOP - BOTTOM);
        let span = if max > min { max - min } else { 1.0 };
        let y = |v: f64| TOP + (plot_h * (1.0 - (v.clamp(min, max) - min) / span)).round() as i32;
        let n = points.len();
        let x = |i: usize| {
            if n <= 1 {
                LEFT + (plot_w / 2.0) as i32
            } else {
                LEFT + (plot_w * i as f64 / (n - 1) as f64).round() as i32
            }
        };
        let dots: Vec<(i32, i32, String)> = points
            .iter()
            .enumerate()
            .map(|(i, (day, v))| (x(i), y(*v), format!("{day}: {}", linkwork_domain::outcomes::scoring::shown(*v))))
            .collect();
        let ticks = [min, min + span / 2.0, max]
            .iter()
            .map(|v| (y(*v), linkwork_domain::outcomes::scoring::shown((v * 10.0).round() / 10.0)))
            .collect();
        // Every day when there are few; the first and last when there are many.
        let days = points
            .iter()
            .enumerate()
            .filter(|(i, _)| n <= 4 || *i == 0 || *i == n - 1)
            .map(|(i, (day, _))| (x(i), day.clone()))
            .collect();
        let summary: Vec<String> =
            points.iter().map(|(d, v)| format!("{d} {}", linkwork_domain::outcomes::scoring::shown(*v))).collect();
        Chart {
            width: WIDTH,
            height: HEIGHT,
            label: format!(
                "{title}, from {} to {}: {}",
                linkwork_domain::outcomes::scoring::shown(min),
                linkwork_domain::outcomes::scoring::shown(max),
                summary.join(", ")
            ),
            line: dots.iter().map(|(x, y, _)| format!("{x},{y}")).collect::<Vec<_>>().join(" "),
            dots,
            ticks,
            days,
            left: LEFT,
            right: WIDTH - RIGHT,
            bottom: HEIGHT - BOTTOM,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_placed_inside_the_plot_with_the_best_at_the_top() {
        let c = Chart::draw(
            "ONS4",
            0.0,
            10.0,
            &[("1 Mar 26".into(), 0.0), ("1 Jun 26".into(), 10.0), ("1 Sep 26".into(), 5.0)],
        );
        assert_eq!(c.dots[0].0, LEFT);
        assert_eq!(c.dots[2].0, WIDTH - RIGHT);
        assert_eq!(c.dots[0].1, HEIGHT - BOTTOM, "0 on the axis");
        assert_eq!(c.dots[1].1, TOP, "10 at the top");
        assert_eq!(c.line.split(' ').count(), 3);
        assert!(c.label.contains("1 Jun 26 10"));
        let one = Chart::draw("UCLA", 3.0, 9.0, &[("1 Mar 26".into(), 7.0)]);
        assert!(one.dots[0].0 > LEFT && one.dots[0].0 < WIDTH - RIGHT);
    }
}
