//! The audit trail: an append-only, hash-chained record of every sign-in (success and failure),
//! every read and change of person-identifiable data, every export and every administrative act.
//!
//! Each event's hash covers its sequence number, its content and the previous event's hash, so
//! altering, removing or reordering any event breaks every link after it; [`verify_chain`] finds
//! the first broken one. Storage keeps events append-only (database triggers) and assigns
//! sequence numbers under a lock, so the chain never forks, even with several instances.

use crate::ids::{OrgId, PersonId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignOut,
    /// A request refused by the permission rules.
    AccessDenied,
    View,
    Search,
    Create,
    Update,
    Export,
    /// Opening a record outside one's legitimate relationship, with a reason.
    BreakGlass,
}

impl AuditAction {
    pub const ALL: [AuditAction; 10] = [
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::SignOut,
        AuditAction::AccessDenied,
        AuditAction::View,
        AuditAction::Search,
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Export,
        AuditAction::BreakGlass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::SignOut => "sign_out",
            AuditAction::AccessDenied => "access_denied",
            AuditAction::View => "view",
            AuditAction::Search => "search",
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Export => "export",
            AuditAction::BreakGlass => "break_glass",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One event, as recorded by the code that caused it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    #[serde(serialize_with = "micros")]
    pub at: DateTime<Utc>,
    /// The signed-in user, if any.
    pub actor_user_id: Option<UserId>,
    /// Who, in words: the user's email, the email tried at a failed sign-in, or `system`.
    pub actor: String,
    /// The actor's roles at the time, comma-separated.
    pub roles: String,
    /// The organisation the event belongs to: the actor's, or the tenant of the record touched.
    pub org_id: Option<OrgId>,
    pub action: AuditAction,
    /// What kind of record: `session`, `person`, `organisation`, `outbox`, `audit`, a route…
    pub record_type: String,
    pub record_id: Option<String>,
    /// The person whose data was touched, for subject access reports.
    pub person_id: Option<PersonId>,
    /// Everyone shown by a list view (caseload, waiting list, search results): one event per
    /// list with its people, instead of one per person, and still found by a subject access
    /// search for any of them. Stored sorted without repeats; left out of the hash when empty,
    /// so events written before it existed verify unchanged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<PersonId>,
    /// The client's address.
    pub source: Option<String>,
    /// Why, where a reason is required (break glass) or useful.
    pub reason: Option<String>,
}

impl AuditEntry {
    /// An entry with the common fields set; adjust the rest with struct update syntax.
    pub fn new(at: DateTime<Utc>, action: AuditAction, record_type: &str) -> Self {
        Self {
            at,
            actor_user_id: None,
            actor: "system".into(),
            roles: String::new(),
            org_id: None,
            action,
            record_type: record_type.into(),
            record_id: None,
            person_id: None,
            people: vec![],
            source: None,
            reason: None,
        }
    }

    /// The entry for a list view showing `people` (sorted, without repeats).
    pub fn listing(mut self, people: impl IntoIterator<Item = PersonId>) -> Self {
        let mut people: Vec<PersonId> = people.into_iter().collect();
        people.sort_unstable();
        people.dedup();
        self.people = people;
        self
    }

    /// Set the actor from a user.
    pub fn by(mut self, user: &crate::access::accounts::User) -> Self {
        self.actor_user_id = Some(user.id);
        self.actor = user.email.as_str().to_owned();
        let mut roles: Vec<&str> = user.roles.iter().map(|g| g.role.as_str()).collect();
        roles.sort_unstable();
        roles.dedup();
        self.roles = roles.join(",");
        self.org_id = Some(user.org_id);
        self
    }
}

/// Timestamps to the microsecond: what both databases keep, so a hash recomputes identically
/// after a round trip.
fn micros<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// A stored event: the entry with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub seq: i64,
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of the event at `seq` with `entry`, following `prev`.
pub fn chain_hash(seq: i64, prev: &str, entry: &AuditEntry) -> String {
    // Canonical form: JSON in a fixed field order (struct order), timestamps to the microsecond.
    #[derive(Serialize)]
    struct Canonical<'a> {
        seq: i64,
        prev: &'a str,
        entry: &'a AuditEntry,
    }
    let canonical = Canonical { seq, prev, entry };
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the audit trail is broken at event {seq}: {reason}")]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// Check a run of events that follows the event with sequence `prev_seq` and hash `prev_hash`.
/// Returns the last sequence number and hash, to continue with the next run.
pub fn verify_chain<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
    prev_seq: i64,
    prev_hash: &str,
) -> Result<(i64, String), BrokenLink> {
    let (mut seq, mut hash) = (prev_seq, prev_hash.to_owned());
    for e in events {
        if e.seq != seq + 1 {
            return Err(BrokenLink {
                seq: seq + 1,
                reason: format!("event {} is missing (found {} next)", seq + 1, e.seq),
            });
        }
        if e.prev_hash != hash {
            return Err(BrokenLink { seq: e.seq, reason: "it does not follow the event before it".into() });
        }
        if chain_hash(e.seq, &hash, &e.entry) != e.hash {
            return Err(BrokenLink { seq: e.seq, reason: "its content was changed after it was written".into() });
        }
        seq = e.seq;
        hash = e.hash.clone();
    }
    Ok((seq, hash))
}

