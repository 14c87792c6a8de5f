//! Password hashing with Argon2id (the OWASP-recommended parameters are the crate defaults:
//! 19 MiB, 2 passes). Hashing is deliberately slow, so callers run it off the async threads.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hash a password for storage.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Check a password against a stored hash. A malformed hash never verifies.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A real hash of an unguessable value, verified against when an account does not exist so the
/// response takes as long as for a real account and reveals nothing.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
}

/// Why a new password was refused (NCSC: length over complexity, no common passwords).
pub fn check_new_password(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < 12 {
        return Err("Enter a password of at least 12 characters: three random words work well");
    }
    if password.chars().count() > 256 {
        return Err("Enter a password of 256 characters or fewer");
    }
    let lower = password.to_lowercase();
    if COMMON.iter().any(|c| lower == *c) || lower.chars().all(|c| lower.starts_with(c)) {
        return Err("Choose a password that is harder to guess: this one is too common");
    }
    Ok(())
}

/// A short deny-list of passwords of 12+ characters that appear in breach corpora.
const COMMON: &[&str] = &[
    "password1234",
    "123456789012",
    "qwertyuiopas",
    "passwordpassword",
    "letmeinletmein",
    "iloveyou1234",
    "administrator",
    "welcome12345",
    "password12345",
    "password123!",
    "qwerty123456",
    "changemenow1",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn dummy_hash_parses_and_rejects() {
        assert!(PasswordHash::new(dummy_hash()).is_ok());
        assert!(!verify("", dummy_hash()));
    }

    #[test]
    fn new_password_rules() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("Password1234").is_err());
        assert!(check_new_password("aaaaaaaaaaaaaa").is_err());
        assert!(check_new_password("kettle orbit lantern").is_ok());
    }
}
