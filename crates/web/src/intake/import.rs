//! Bulk import of referrals from CSV (for example a search exported from a GP system): every row
//! is validated as the referral form would be; any problem in any row is reported by row and
//! column and nothing is imported; otherwise everything is imported in one transaction. Shared
//! by the web page and `linkwork import referrals`.

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormExtras, FormPage, MessagePage, SummaryError};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::ids::{OrgId, TeamId, UserId};
use linkwork_domain::intake::referrals::Referral;
use linkwork_domain::intake::{Channel, RawReferral, parse_referral};
use linkwork_domain::people::Person;
use linkwork_domain::ports::{Store, StoreError};
use linkwork_domain::usecases::intake::resolve_person;
use linkwork_domain::values::{TextKind, check_text};
use std::collections::HashMap;

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

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub referrals: usize,
    pub new_people: usize,
    pub existing_people: usize,
}

/// Why an import did not happen.
#[derive(Debug)]
pub enum ImportError {
    /// Problems in the file: nothing was imported.
    Rows(Vec<RowError>),
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
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

/// Validate every row and import all of them in one transaction, or none.
pub async fn import(
    store: &dyn Store,
    tenant: OrgId,
    team: Option<TeamId>,
    by: Option<UserId>,
    now: DateTime<Utc>,
    raws: &[RawReferral],
) -> Result<(ImportReport, Vec<Referral>), ImportError> {
    let mut errors = vec![];
    let mut intakes = vec![];
    let practices: Vec<linkwork_domain::access::organisations::Organisation> = store
        .child_orgs(tenant)
        .await?
        .into_iter()
        .filter(|o| o.kind == linkwork_domain::access::organisations::OrgKind::Practice)
        .collect();
    for (i, raw) in raws.iter().enumerate() {
        let mut raw = raw.clone();
        let ods = raw.practice_id.trim().to_uppercase();
        if !ods.is_empty() {
            match practices.iter().find(|p| p.ods_code.as_ref().is_some_and(|c| c.as_str() == ods)) {
                Some(p) => raw.practice_id = p.id.to_string(),
                None => {
                    errors.push(RowError {
                        row: i + 2,
                        column: "practice".into(),
                        message: format!("No GP practice of the service has the ODS code {ods}"),
                    });
                    continue;
                }
            }
        }
        match parse_referral(&raw, tenant, now, Channel::Professional) {
            Ok(intake) => intakes.push(intake),
            Err(fields) => errors.extend(fields.into_iter().map(|f| RowError {
                row: i + 2,
                column: f.field.into(),
                message: f.message,
            })),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut report = ImportReport::default();
    let mut people: Vec<Person> = vec![];
    // The same person twice in one file (NHS number, name and date of birth) is one new person;
    // the same NHS number with another identity is not joined up (see `resolve_person`).
    let mut seen: HashMap<String, Person> = HashMap::new();
    let mut referrals = vec![];
    for mut intake in intakes {
        let key = intake.person.nhs_number.as_ref().map(|n| n.as_str().to_owned());
        let same = key.as_ref().and_then(|k| seen.get(k)).filter(|p| {
            linkwork_domain::people::likely_duplicate(&intake.person, p)
                == Some(linkwork_domain::people::DuplicateReason::SameNhsNumber)
        });
        if let Some(p) = same {
            intake.referral.person_id = p.id;
            report.existing_people += 1;
        } else {
            match resolve_person(store, &mut intake).await? {
                Some(new) => {
                    if let Some(k) = key {
                        seen.entry(k).or_insert_with(|| new.clone());
                    }
                    people.push(new);
                    report.new_people += 1;
                }
                None => report.existing_people += 1,
            }
        }
        intake.referral.team_id = team;
        intake.referral.referred_by = by;
        referrals.push(intake.referral);
    }
    store.import_referrals(&people, &referrals).await?;
    report.referrals = referrals.len();
    Ok((report, referrals))
}

async fn import_form(state: &AppState, user: &User) -> Result<FormPage, AppError> {
    let mut team = Field::of("select", "team_id", "Team the referrals go to");
    team.options = std::iter::once((String::new(), "Any team (decided at triage)".to_owned()))
        .chain(state.store.list_teams(user.org_id).await?.into_iter().map(|t| (t.id.to_string(), t.name)))
        .collect();
    Ok(FormPage {
        nav: Nav::for_user(user),
        title: "Import referrals from a file",
        intro: vec![
            "Upload a CSV file with a header row. Required columns: given_name, family_name, date_of_birth, reason, and consent (yes for each person who agreed to be referred). Optional: nhs_number, address, postcode, phone, email, contact_by, language, interpreter, gender, ethnicity, needs (separated by ;), urgency, tried, source, referrer_name, practice (the GP practice's ODS code).",
            "The column names that EMIS Web and SystmOne searches export are understood too (for example Forename, Surname, NHS Number, Date of Birth, Postcode).",
            "Every row is checked first. If any row has a problem, nothing is imported and each problem is listed.",
        ],
        action: "/referrals/import".into(),
        submit: "Import",
        fields: vec![Field::of("file", "file", "CSV file"), team],
        errors: vec![],
        extras: FormExtras {
            multipart: true,
            back: Some("/triage".into()),
            links: vec![("Download a template file (CSV)", "/referrals/import/template.csv")],
            ..FormExtras::default()
        },
    })
}

pub(crate) async fn page(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    import_form(&state, &user).await?.respond()
}

/// `GET /referrals/import/template.csv`: the file to start from.
pub(crate) async fn template_csv() -> Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"linkwork-referrals-template.csv\""),
        ],
        template(),
    )
        .into_response()
}

