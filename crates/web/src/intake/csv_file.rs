//! Reading a referrals CSV file: its columns (ours, and the names GP systems' searches export),
//! the text guard on every cell, the row limit, and a template to start from. Every problem is
//! reported by row and column; nothing is stored here.

use linkwork_domain::intake::RawReferral;
use linkwork_domain::values::{TextKind, check_text};

/// The most rows one import takes.
pub const MAX_ROWS: usize = 20_000;
/// Columns that may hold several lines; every other cell is one line.
const MULTILINE: [&str; 3] = ["reason", "tried", "address"];
/// The longest cell accepted (the referral's own rules then apply their field limits).
const CELL_LIMIT: usize = 5_000;

/// The columns a file may have; the first five are required (a professional's referral records
/// the person's consent).
pub const COLUMNS: &[&str] = &[
    "given_name",
    "family_name",
    "date_of_birth",
    "reason",
    "consent",
    "nhs_number",
    "address",
    "postcode",
    "phone",
    "email",
    "contact_by",
    "language",
    "interpreter",
    "gender",
    "ethnicity",
    "needs",
    "urgency",
    "tried",
    "source",
    "referrer_name",
    "practice",
];

/// A problem with one row (row 1 is the header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "Row {}: {}", self.row, self.message)
        } else {
            write!(f, "Row {}, {}: {}", self.row, self.column, self.message)
        }
    }
}

fn yes(s: &str) -> Result<bool, ()> {
    match s.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" | "" => Ok(false),
        _ => Err(()),
    }
}

/// How many of [`COLUMNS`] every file must have.
const REQUIRED: usize = 5;

/// Other names for our columns, as the searches of GP systems (EMIS Web, SystmOne) and
/// spreadsheets export them, after lower-casing and turning spaces and hyphens into underscores.
const ALIASES: &[(&str, &str)] = &[
    ("forename", "given_name"),
    ("first_name", "given_name"),
    ("given_names", "given_name"),
    ("surname", "family_name"),
    ("last_name", "family_name"),
    ("nhs_no", "nhs_number"),
    ("nhs_no.", "nhs_number"),
    ("dob", "date_of_birth"),
    ("birth_date", "date_of_birth"),
    ("post_code", "postcode"),
    ("full_address", "address"),
    ("telephone", "phone"),
    ("telephone_number", "phone"),
    ("phone_number", "phone"),
    ("mobile", "phone"),
    ("mobile_telephone", "phone"),
    ("mobile_number", "phone"),
    ("email_address", "email"),
    ("sex", "gender"),
    ("ethnic_origin", "ethnicity"),
    ("ethnic_category", "ethnicity"),
    ("main_language", "language"),
    ("preferred_language", "language"),
    ("reason_for_referral", "reason"),
    ("referral_reason", "reason"),
    ("consent_to_refer", "consent"),
    ("consent_given", "consent"),
    ("usual_gp_practice", "practice"),
    ("practice_code", "practice"),
    ("registered_practice", "practice"),
    ("ods_code", "practice"),
    ("referrer", "referrer_name"),
];

/// A header as our column name: lower case, spaces and hyphens as underscores, known aliases
/// mapped.
fn column_name(header: &str) -> String {
    let h = header.trim().to_lowercase().replace([' ', '-'], "_");
    ALIASES.iter().find(|(alias, _)| *alias == h).map_or(h, |(_, ours)| (*ours).to_owned())
}

/// A file to start from: the header row, then one example row (a fictitious person with an NHS
/// number from the range reserved for testing).
pub fn template() -> String {
    let example = [
        "Ada",
        "Okafor",
        "02/05/1948",
        "Lonely since her husband died; stopped going out",
        "yes",
        "943 476 5919",
        "4 Kentmere Avenue",
        "LS14 6AB",
        "07700 900123",
        "",
        "text",
        "English",
        "no",
        "female",
        "",
        "loneliness;bereavement",
        "routine",
        "Church lunch club",
        "gp",
        "Dr Khan",
        "",
    ];
    debug_assert_eq!(example.len(), COLUMNS.len());
    format!(
        "{}\r\n{}\r\n",
        COLUMNS.join(","),
        example.map(|c| if c.contains(',') { format!("\"{c}\"") } else { c.to_owned() }).join(",")
    )
}

