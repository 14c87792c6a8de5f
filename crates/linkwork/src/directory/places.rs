//! Postcode centroids and deprivation deciles for distance search, from the ONS files (National Grid converted to latitude and longitude).

use super::feed::RecordProblem;
use anyhow::{Context, bail};
use std::path::Path;

/// Postcode centroids: the ONS Postcode Directory (a header with `pcds` or `pcd`, `lat`, `long`
/// and optionally `lsoa11`/`lsoa21`), or Code-Point Open (no header: postcode, quality,
/// eastings, northings, ...; converted from the British National Grid). Deprivation: a CSV with
/// an LSOA code column and a decile column (the English Indices of Deprivation file).
pub fn read_postcodes(path: &Path) -> anyhow::Result<(Vec<linkwork_domain::ports::PostcodePoint>, Vec<RecordProblem>)> {
    use linkwork_domain::ports::PostcodePoint;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut rows = r.records();
    let Some(first) = rows.next() else { bail!("{} is empty", path.display()) };
    let first = first?;
    let lower: Vec<String> = first.iter().map(|h| h.trim().to_lowercase()).collect();
    let col = |names: &[&str]| lower.iter().position(|h| names.contains(&h.as_str()));
    let ons = col(&["pcds", "pcd", "postcode"]).zip(col(&["lat", "latitude"])).zip(col(&["long", "longitude", "lon"]));
    let lsoa = col(&["lsoa21", "lsoa11", "lsoa21cd", "lsoa11cd", "lsoa"]);
    let mut points = Vec::new();
    let mut problems = Vec::new();
    let mut push = |line: usize, pc: &str, p: Option<(f64, f64)>, l: Option<String>| match p {
        Some((lat, lon)) if (49.0..61.5).contains(&lat) && (-9.0..3.0).contains(&lon) && !pc.trim().is_empty() => {
            points.push(PostcodePoint { postcode: pc.trim().to_owned(), latitude: lat, longitude: lon, lsoa: l })
        }
        _ => problems.push(RecordProblem {
            place: format!("line {line}"),
            id: pc.to_owned(),
            message: "no usable coordinates".into(),
        }),
    };
    match ons {
        Some(((pc, lat), lon)) => {
            for (i, row) in rows.enumerate() {
                let row = row?;
                let get = |c: usize| row.get(c).unwrap_or("").trim().to_owned();
                let p = get(lat).parse::<f64>().ok().zip(get(lon).parse::<f64>().ok());
                push(i + 2, &get(pc), p, lsoa.map(get).filter(|s| !s.is_empty()));
            }
        }
        None => {
            for (i, row) in std::iter::once(Ok(first)).chain(rows).enumerate() {
                let row = row?;
                let get = |c: usize| row.get(c).unwrap_or("").trim().to_owned();
                let p = get(2).parse::<f64>().ok().zip(get(3).parse::<f64>().ok()).map(|(e, n)| osgb_to_wgs84(e, n));
                push(i + 1, &get(0), p, None);
            }
        }
    }
    Ok((points, problems))
}

/// LSOA deprivation deciles from a CSV whose header names an LSOA code column and a decile
/// column.
pub fn read_deciles(path: &Path) -> anyhow::Result<Vec<(String, i16)>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let h: Vec<String> = r.headers()?.iter().map(str::to_lowercase).collect();
    let code = h
        .iter()
        .position(|x| x.contains("lsoa") && x.contains("code"))
        .or_else(|| h.iter().position(|x| x.contains("lsoa")));
    let decile = h.iter().position(|x| x.contains("decile"));
    let (Some(code), Some(decile)) = (code, decile) else {
        bail!("{}: need an LSOA code column and a decile column", path.display())
    };
    let mut out = Vec::new();
    for row in r.records() {
        let row = row?;
        if let (Some(c), Some(d)) = (row.get(code), row.get(decile).and_then(|d| d.trim().parse::<i16>().ok()))
            && (1..=10).contains(&d)
        {
            out.push((c.trim().to_owned(), d));
        }
    }
    Ok(out)
}

/// British National Grid eastings/northings to latitude/longitude (inverse transverse Mercator
/// on the Airy 1830 ellipsoid). The OSGB36→WGS84 datum shift (about 100 m) is left out: it does
/// not change which services are within a few miles.
pub fn osgb_to_wgs84(e: f64, n: f64) -> (f64, f64) {
    let (a, b) = (6_377_563.396_f64, 6_356_256.909_f64);
    let f0 = 0.999_601_271_7;
    let (lat0, lon0) = (49f64.to_radians(), (-2f64).to_radians());
    let (n0, e0) = (-100_000.0, 400_000.0);
    let e2 = 1.0 - (b * b) / (a * a);
    let nn = (a - b) / (a + b);
    let mut lat = lat0;
    let mut m = 0.0;
    while (n - n0 - m).abs() >= 0.00001 {
        lat += (n - n0 - m) / (a * f0);
        let (d, s) = (lat - lat0, lat + lat0);
        m = b
            * f0
            * ((1.0 + nn + 1.25 * nn.powi(2) + 1.25 * nn.powi(3)) * d
                - (3.0 * nn + 3.0 * nn.powi(2) + 2.625 * nn.powi(3)) * d.sin() * s.cos()
                + (1.875 * nn.powi(2) + 1.875 * nn.powi(3)) * (2.0 * d).sin() * (2.0 * s).cos()
                - (35.0 / 24.0) * nn.powi(3) * (3.0 * d).sin() * (3.0 * s).cos());
    }
    let (sl, cl, tl) = (lat.sin(), lat.cos(), lat.tan());
    let nu = a * f0 / (1.0 - e2 * sl * sl).sqrt();
    let rho = a * f0 * (1.0 - e2) / (1.0 - e2 * sl * sl).powf(1.5);
    let eta2 = nu / rho - 1.0;
    let vii = tl / (2.0 * rho * nu);
    let viii = tl / (24.0 * rho * nu.powi(3)) * (5.0 + 3.0 * tl * tl + eta2 - 9.0 * tl * tl * eta2);
    let ix = tl / (720.0 * rho * nu.powi(5)) * (61.0 + 90.0 * tl * tl + 45.0 * tl.powi(4));
    let x = 1.0 / (cl * nu);
    let xi = 1.0 / (cl * 6.0 * nu.powi(3)) * (nu / rho + 2.0 * tl * tl);
    let xii = 1.0 / (cl * 120.0 * nu.powi(5)) * (5.0 + 28.0 * tl * tl + 24.0 * tl.powi(4));
    let xiia = 1.0 / (cl * 5040.0 * nu.powi(7)) * (61.0 + 662.0 * tl * tl + 1320.0 * tl.powi(4) + 720.0 * tl.powi(6));
    let de = e - e0;
    let lat = lat - vii * de.powi(2) + viii * de.powi(4) - ix * de.powi(6);
    let lon = lon0 + x * de - xi * de.powi(3) + xii * de.powi(5) - xiia * de.powi(7);
    (lat.to_degrees(), lon.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_grid_to_latitude_and_longitude() {
        // Leeds Town Hall is at about E 429,800 N 433,800: 53.800 N, 1.549 W (within the datum shift).
        let (lat, lon) = osgb_to_wgs84(429_800.0, 433_800.0);
        assert!((lat - 53.80).abs() < 0.01 && (lon + 1.55).abs() < 0.01, "{lat} {lon}");
    }
}
