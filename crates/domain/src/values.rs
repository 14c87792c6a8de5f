//! Validated values, parsed once at the edge ("parse, don't validate"): once a value of one of
//! these types exists it is known to be well formed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was rejected. The message is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn invalid(msg: &str) -> InvalidValue {
    InvalidValue(msg.to_owned())
}

/// What kind of text a field holds, for [`check_text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// One line: a name, a code, an address line. No line breaks.
    Line,
    /// Several lines: a reason, a note, a description.
    Lines,
}

/// The one text guard every way in uses (forms and JSON get it at the edge for NUL and UTF-8;
/// imports and feeds per field): no NUL or other control characters (line breaks and tabs only
/// where the field holds several lines), and at most `max_chars` characters. PostgreSQL cannot
/// store NUL, control characters corrupt exports and logs, and no person types them.
pub fn check_text(s: &str, kind: TextKind, max_chars: usize) -> Result<(), InvalidValue> {
    let allowed = |c: char| kind == TextKind::Lines && matches!(c, '\n' | '\r' | '\t');
    if s.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(match kind {
            TextKind::Line if s.contains(['\n', '\r']) => invalid("Remove the line break: this field holds one line"),
            _ => invalid("Remove the control character (a NUL or similar): it cannot be stored"),
        });
    }
    if s.chars().count() > max_chars {
        return Err(InvalidValue(format!("Keep it to {max_chars} characters or fewer")));
    }
    Ok(())
}