/// Read a CSV file into raw referrals, checking its shape (header, columns, row count).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<RawReferral>, Vec<RowError>> {
    let mut errors = vec![];
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).map_err(|_| {
        vec![RowError {
            row: 1,
            column: String::new(),
            message: "The file is not UTF-8 text: save it as CSV UTF-8".into(),
        }]
    })?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(column_name).collect(),
        Err(e) => {
            return Err(vec![RowError {
                row: 1,
                column: String::new(),
                message: format!("The header row cannot be read: {e}"),
            }]);
        }
    };
    for h in &headers {
        if !COLUMNS.contains(&h.as_str()) {
            errors.push(RowError {
                row: 1,
                column: h.clone(),
                message: format!("Unknown column; use only: {}", COLUMNS.join(", ")),
            });
        }
    }
    for required in &COLUMNS[..REQUIRED] {
        if !headers.iter().any(|h| h == required) {
            let message = if *required == "consent" {
                "This column is required: write yes for each person who agreed to be referred".into()
            } else {
                "This column is required".into()
            };
            errors.push(RowError { row: 1, column: (*required).into(), message });
        }
    }
    let mut seen = std::collections::HashSet::new();
    for h in &headers {
        if !seen.insert(h.as_str()) {
            errors.push(RowError {
                row: 1,
                column: h.clone(),
                message: "This column appears twice (perhaps under two names): keep one".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = vec![];
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        if rows.len() >= MAX_ROWS {
            return Err(vec![RowError {
                row,
                column: String::new(),
                message: format!("Import at most {MAX_ROWS} rows at a time"),
            }]);
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { row, column: String::new(), message: format!("The row cannot be read ({e})") });
                continue;
            }
        };
        // The same text guard as every other way in: uploads do not pass the form layer's.
        for (h, cell) in headers.iter().zip(record.iter()) {
            let kind = if MULTILINE.contains(&h.as_str()) { TextKind::Lines } else { TextKind::Line };
            if let Err(e) = check_text(cell, kind, CELL_LIMIT) {
                errors.push(RowError { row, column: h.clone(), message: e.0 });
            }
        }
        let get =
            |name: &str| headers.iter().position(|h| h == name).and_then(|i| record.get(i)).unwrap_or("").to_owned();
        let mut flag = |name: &str| match yes(&get(name)) {
            Ok(b) => b,
            Err(()) => {
                errors.push(RowError { row, column: name.into(), message: "Write yes or no".into() });
                false
            }
        };
        let consent = flag("consent");
        let interpreter = flag("interpreter");
        rows.push(RawReferral {
            nhs_number: get("nhs_number"),
            given_name: get("given_name"),
            family_name: get("family_name"),
            date_of_birth: get("date_of_birth"),
            address: get("address"),
            postcode: get("postcode"),
            phone: get("phone"),
            email: get("email"),
            contact_by: get("contact_by"),
            language: get("language"),
            interpreter,
            gender: get("gender"),
            ethnicity: get("ethnicity"),
            reason: get("reason"),
            needs: get("needs").split([';', '|']).map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect(),
            urgency: get("urgency"),
            consent,
            tried: get("tried"),
            source: get("source"),
            referrer_name: get("referrer_name"),
            team_id: String::new(),
            // The GP practice's ODS code; `import` turns it into the practice's id.
            practice_id: get("practice"),
        });
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            row: 2,
            column: String::new(),
            message: "The file has no rows under the header".into(),
        });
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_shape_is_checked_before_any_row() {
        let errs = parse_csv(b"given_name,family_name,colour\nA,B,red\n").unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert_eq!(errs[0].column, "colour");
        let rows = parse_csv(
            "\u{FEFF}Given name,Family name,Date of birth,Reason,Needs,Consent\nAda,Okafor,02/05/1948,\"Lonely, since\",loneliness; bereavement,yes\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].reason, "Lonely, since");
        assert_eq!(rows[0].needs, ["loneliness", "bereavement"]);
        assert!(rows[0].consent);
        let errs =
            parse_csv(b"given_name,family_name,date_of_birth,reason,consent\nA,B,1990-01-01,x,perhaps\n").unwrap_err();
        assert_eq!(errs[0].to_string(), "Row 2, consent: Write yes or no");
        assert!(parse_csv(b"given_name,family_name,date_of_birth,reason\n").is_err(), "no rows");
    }
}