/// A checkpoint of the trail's head kept outside the database (the data folder, and the log):
/// the chain proves nothing was changed in the middle, but deleting its last events (or all
/// of them) leaves a shorter chain that still verifies. An anchor says "the trail had reached
/// `seq` with `hash` at `at`"; a trail that now ends before `seq`, or whose event `seq` has
/// another hash, was cut or rewritten. Each anchor carries a keyed MAC, so whoever can rewrite
/// the database (but not read the key file) cannot forge a shorter anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
    pub mac: String,
}

impl Anchor {
    /// A new anchor, signed with `key`.
    pub fn new(key: &[u8], seq: i64, hash: &str, at: DateTime<Utc>) -> Anchor {
        let mac = anchor_mac(key, seq, hash, at);
        Anchor { seq, hash: hash.to_owned(), at, mac }
    }

    /// Whether the MAC is the one `key` gives.
    pub fn is_signed_by(&self, key: &[u8]) -> bool {
        anchor_mac(key, self.seq, &self.hash, self.at) == self.mac
    }

    /// Check the trail's head and the event stored at this anchor's sequence number (if any)
    /// against the anchor.
    pub fn check(&self, head_seq: i64, hash_at_seq: Option<&str>) -> Result<(), String> {
        if head_seq < self.seq {
            return Err(format!(
                "the trail ends at event {head_seq}, but it had reached event {} on {}: events were deleted",
                self.seq,
                self.at.format("%d %B %Y %H:%M UTC")
            ));
        }
        if hash_at_seq != Some(self.hash.as_str()) {
            return Err(format!(
                "event {} is not the one anchored on {}: the trail was rewritten",
                self.seq,
                self.at.format("%d %B %Y %H:%M UTC")
            ));
        }
        Ok(())
    }
}

/// The anchor's MAC over its fields.
fn anchor_mac(key: &[u8], seq: i64, hash: &str, at: DateTime<Utc>) -> String {
    let message = format!("{seq} {hash} {}", at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    hmac_sha256(key, message.as_bytes())
}

/// HMAC-SHA256 (RFC 2104), as lower-case hex.
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Filters for searching the trail. Searches are always limited to one organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub org_id: Option<OrgId>,
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub person_id: Option<PersonId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only events before this one (a cursor for reading a trail longer than a page).
    pub before_seq: Option<i64>,
    /// At most this many, newest first (the store caps a page at 1,000).
    pub limit: i64,
}

/// Records audit events durably. The web layer awaits `record` before it answers, so an event
/// is committed before the page that caused it is returned; implementations share one commit
/// among concurrent callers (group commit).
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, entries: Vec<AuditEntry>) -> Result<(), AuditError>;
}

/// The audit trail written straight through the store, one append per call: for the command
/// line, where there is one writer and nothing to group (the server uses group commit).
pub struct Direct<'a>(pub &'a dyn crate::ports::AuditStore);

#[async_trait::async_trait]
impl AuditLog for Direct<'_> {
    async fn record(&self, entries: Vec<AuditEntry>) -> Result<(), AuditError> {
        self.0.append_audit(&entries).await.map_err(AuditError::Store)
    }
}

