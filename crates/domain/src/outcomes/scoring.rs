//! Scoring answers by their instrument's declaration, and reading what a person typed into
//! answers (every problem at once).

use super::instruments::{Item, ScaleDef, Scoring, Spec};
use crate::intake::FieldError;

/// One answered item: its code and the value chosen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    pub item: String,
    pub value: i32,
}

/// A score of one scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    pub scale: &'static ScaleDef,
    pub value: f64,
    /// The raw sum before conversion (SWEMWBS), for the people who check it.
    pub raw: Option<i32>,
}

impl Score {
    pub fn band(&self) -> Option<&'static str> {
        self.scale.band(self.value)
    }

    /// The value as people read it: whole numbers plainly, converted and mean scores to two
    /// decimals or one.
    pub fn shown(&self) -> String {
        shown(self.value)
    }
}

/// A number as shown: `7`, `19.98`, `62.5`.
pub fn shown(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_owned()
    }
}

impl Spec {
    /// How many items must be answered for any score: all of them where one missing item
    /// means no score (sums), one for ONS4 (each item stands alone), the published minimum
    /// for mean scores.
    pub fn min_answered(&self) -> usize {
        match self.scoring {
            Scoring::Separate => 1,
            Scoring::Sum | Scoring::SumConverted(_) => self.items.len(),
            Scoring::MeanOfPoints { min_answered, .. } => min_answered,
            Scoring::Imported => 0,
        }
    }

