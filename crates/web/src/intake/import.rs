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
use std::collections::HashMap;

pub use super::csv_file::{COLUMNS, MAX_ROWS, RowError, parse_csv, template};

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
            links: vec![("Download a template file (CSV)".into(), "/referrals/import/template.csv".into())],
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