/// An NHS number: ten digits whose last is a modulus-11 check digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Parse an NHS number, allowing the usual spaces or hyphens (`943 476 5919`).
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("Enter an NHS number of 10 digits, like 943 476 5919"));
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        if Self::check_digit(&d[..9]) != Some(d[9]) {
            return Err(invalid("Enter a valid NHS number: the check digit does not match"));
        }
        Ok(Self(digits))
    }

    /// The modulus-11 check digit for the first nine digits, or `None` when the remainder gives
    /// 10, which no valid number uses.
    pub fn check_digit(nine: &[u32]) -> Option<u32> {
        let sum: u32 = nine.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        match 11 - (sum % 11) {
            11 => Some(0),
            10 => None,
            c => Some(c),
        }
    }

    /// True for the 999 range reserved for testing.
    pub fn is_test_number(&self) -> bool {
        self.0.starts_with("999")
    }

    /// The ten digits, no spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Formatted for people: `943 476 5919`.
    pub fn formatted(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<NhsNumber> for String {
    fn from(n: NhsNumber) -> String {
        n.0
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

/// An email address, lower-cased. Deliberately loose: one `@`, something either side, a dot in
/// the domain, no spaces. Deliverability is proven by sending, not by regex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parse an email address.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let s = input.trim().to_lowercase();
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(s.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@'));
        if ok {
            Ok(Self(s))
        } else {
            Err(invalid("Enter an email address in the correct format, like name@example.nhs.uk"))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An NHS Organisation Data Service code (e.g. `QWE` for an ICB, `U12345` for a PCN, `A81001`
/// for a practice): 3 to 10 letters and digits, stored upper-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OdsCode(String);

impl OdsCode {
    /// Parse an ODS code.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let s = input.trim().to_uppercase();
        if (3..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(s))
        } else {
            Err(invalid("Enter an ODS code of 3 to 10 letters and numbers, like A81001"))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OdsCode {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OdsCode> for String {
    fn from(c: OdsCode) -> String {
        c.0
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A UK postcode, normalised to upper case with one space before the inward code (`LS1 4AP`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(String);

impl Postcode {
    /// Parse a postcode. Checks the shape (outward code of 2–4 characters starting with a letter,
    /// inward code of a digit and two letters), not that it exists.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        let err = || invalid("Enter a full UK postcode, like LS1 4AP");
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(err());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let ib = inward.as_bytes();
        let inward_ok = ib[0].is_ascii_digit() && ib[1].is_ascii_alphabetic() && ib[2].is_ascii_alphabetic();
        let ob = outward.as_bytes();
        let outward_ok = ob[0].is_ascii_alphabetic()
            && ob.iter().all(u8::is_ascii_alphanumeric)
            && ob.iter().any(u8::is_ascii_digit);
        if inward_ok && outward_ok { Ok(Self(format!("{outward} {inward}"))) } else { Err(err()) }
    }

    /// The outward code (`LS1` of `LS1 4AP`): the postcode district.
    pub fn outward(&self) -> &str {
        self.0.split(' ').next().unwrap_or(&self.0)
    }

    /// The normalised postcode.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Postcode {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Postcode> for String {
    fn from(p: Postcode) -> String {
        p.0
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn the_text_guard_refuses_control_characters_and_long_text() {
        assert!(check_text("Ada Okafor", TextKind::Line, 100).is_ok());
        assert!(check_text("Line one\nline two", TextKind::Lines, 100).is_ok());
        assert!(check_text("Ada\nOkafor", TextKind::Line, 100).unwrap_err().0.contains("line break"));
        assert!(check_text("Ada\rOkafor", TextKind::Line, 100).is_err());
        assert!(check_text("A\0B", TextKind::Lines, 100).unwrap_err().0.contains("control character"));
        assert!(check_text("A\u{1b}[31mB", TextKind::Lines, 100).is_err(), "terminal escapes too");
        assert!(check_text(&"x".repeat(101), TextKind::Line, 100).unwrap_err().0.contains("100 characters"));
        assert!(check_text(&"é".repeat(100), TextKind::Line, 100).is_ok(), "characters, not bytes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_number_accepts_valid_and_formats() {
        let n = NhsNumber::parse("943 476 5919").unwrap();
        assert_eq!(n.as_str(), "9434765919");
        assert_eq!(n.formatted(), "943 476 5919");
        assert!(!n.is_test_number());
        assert!(NhsNumber::parse("999-000-0018").is_ok_and(|n| n.is_test_number()));
    }

    #[test]
    fn nhs_number_rejects_bad_check_digit_length_and_letters() {
        assert!(NhsNumber::parse("9434765918").is_err());
        assert!(NhsNumber::parse("943476591").is_err());
        assert!(NhsNumber::parse("94347659190").is_err());
        assert!(NhsNumber::parse("943476591A").is_err());
    }

    #[test]
    fn nhs_number_remainder_ten_is_never_valid() {
        // 123456788?: weights give remainder 1 => check 10, so no tenth digit makes it valid.
        let nine = [1, 2, 3, 4, 5, 6, 7, 8, 8];
        if NhsNumber::check_digit(&nine).is_none() {
            for last in 0..10 {
                assert!(NhsNumber::parse(&format!("123456788{last}")).is_err());
            }
        }
        // And the function really does return None for some prefix.
        let any_none = (0..1000u32).any(|i| {
            let nine = [9, 9, 9, 0, 0, 0, i / 100, (i / 10) % 10, i % 10];
            NhsNumber::check_digit(&nine).is_none()
        });
        assert!(any_none);
    }

    #[test]
    fn email_is_lowercased_and_checked() {
        assert_eq!(Email::parse(" Amy.Link@Example.NHS.uk ").unwrap().as_str(), "amy.link@example.nhs.uk");
        for bad in ["", "no-at", "a@b", "a b@c.d", "@c.d", "a@.c", "a@c.", "a\u{0}b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn ods_code_and_postcode() {
        assert_eq!(OdsCode::parse("a81001").unwrap().as_str(), "A81001");
        assert!(OdsCode::parse("A8").is_err());
        assert!(OdsCode::parse("A81-001").is_err());
        assert_eq!(Postcode::parse("ls14ap").unwrap().as_str(), "LS1 4AP");
        assert_eq!(Postcode::parse("SW1A 1AA").unwrap().as_str(), "SW1A 1AA");
        assert!(Postcode::parse("LS1").is_err());
        assert!(Postcode::parse("123 4AP").is_err());
    }
}