    fn answer<'a>(&self, answers: &'a [Answer], item: &Item) -> Option<&'a Answer> {
        answers.iter().find(|a| a.item == item.code)
    }

    /// The scores of a set of answers, by the published rules. Answers to items the
    /// instrument does not have, or outside the scale, are ignored (they cannot be stored:
    /// [`Spec::read_answers`] refuses them).
    pub fn score(&'static self, answers: &[Answer]) -> Vec<Score> {
        let valid: Vec<(&Item, i32)> = self
            .items
            .iter()
            .filter_map(|it| {
                let a = self.answer(answers, it)?;
                let r = self.responses.get(it.scale)?;
                (r.min..=r.max).contains(&a.value).then_some((it, a.value))
            })
            .collect();
        match self.scoring {
            Scoring::Separate => self
                .items
                .iter()
                .zip(self.scales)
                .filter_map(|(it, scale)| {
                    valid.iter().find(|(i, _)| i.code == it.code).map(|(_, v)| Score {
                        scale,
                        value: f64::from(*v),
                        raw: None,
                    })
                })
                .collect(),
            Scoring::Sum if valid.len() == self.items.len() => {
                let sum: i32 = valid.iter().map(|(_, v)| v).sum();
                vec![Score { scale: &self.scales[0], value: f64::from(sum), raw: None }]
            }
            Scoring::SumConverted(table) if valid.len() == self.items.len() => {
                let sum: i32 = valid.iter().map(|(_, v)| v).sum();
                table
                    .iter()
                    .find(|(raw, _)| *raw == sum)
                    .map(|(_, metric)| vec![Score { scale: &self.scales[0], value: *metric, raw: Some(sum) }])
                    .unwrap_or_default()
            }
            Scoring::MeanOfPoints { points, min_answered } if valid.len() >= min_answered => {
                let total: f64 = valid
                    .iter()
                    .filter_map(|(it, v)| {
                        let r = self.responses[it.scale];
                        let pos = (v - r.min) as usize;
                        let pos = if it.reversed { points.len().checked_sub(1 + pos)? } else { pos };
                        points.get(pos).copied()
                    })
                    .sum();
                vec![Score { scale: &self.scales[0], value: total / valid.len() as f64, raw: None }]
            }
            _ => vec![],
        }
    }

    /// Read the answers typed for each item (`value_of(item code)`, empty when unanswered):
    /// each must be a value of its scale, and enough must be answered for a score by the
    /// instrument's rule. Every problem comes back at once, against the item's code.
    pub fn read_answers(&self, value_of: impl Fn(&str) -> String) -> Result<Vec<Answer>, Vec<FieldError>> {
        let mut answers = vec![];
        let mut problems = vec![];
        let mut missing = vec![];
        for (n, it) in self.items.iter().enumerate() {
            let typed = value_of(it.code);
            let typed = typed.trim();
            if typed.is_empty() {
                missing.push((n + 1, it.code));
                continue;
            }
            let r = self.responses[it.scale];
            match typed.parse::<i32>() {
                Ok(v) if (r.min..=r.max).contains(&v) => answers.push(Answer { item: it.code.to_owned(), value: v }),
                _ => problems.push(FieldError {
                    field: it.code,
                    message: format!("Question {}: choose one of the answers ({} to {})", n + 1, r.min, r.max),
                }),
            }
        }
        let needed = self.min_answered();
        if answers.len() + problems.len() < needed {
            let rule = match self.scoring {
                Scoring::Separate => "answer at least one question".to_owned(),
                Scoring::MeanOfPoints { min_answered, .. } => format!("answer at least {min_answered} questions"),
                _ => format!("{} has no score with any question unanswered", self.instrument.label()),
            };
            for (n, code) in missing.iter().take(if needed == self.items.len() { missing.len() } else { 1 }) {
                problems.push(FieldError { field: code, message: format!("Question {n}: choose an answer ({rule})") });
            }
        }
        if problems.is_empty() { Ok(answers) } else { Err(problems) }
    }

    /// Check an imported total against the instrument's range.
    pub fn read_total(&self, typed: &str) -> Result<f64, String> {
        let scale = match self.scales.first() {
            Some(scale) if !self.is_administered() => scale,
            _ => return Err("This measure takes answers, not a total".into()),
        };
        match typed.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= scale.min && v <= scale.max => Ok(v),
            Ok(_) => Err(format!(
                "Enter a {} between {} and {}",
                scale.label.to_lowercase(),
                shown(scale.min),
                shown(scale.max)
            )),
            Err(_) => Err(format!("Enter the {} as a number, like {}", scale.label.to_lowercase(), shown(scale.max))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::instruments::*;
    use super::*;

    fn answers(spec: &Spec, values: &[i32]) -> Vec<Answer> {
        spec.items.iter().zip(values).map(|(it, v)| Answer { item: it.code.into(), value: *v }).collect()
    }

    /// Every row of the published SWEMWBS conversion table (domain.md section 5), scored from
    /// answers that sum to the raw score.
    #[test]
    fn swemwbs_converts_every_raw_score_by_the_published_table() {
        let published = [
            (7, 7.00),
            (8, 9.51),
            (9, 11.25),
            (10, 12.40),
            (11, 13.33),
            (12, 14.08),
            (13, 14.75),
            (14, 15.32),
            (15, 15.84),
            (16, 16.36),
            (17, 16.88),
            (18, 17.43),
            (19, 17.98),
            (20, 18.59),
            (21, 19.25),
            (22, 19.98),
            (23, 20.73),
            (24, 21.54),
            (25, 22.35),
            (26, 23.21),
            (27, 24.11),
            (28, 25.03),
            (29, 26.02),
            (30, 27.03),
            (31, 28.13),
            (32, 29.31),
            (33, 30.70),
            (34, 32.55),
            (35, 35.00),
        ];
        assert_eq!(published.len(), 29);
        for (raw, metric) in published {
            // Spread the raw sum over seven items of 1 to 5.
            let mut left = raw - 7;
            let values: Vec<i32> = (0..7)
                .map(|_| {
                    let extra = left.min(4);
                    left -= extra;
                    1 + extra
                })
                .collect();
            let s = SWEMWBS.score(&answers(&SWEMWBS, &values));
            assert_eq!(s.len(), 1, "raw {raw}");
            assert_eq!(s[0].raw, Some(raw));
            assert!((s[0].value - metric).abs() < 1e-9, "raw {raw}: {} is not {metric}", s[0].value);
        }
    }

    #[test]
    fn swemwbs_and_wemwbs_have_no_score_with_an_item_missing() {
        let six = answers(&SWEMWBS, &[3, 3, 3, 3, 3, 3]);
        assert!(SWEMWBS.score(&six).is_empty());
        let e = SWEMWBS.read_answers(|c| if c == "item7" { String::new() } else { "3".into() }).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "item7");
        assert!(e[0].message.contains("no score with any question unanswered"), "{}", e[0].message);
        let thirteen = answers(&WEMWBS, &[4; 13]);
        assert!(WEMWBS.score(&thirteen).is_empty());
        let all = answers(&WEMWBS, &[4; 14]);
        assert_eq!(WEMWBS.score(&all)[0].value, 56.0);
        assert_eq!(WEMWBS.score(&all)[0].band(), Some("Average"));
        assert_eq!(WEMWBS.score(&answers(&WEMWBS, &[2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]))[0].band(), Some("Low"));
        assert_eq!(
            WEMWBS.score(&answers(&WEMWBS, &[2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]))[0].band(),
            Some("Below average")
        );
    }

    /// ONS guidance: each question reported on its own with its thresholds; anxiety the
    /// other way round.
    #[test]
    fn ons4_reports_each_item_with_its_band_and_anxiety_the_other_way() {
        let s = ONS4.score(&answers(&ONS4, &[4, 6, 8, 9]));
        let got: Vec<(&str, f64, Option<&str>)> = s.iter().map(|x| (x.scale.code, x.value, x.band())).collect();
        assert_eq!(
            got,
            vec![
                ("life_satisfaction", 4.0, Some("Low")),
                ("worthwhile", 6.0, Some("Medium")),
                ("happy", 8.0, Some("High")),
                ("anxious", 9.0, Some("High")),
            ]
        );
        let bands = |v: i32| ONS4.scales[3].band(f64::from(v)).unwrap();
        assert_eq!(
            (0..=10).map(bands).collect::<Vec<_>>(),
            ["Very low", "Very low", "Low", "Low", "Medium", "Medium", "High", "High", "High", "High", "High"]
        );
        let high = |v: i32| ONS4.scales[0].band(f64::from(v)).unwrap();
        assert_eq!(
            (0..=10).map(high).collect::<Vec<_>>(),
            ["Low", "Low", "Low", "Low", "Low", "Medium", "Medium", "High", "High", "Very high", "Very high"]
        );
        // A question left out has no score; the others stand.
        let three = ONS4.score(&[Answer { item: "happy".into(), value: 10 }]);
        assert_eq!(three.len(), 1);
        assert_eq!(three[0].band(), Some("Very high"));
        assert!(ONS4.read_answers(|_| String::new()).is_err());
        assert_eq!(ONS4.read_answers(|c| if c == "happy" { "0".into() } else { String::new() }).unwrap().len(), 1);
    }

    #[test]
    fn ucla3_totals_three_to_nine_and_needs_every_item() {
        assert_eq!(UCLA3.score(&answers(&UCLA3, &[1, 1, 1]))[0].value, 3.0);
        assert_eq!(UCLA3.score(&answers(&UCLA3, &[3, 3, 3]))[0].value, 9.0);
        assert_eq!(UCLA3.score(&answers(&UCLA3, &[2, 2, 1]))[0].band(), Some("Less lonely"));
        assert_eq!(UCLA3.score(&answers(&UCLA3, &[2, 2, 2]))[0].band(), Some("More lonely"));
        assert!(UCLA3.score(&answers(&UCLA3, &[2, 2])).is_empty());
        let e = UCLA3.read_answers(|c| if c == "isolated" { "4".into() } else { "2".into() }).unwrap_err();
        assert_eq!(e[0].field, "isolated");
        assert!(e[0].message.contains("1 to 3"));
    }

    /// Kristensen et al. (2005): 100/75/50/25/0, the energy item reversed, mean of the answered
    /// items, missing with fewer than three.
    #[test]
    fn cbi_scores_by_points_with_the_reversed_item_and_its_missing_rule() {
        // Always, Often, Sometimes, Seldom (reversed: 75), high degree (75), somewhat (50), low (25).
        let s = CBI_WORK.score(&answers(&CBI_WORK, &[1, 2, 3, 4, 2, 3, 4]));
        let want = (100.0 + 75.0 + 50.0 + 75.0 + 75.0 + 50.0 + 25.0) / 7.0;
        assert!((s[0].value - want).abs() < 1e-9);
        assert_eq!(s[0].band(), Some("High"));
        let two = vec![Answer { item: "worn_out".into(), value: 5 }, Answer { item: "frustrate".into(), value: 5 }];
        assert!(CBI_WORK.score(&two).is_empty());
        let three = [two, vec![Answer { item: "energy_leisure".into(), value: 1 }]].concat();
        // Never (0), very low degree (0), and "always" enough energy, reversed (0).
        assert_eq!(CBI_WORK.score(&three)[0].value, 0.0);
        assert_eq!(CBI_WORK.score(&three)[0].band(), Some("Lower"));
    }

    #[test]
    fn ose6_sums_six_to_thirty_six() {
        assert_eq!(OSE6.score(&answers(&OSE6, &[1; 6]))[0].value, 6.0);
        assert_eq!(OSE6.score(&answers(&OSE6, &[6; 6]))[0].value, 36.0);
        assert!(OSE6.score(&answers(&OSE6, &[6; 5])).is_empty());
    }

    #[test]
    fn imported_totals_are_checked_against_their_range() {
        assert_eq!(PAM.read_total("62.3"), Ok(62.3));
        assert_eq!(PAM.scales[0].band(62.3), Some("Level 3"));
        assert!(PAM.read_total("101").unwrap_err().contains("between 0 and 100"));
        assert!(MYCAW.read_total("seven").unwrap_err().contains("as a number"));
        assert!(EQ5D5L.read_total("NaN").is_err());
        assert!(!PAM.is_administered());
        assert!(ONS4.read_total("3").is_err());
    }

    #[test]
    fn every_instrument_has_one_consistent_declaration() {
        for i in Instrument::ALL {
            let s = spec(*i);
            assert_eq!(s.instrument, *i);
            assert!(!s.scales.is_empty(), "{i:?} has no scale");
            for it in s.items {
                assert!(it.scale < s.responses.len(), "{i:?} {} names a missing scale", it.code);
                let r = s.responses[it.scale];
                assert!(r.labels.is_empty() || r.labels.len() == (r.max - r.min + 1) as usize, "{i:?} labels");
                // Wording ships exactly when the licence is free.
                assert_eq!(it.text.is_some(), matches!(s.licence, Licence::Free { .. }), "{i:?} {}", it.code);
            }
            if s.scoring == Scoring::Separate {
                assert_eq!(s.items.len(), s.scales.len());
            }
            assert_eq!(s.needs_loaded_wording(), matches!(i, Instrument::Swemwbs | Instrument::Wemwbs));
            assert!(s.is_administered() == !matches!(s.licence, Licence::Proprietary { .. }));
        }
        assert_eq!(shown(19.98), "19.98");
        assert_eq!(shown(62.5), "62.5");
        assert_eq!(shown(7.0), "7");
    }
}