/// Errors shown in the summary at the most; the count of the rest follows.
const SHOWN: usize = 100;

pub(crate) async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut page = import_form(&state, &user).await?;
    let (mut file, mut team_raw) = (None, String::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("The upload could not be read. Try again.".into()))?
    {
        match field.name() {
            Some("file") => {
                file = Some(
                    field
                        .bytes()
                        .await
                        .map_err(|_| AppError::BadRequest("The file could not be read. Try again.".into()))?,
                )
            }
            Some("team_id") => team_raw = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    page.fields[1].value = team_raw.clone();
    let team = if team_raw.is_empty() {
        None
    } else {
        match team_raw.parse::<TeamId>().ok().filter(|t| page.offers("team_id", &t.to_string())) {
            Some(t) => Some(t),
            None => {
                page.error("team_id", "Choose a team from the list");
                return page.respond();
            }
        }
    };
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        page.error("file", "Choose a CSV file to upload");
        return page.respond();
    };
    let now = state.clock.now();
    let result = match parse_csv(&bytes) {
        Ok(raws) => import(state.store.as_ref(), user.org_id, team, Some(user.id), now, &raws).await,
        Err(rows) => Err(ImportError::Rows(rows)),
    };
    match result {
        Ok((report, referrals)) => {
            let events = referrals
                .iter()
                .map(|r| AuditEntry {
                    person_id: Some(r.person_id),
                    record_id: Some(r.id.to_string()),
                    source: source.clone(),
                    reason: Some("bulk import".into()),
                    ..AuditEntry::new(now, AuditAction::Create, "referral").by(&user)
                })
                .collect();
            state.audit(events).await?;
            MessagePage {
                nav: Nav::for_user(&user),
                title: "Referrals imported",
                paragraphs: vec![
                    format!(
                        "{} referrals imported (people new to the service: {}; already known by NHS number: {}). They are on the waiting list.",
                        report.referrals, report.new_people, report.existing_people
                    )
                    .into(),
                ],
                link: Some(("Go to the waiting list", "/triage")),
            }
            .respond(StatusCode::OK)
        }
        Err(ImportError::Rows(rows)) => {
            let total = rows.len();
            for r in rows.iter().take(SHOWN) {
                page.errors.push(SummaryError { field: "file", message: r.to_string() });
            }
            if total > SHOWN {
                page.errors
                    .push(SummaryError { field: "file", message: format!("and {} more problems", total - SHOWN) });
            }
            page.fields[0].error =
                Some(format!("{total} problems found: nothing was imported. Correct the file and upload it again."));
            page.respond()
        }
        Err(ImportError::Store(e)) => Err(e.into()),
    }
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
