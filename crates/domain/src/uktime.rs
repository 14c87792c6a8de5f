//! UK local time. Everything stored is an instant (UTC); everything a person reads or receives,
//! and every "today", is UK local time: GMT in winter, British Summer Time (GMT+1) from 01:00 GMT
//! on the last Sunday of March to 01:00 GMT on the last Sunday of October (the rule since 1998,
//! the same as the EU's). Written here rather than taken from a time-zone database: one zone,
//! one rule, tested either side of both changes, and no tz data to keep up to date in the binary.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};

/// When summer time starts and ends in `year`, as instants.
fn summer(year: i32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let last_sunday = |month: u32| {
        let mut d = NaiveDate::from_ymd_opt(year, month, 31)?;
        while d.weekday() != Weekday::Sun {
            d = d.pred_opt()?;
        }
        Some(d.and_hms_opt(1, 0, 0)?.and_utc())
    };
    Some((last_sunday(3)?, last_sunday(10)?))
}

/// Whether `t` falls in British Summer Time.
pub fn is_summer_time(t: DateTime<Utc>) -> bool {
    summer(t.year()).is_some_and(|(start, end)| t >= start && t < end)
}

/// The UK wall-clock time of an instant.
pub fn to_uk(t: DateTime<Utc>) -> NaiveDateTime {
    let offset = if is_summer_time(t) { Duration::hours(1) } else { Duration::zero() };
    t.naive_utc() + offset
}

/// The instant of a UK wall-clock time. `None` for a time that does not exist (the hour the
/// clocks skip in March); in the hour that happens twice in October, the first (still BST).
pub fn from_uk(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let as_bst = (local - Duration::hours(1)).and_utc();
    let as_gmt = local.and_utc();
    if is_summer_time(as_bst) {
        Some(as_bst)
    } else if is_summer_time(as_gmt) {
        // Neither reading is consistent: the hour skipped in spring.
        None
    } else {
        Some(as_gmt)
    }
}

/// UK local time for the instants people see.
pub trait UkTime {
    /// The UK wall-clock time.
    fn uk(&self) -> NaiveDateTime;
    /// The UK calendar date ("today" is the UK's today, not UTC's).
    fn uk_date(&self) -> NaiveDate;
    /// "GMT" or "BST", for messages that name the zone.
    fn uk_zone(&self) -> &'static str;
}

impl UkTime for DateTime<Utc> {
    fn uk(&self) -> NaiveDateTime {
        to_uk(*self)
    }
    fn uk_date(&self) -> NaiveDate {
        to_uk(*self).date()
    }
    fn uk_zone(&self) -> &'static str {
        if is_summer_time(*self) { "BST" } else { "GMT" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().unwrap()
    }
    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap()
    }

    #[test]
    fn either_side_of_the_spring_change() {
        // 2026: the clocks go forward at 01:00 GMT on Sunday 29 March.
        assert_eq!(to_uk(utc(2026, 3, 29, 0, 59)), local(2026, 3, 29, 0, 59));
        assert_eq!(to_uk(utc(2026, 3, 29, 1, 0)), local(2026, 3, 29, 2, 0));
        assert_eq!(from_uk(local(2026, 3, 29, 0, 30)), Some(utc(2026, 3, 29, 0, 30)));
        assert_eq!(from_uk(local(2026, 3, 29, 1, 30)), None, "01:30 does not happen that night");
        assert_eq!(from_uk(local(2026, 3, 29, 2, 0)), Some(utc(2026, 3, 29, 1, 0)));
        assert_eq!(from_uk(local(2026, 3, 28, 10, 0)), Some(utc(2026, 3, 28, 10, 0)));
        assert_eq!(from_uk(local(2026, 3, 30, 10, 0)), Some(utc(2026, 3, 30, 9, 0)));
    }

    #[test]
    fn either_side_of_the_autumn_change() {
        // 2026: the clocks go back at 01:00 GMT (02:00 BST) on Sunday 25 October.
        assert_eq!(to_uk(utc(2026, 10, 25, 0, 59)), local(2026, 10, 25, 1, 59));
        assert_eq!(to_uk(utc(2026, 10, 25, 1, 0)), local(2026, 10, 25, 1, 0));
        assert_eq!(from_uk(local(2026, 10, 25, 1, 30)), Some(utc(2026, 10, 25, 0, 30)), "the first 01:30");
        assert_eq!(from_uk(local(2026, 10, 25, 2, 30)), Some(utc(2026, 10, 25, 2, 30)));
        assert_eq!(from_uk(local(2026, 10, 24, 10, 0)), Some(utc(2026, 10, 24, 9, 0)));
        assert_eq!(from_uk(local(2026, 10, 26, 10, 0)), Some(utc(2026, 10, 26, 10, 0)));
    }

    #[test]
    fn a_july_morning_is_summer_time_and_round_trips() {
        let t = from_uk(local(2026, 7, 14, 10, 0)).unwrap();
        assert_eq!(t, utc(2026, 7, 14, 9, 0));
        assert_eq!((t.uk(), t.uk_zone()), (local(2026, 7, 14, 10, 0), "BST"));
        assert_eq!(utc(2026, 12, 1, 10, 0).uk_zone(), "GMT");
        // Just after midnight in summer the UK date is already tomorrow's.
        assert_eq!(utc(2026, 7, 14, 23, 30).uk_date(), NaiveDate::from_ymd_opt(2026, 7, 15).unwrap());
        for h in 0..24 {
            let l = local(2026, 6, 1, h, 15);
            assert_eq!(from_uk(l).map(to_uk), Some(l), "{l}");
        }
    }
}
