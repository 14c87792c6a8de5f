//! Sign-in throttling. Failed attempts are counted per account (the email typed, whether or not
//! an account has it, so locking reveals nothing) and per client address, in a sliding window.
//! Too many on an account locks it for a while; an administrator can lift the lock sooner. Too
//! many from one address blocks that address for a while, whichever accounts it tries.
//!
//! An attempt is counted *before* the work it guards (hashing a password, storing a
//! self-referral): [`ThrottleState::admit`] reserves a place under the limit atomically in
//! storage, and a successful sign-in gives its place back with [`ThrottleState::released`].
//! Checking first and counting afterwards would let parallel attempts all pass the check.

use chrono::{DateTime, Duration, Utc};

/// The counting window.
pub const WINDOW: Duration = Duration::minutes(15);
/// Failures on one account within the window that lock it.
pub const ACCOUNT_LIMIT: i32 = 10;
/// How long an account stays locked unless an administrator unlocks it.
pub const ACCOUNT_LOCK: Duration = Duration::hours(1);
/// Failures from one address within the window that block it.
pub const ADDRESS_LIMIT: i32 = 50;
/// How long an address stays blocked.
pub const ADDRESS_BLOCK: Duration = Duration::minutes(15);

/// Self-referrals accepted from one address within the window before it is blocked: enough for
/// a household, too few for a flood.
pub const SELF_REFERRAL_LIMIT: i32 = 5;
/// How long an address that sent too many self-referrals is blocked.
pub const SELF_REFERRAL_BLOCK: Duration = Duration::hours(1);
/// Questionnaire links that fail to open (unknown, expired or used) per address in a window,
/// before the address is blocked: a person mistyping a link gets many tries, a guesser few.
pub const LINK_LIMIT: i32 = 20;
pub const LINK_BLOCK: Duration = Duration::minutes(30);

/// The key for an account: the normalised email.
pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

/// The key for a client address.
pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// The stored state of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleState {
    pub key: String,
    pub failures: i32,
    pub window_started_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl ThrottleState {
    /// Whether the key is locked at `now`.
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }

    /// The limit and lock length for a key, by its kind.
    fn limits(key: &str) -> (i32, Duration) {
        if key.starts_with("address:") {
            (ADDRESS_LIMIT, ADDRESS_BLOCK)
        } else if key.starts_with("selfref:") {
            (SELF_REFERRAL_LIMIT, SELF_REFERRAL_BLOCK)
        } else if key.starts_with("qlink:") {
            (LINK_LIMIT, LINK_BLOCK)
        } else {
            (ACCOUNT_LIMIT, ACCOUNT_LOCK)
        }
    }

    /// Reserve a place for one attempt at `now`: `None` if the key is locked (the attempt must
    /// not go ahead and is not counted), otherwise the state with the attempt counted, locked
    /// when it reaches the limit. Storage applies this under a lock so concurrent attempts queue.
    pub fn admit(prev: Option<&ThrottleState>, key: &str, now: DateTime<Utc>) -> Option<ThrottleState> {
        if prev.is_some_and(|p| p.is_locked(now)) {
            return None;
        }
        Some(Self::after_failure(prev, key, now))
    }

    /// Give back the place an attempt reserved, because it succeeded. A success starts the
    /// count again (people expect that after a typo or two) unless the key stays locked
    /// without this attempt's place. Because places are reserved before the work, a success
    /// can only clear what was reserved alongside it: without the password nobody gets more
    /// than the limit's worth of attempts per lock, however many run in parallel.
    pub fn released(mut self, now: DateTime<Utc>) -> ThrottleState {
        let (limit, _) = Self::limits(&self.key);
        self.failures = (self.failures - 1).max(0);
        if self.failures < limit {
            self.failures = 0;
            self.window_started_at = now;
            self.locked_until = None;
        }
        self
    }

    /// The state after one more failure at `now`.
    pub fn after_failure(prev: Option<&ThrottleState>, key: &str, now: DateTime<Utc>) -> ThrottleState {
        let (limit, lock) = Self::limits(key);
        let fresh = ThrottleState { key: key.to_owned(), failures: 0, window_started_at: now, locked_until: None };
        let mut s = match prev {
            // A lock that has run out, or a window that has closed, starts again from nothing.
            Some(p) if p.is_locked(now) => p.clone(),
            Some(p) if p.locked_until.is_none() && now - p.window_started_at < WINDOW => p.clone(),
            _ => fresh,
        };
        s.failures += 1;
        if s.failures >= limit && !s.is_locked(now) {
            s.locked_until = Some(now + lock);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).single().unwrap()
    }

    #[test]
    fn an_account_locks_at_the_limit_and_unlocks_after_the_lock() {
        let key = account_key(" Amy@Example.NHS.uk ");
        assert_eq!(key, "account:amy@example.nhs.uk");
        let mut s: Option<ThrottleState> = None;
        for i in 1..=ACCOUNT_LIMIT {
            let next = ThrottleState::after_failure(s.as_ref(), &key, t0() + Duration::seconds(i.into()));
            assert_eq!(next.is_locked(t0() + Duration::seconds(i.into())), i == ACCOUNT_LIMIT, "after {i} failures");
            s = Some(next);
        }
        let locked = s.unwrap();
        assert!(locked.is_locked(t0() + Duration::minutes(59)));
        assert!(!locked.is_locked(t0() + Duration::minutes(61)));
        let again = ThrottleState::after_failure(Some(&locked), &key, t0() + Duration::minutes(61));
        assert_eq!(again.failures, 1, "a spent lock starts a new count");
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let key = account_key("a@b.test");
        let mut s = ThrottleState::after_failure(None, &key, t0());
        for i in 1..30 {
            s = ThrottleState::after_failure(Some(&s), &key, t0() + Duration::minutes(16 * i));
        }
        assert_eq!(s.failures, 1);
        assert!(!s.is_locked(t0() + Duration::minutes(16 * 30)));
    }

    #[test]
    fn admitting_counts_first_and_refuses_past_the_limit() {
        let key = account_key("race@example.test");
        let mut s: Option<ThrottleState> = None;
        let mut admitted = 0;
        for _ in 0..60 {
            if let Some(next) = ThrottleState::admit(s.as_ref(), &key, t0()) {
                admitted += 1;
                s = Some(next);
            }
        }
        assert_eq!(admitted, ACCOUNT_LIMIT, "only the limit's worth of attempts go ahead");
        let locked = s.unwrap();
        assert!(locked.is_locked(t0()));
        // One of the admitted attempts was right: it gives its place back and starts again.
        let after = locked.released(t0());
        assert_eq!((after.failures, after.is_locked(t0())), (0, false));
        let typo = ThrottleState::admit(None, &key, t0()).unwrap();
        assert_eq!(typo.released(t0()).failures, 0);
    }

    #[test]
    fn addresses_have_a_higher_limit_and_a_shorter_block() {
        let key = address_key("203.0.113.7");
        let mut s = None;
        for _ in 0..ADDRESS_LIMIT - 1 {
            s = Some(ThrottleState::after_failure(s.as_ref(), &key, t0()));
        }
        assert!(!s.as_ref().unwrap().is_locked(t0()));
        let blocked = ThrottleState::after_failure(s.as_ref(), &key, t0());
        assert!(blocked.is_locked(t0() + Duration::minutes(14)) && !blocked.is_locked(t0() + Duration::minutes(16)));
    }
}
