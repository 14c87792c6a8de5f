//! The only place the system reads the wall clock. Everything else asks a [`Clock`], so tests can
//! move time (session expiry, job leases, reminders) without sleeping. `clippy.toml` forbids
//! `Utc::now()` elsewhere.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use std::sync::Mutex;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned reading of the wall clock
    fn now(&self) -> DateTime<Utc> {
        // Microseconds: what PostgreSQL keeps, so a value read back equals the value written
        // on both backends.
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that stands still until told to move. For tests and reproducible demo data.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock fixed at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at.trunc_subsecs(6)))
    }

    /// Move the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().unwrap_or_default();
        let c = FixedClock::new(start);
        assert_eq!(c.now(), start);
        c.advance(Duration::minutes(90));
        assert_eq!(c.now(), start + Duration::minutes(90));
    }
}