/// Why events could not be recorded. Either way nothing that needed them may go ahead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The store refused or failed the write.
    #[error("audit store: {0}")]
    Store(#[from] crate::ports::StoreError),
    /// The writer that serialises appends has stopped (the process is shutting down).
    #[error("the audit writer has stopped")]
    Stopped,
}

impl AuditError {
    /// Whether trying again later can succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            AuditError::Store(e) => e.is_transient(),
            AuditError::Stopped => true,
        }
    }
}

#[cfg(test)]
mod anchor_tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_test_cases() {
        assert_eq!(
            hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn an_anchor_finds_a_cut_or_rewritten_trail() {
        let at = chrono::DateTime::<Utc>::UNIX_EPOCH;
        let a = Anchor::new(b"secret", 40, "abc", at);
        assert!(a.is_signed_by(b"secret") && !a.is_signed_by(b"other"));
        assert!(Anchor { seq: 39, ..a.clone() }.is_signed_by(b"secret").eq(&false), "a changed anchor fails its MAC");
        assert!(a.check(40, Some("abc")).is_ok());
        assert!(a.check(55, Some("abc")).is_ok(), "the trail grew");
        assert!(a.check(15, None).unwrap_err().contains("deleted"));
        assert!(a.check(0, None).unwrap_err().contains("deleted"), "all of it deleted");
        assert!(a.check(40, Some("xyz")).unwrap_err().contains("rewritten"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(n: u32) -> AuditEntry {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, n).single().unwrap();
        AuditEntry { actor: format!("user{n}@test"), ..AuditEntry::new(at, AuditAction::View, "person") }
    }

    fn chain(n: u32) -> Vec<AuditEvent> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|i| {
                let e = entry(i);
                let hash = chain_hash(i64::from(i), &prev, &e);
                let ev = AuditEvent { seq: i64::from(i), entry: e, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                ev
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_in_pieces() {
        let c = chain(10);
        let (seq, hash) = verify_chain(&c[..4], 0, GENESIS).unwrap();
        assert_eq!(verify_chain(&c[4..], seq, &hash).unwrap().0, 10);
    }

    #[test]
    fn changing_removing_or_reordering_is_found_at_the_first_broken_link() {
        let mut changed = chain(5);
        changed[2].entry.actor = "someone-else@test".into();
        assert_eq!(verify_chain(&changed, 0, GENESIS).unwrap_err().seq, 3);

        let mut removed = chain(5);
        removed.remove(1);
        let err = verify_chain(&removed, 0, GENESIS).unwrap_err();
        assert_eq!(err.seq, 2);
        assert!(err.reason.contains("missing"));

        let mut rehashed = chain(5);
        // Re-hashing one event after editing it still breaks the next link.
        rehashed[1].entry.reason = Some("edited".into());
        rehashed[1].hash = chain_hash(2, &rehashed[1].prev_hash, &rehashed[1].entry);
        assert_eq!(verify_chain(&rehashed, 0, GENESIS).unwrap_err().seq, 3);
    }

    #[test]
    fn list_views_hash_their_people_and_older_events_hash_as_before() {
        let e = entry(1);
        // An event without people hashes exactly as before the field existed.
        assert!(
            !serde_json::to_string(&e).unwrap_or_default().contains("people"),
            "an empty list is left out of the canonical form"
        );
        let (a, b) = (PersonId::new(), PersonId::new());
        let listed = e.clone().listing([b, a, b]);
        assert_eq!(listed.people.len(), 2);
        assert!(listed.people.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert_ne!(chain_hash(1, GENESIS, &e), chain_hash(1, GENESIS, &listed));
        let other = e.clone().listing([a]);
        assert_ne!(chain_hash(1, GENESIS, &listed), chain_hash(1, GENESIS, &other), "who was shown is hashed");
    }

    #[test]
    fn hashes_ignore_sub_microsecond_noise_but_not_content() {
        let e = entry(1);
        let mut nanos = e.clone();
        nanos.at += chrono::Duration::nanoseconds(300);
        assert_eq!(chain_hash(1, GENESIS, &e), chain_hash(1, GENESIS, &nanos));
        let mut other = e.clone();
        other.record_id = Some("x".into());
        assert_ne!(chain_hash(1, GENESIS, &e), chain_hash(1, GENESIS, &other));
    }
}
