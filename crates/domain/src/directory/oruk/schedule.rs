//! Schedules as the standard writes them: times of day, iCalendar days, and the weekly
//! openings the "open on" search filter reads.

use super::check::{Findings, Opening};
use super::model::{Schedule, Service};
use chrono::{NaiveDate, NaiveTime, Timelike};

/// A time of day as the standard writes it ("10:00" or "10:00:00"), in minutes.
pub fn parse_clock(s: &str) -> Option<u16> {
    let t = NaiveTime::parse_from_str(s.trim(), "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M"))
        .ok()?;
    u16::try_from(t.hour() * 60 + t.minute()).ok()
}

/// Monday = 0 .. Sunday = 6, from an iCalendar day ("MO", or "1MO" for the first Monday).
pub fn parse_day(s: &str) -> Option<u8> {
    let code = s.trim().trim_start_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        .iter()
        .position(|d| d.eq_ignore_ascii_case(code))
        .and_then(|p| u8::try_from(p).ok())
}

/// The weekly openings a service's schedules give (the search's "open on" filter reads them).
pub fn openings(s: &Service) -> Vec<Opening> {
    let mut out = vec![];
    for sc in &s.schedules {
        check_schedule(sc, &mut Findings::default(), &mut out);
    }
    out
}

/// Day names for people, Monday first.
pub const DAY_NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

pub(super) fn check_schedule(sc: &Schedule, f: &mut Findings, openings: &mut Vec<Opening>) {
    let what = format!("schedule {}", sc.id);
    let opens = sc.opens_at.as_deref().map(|t| (t, parse_clock(t)));
    let closes = sc.closes_at.as_deref().map(|t| (t, parse_clock(t)));
    for (label, v) in [("opens_at", opens), ("closes_at", closes)] {
        if let Some((raw, None)) = v {
            f.errors.push(format!("{what}: {label} {raw:?} is not a time of day"));
        }
    }
    if let Some(freq) = &sc.freq
        && !["WEEKLY", "MONTHLY", "DAILY", "YEARLY"].contains(&freq.to_uppercase().as_str())
    {
        f.errors.push(format!("{what}: freq {freq:?} is not WEEKLY, MONTHLY, DAILY or YEARLY"));
    }
    if let Some(i) = sc.interval
        && (i < 1.0 || i.fract() != 0.0)
    {
        f.errors.push(format!("{what}: interval {i} is not a whole number of 1 or more"));
    }
    let dates: Vec<Option<NaiveDate>> = [&sc.valid_from, &sc.valid_to]
        .iter()
        .map(|d| d.as_deref().and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok()))
        .collect();
    for (label, raw, parsed) in [("valid_from", &sc.valid_from, dates[0]), ("valid_to", &sc.valid_to, dates[1])] {
        if raw.is_some() && parsed.is_none() {
            f.errors.push(format!("{what}: {label} is not a date (YYYY-MM-DD)"));
        }
    }
    if let (Some(a), Some(b)) = (dates[0], dates[1])
        && a > b
    {
        f.errors.push(format!("{what}: valid_from {a} is after valid_to {b}"));
    }
    let mut days = Vec::new();
    if let Some(byday) = &sc.byday {
        for d in byday.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match parse_day(d) {
                Some(d) => days.push(d),
                None => f.errors.push(format!("{what}: byday {d:?} is not a day (MO, TU, WE, TH, FR, SA, SU)")),
            }
        }
    }
    if let (Some((_, Some(o))), Some((_, Some(c)))) = (opens, closes) {
        if c <= o {
            f.errors.push(format!(
                "{what}: closes at {} before it opens at {}",
                sc.closes_at.as_deref().unwrap_or(""),
                sc.opens_at.as_deref().unwrap_or("")
            ));
        } else {
            let weekly_or_daily = sc.freq.as_deref().is_none_or(|x| x.eq_ignore_ascii_case("WEEKLY"))
                || sc.freq.as_deref().is_some_and(|x| x.eq_ignore_ascii_case("DAILY"));
            if days.is_empty() && sc.freq.as_deref().is_some_and(|x| x.eq_ignore_ascii_case("DAILY")) {
                days = (0..7).collect();
            }
            if weekly_or_daily {
                for d in days {
                    openings.push(Opening { day: d, opens: o, closes: c });
                }
            }
        }
    }
}
