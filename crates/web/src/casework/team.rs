//! Micro-discretions made visible (domain.md 3.2): each team's settings (accepted referral
//! needs and ages, areas, exclusions, default contact length, mode and place, usual number of
//! contacts, allowed places) and each worker's practice profile computed from their contacts,
//! which the worker sees and their supervisor can discuss with them. Never a league table: a
//! supervisor opens one colleague's profile at a time, and no page ranks workers.

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use linkwork_domain::access::accounts::{Role, User};
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::organisations::Team;
use linkwork_domain::casework::{
    ContactLocation, ContactMode, NORM_CONTACTS_PER_PERSON, NORM_PEOPLE_PER_YEAR, NeedDomain, PracticeProfile,
    TeamSettings, parse_number, practice_profile,
};
use linkwork_domain::ids::{TeamId, UserId};
use linkwork_domain::ports::StoreError;
use linkwork_domain::uktime::UkTime;

struct TeamRow {
    id: String,
    name: String,
    summary: Vec<(&'static str, String)>,
    members: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "casework/team.html")]
struct TeamPage {
    nav: Nav,
    teams: Vec<TeamRow>,
    supervise: bool,
}

fn or_any(v: String) -> String {
    if v.is_empty() { "Any".into() } else { v }
}

fn describe(s: &TeamSettings) -> Vec<(&'static str, String)> {
    vec![
        ("Accepted needs", or_any(s.accepted_needs.iter().map(|n| n.label()).collect::<Vec<_>>().join(", "))),
        (
            "Ages",
            format!(
                "{} to {}",
                s.min_age.map_or("any".into(), |a| a.to_string()),
                s.max_age.map_or("any".into(), |a| a.to_string())
            ),
        ),
        ("Areas (postcode districts)", or_any(s.areas.join(", "))),
        ("Exclusions", if s.exclusions.is_empty() { "None".into() } else { s.exclusions.join("; ") }),
        (
            "Usual contact",
            format!("{} minutes, {}, {}", s.default_minutes, s.default_mode.label(), s.default_location.label()),
        ),
        ("Usual contacts before a review", s.usual_contacts.to_string()),
        ("Places", or_any(s.allowed_locations.iter().map(|l| l.label()).collect::<Vec<_>>().join(", "))),
        ("Follow up after", format!("{} days", s.follow_up_days)),
        (
            "Outcome measures",
            if s.outcome_instruments.is_empty() {
                "None".into()
            } else {
                format!(
                    "{}: a baseline at the first contacts, then a review every {} weeks",
                    s.outcome_instruments
                        .iter()
                        .map(|i| linkwork_domain::outcomes::short_name(*i))
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.outcome_review_weeks
                )
            },
        ),
    ]
}

/// The teams a user may manage: their own teams; administrators, every team of their
/// organisation.
async fn manageable(state: &AppState, user: &User) -> Result<Vec<Team>, AppError> {
    let all = state.store.list_teams(user.org_id).await?;
    if user.has_role(Role::Administrator) {
        return Ok(all);
    }
    let mine = state.store.user_teams(user.id).await?;
    Ok(all.into_iter().filter(|t| mine.contains(&t.id)).collect())
}

pub(crate) async fn overview(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    axum::extract::Query(done): axum::extract::Query<crate::pages::Done>,
) -> Result<Response, AppError> {
    let supervise = user.has_role(Role::Manager);
    let users = state.store.list_org_users(user.org_id).await?;
    let mut teams = vec![];
    for t in manageable(&state, &user).await? {
        let settings = state.store.team_settings(user.org_id, t.id).await?;
        let mut members = vec![];
        if supervise {
            for u in &users {
                if u.id != user.id && state.store.user_teams(u.id).await?.contains(&t.id) {
                    members.push((u.id.to_string(), u.display_name.clone()));
                }
            }
        }
        teams.push(TeamRow { id: t.id.to_string(), name: t.name, summary: describe(&settings), members });
    }
    Ok(Html(TeamPage { nav: Nav::for_user(&user).done(&done), teams, supervise }.render()?).into_response())
}

fn settings_fields(s: &TeamSettings) -> Vec<Field> {
    let mut needs = Field::of("checkboxes", "accepted_needs", "Referral needs the team accepts")
        .hint("Leave all unticked to accept any. Referrals outside these are flagged at triage, not refused.")
        .options(NeedDomain::options());
    needs.values = s.accepted_needs.iter().map(|n| n.as_str().to_owned()).collect();
    let mut places = Field::of("checkboxes", "allowed_locations", "Places the team usually works")
        .hint("Leave all unticked for anywhere. A contact elsewhere is marked outside usual criteria.")
        .options(ContactLocation::options());
    places.values = s.allowed_locations.iter().map(|l| l.as_str().to_owned()).collect();
    let mut measures = Field::of("checkboxes", "outcome_instruments", "Outcome measures the team uses").hint(
        "Each falls due at the first contacts (baseline) and then for review, and shows on the caseload when it is due.",
    );
    measures.options = linkwork_domain::outcomes::instruments::ALL
        .iter()
        .filter(|x| x.is_asked_of_people())
        .map(|x| (x.instrument.as_str().to_owned(), x.instrument.label().to_owned()))
        .collect();
    measures.values = s.outcome_instruments.iter().map(|i| i.as_str().to_owned()).collect();
    vec![
        needs,
        Field::of("number", "min_age", "Youngest age accepted (optional)")
            .value(s.min_age.map(|a| a.to_string()).unwrap_or_default()),
        Field::of("number", "max_age", "Oldest age accepted (optional)")
            .value(s.max_age.map(|a| a.to_string()).unwrap_or_default()),
        Field::of("text", "areas", "Postcode districts served (optional)")
            .hint("Separated by commas, like LS8, LS9")
            .value(s.areas.join(", ")),
        Field::of("textarea", "exclusions", "Words that mark a referral the team does not take (optional)")
            .hint("One per line, for example: crisis. Shown at triage as advice.")
            .value(s.exclusions.join("\n")),
        Field::of("number", "default_minutes", "Usual contact length in minutes").value(s.default_minutes.to_string()),
        Field::of("radios", "default_mode", "Usual way of meeting")
            .options(ContactMode::options())
            .value(s.default_mode.as_str()),
        Field::of("radios", "default_location", "Usual place")
            .options(ContactLocation::options())
            .value(s.default_location.as_str()),
        Field::of("number", "usual_contacts", "Usual number of contacts before a review")
            .value(s.usual_contacts.to_string()),
        places,
        Field::of("number", "follow_up_days", "Days to the next contact, by default")
            .value(s.follow_up_days.to_string()),
        measures,
        Field::of("number", "outcome_review_weeks", "Weeks from one outcome measure to the next review")
            .value(s.outcome_review_weeks.to_string()),
    ]
}

async fn team_for(state: &AppState, user: &User, id: &str) -> Result<Team, AppError> {
    let id = id.parse::<TeamId>().map_err(|_| AppError::NotFound)?;
    manageable(state, user).await?.into_iter().find(|t| t.id == id).ok_or(AppError::NotFound)
}

fn settings_form(user: &User, team: &Team, s: &TeamSettings) -> FormPage {
    FormPage {
        nav: Nav::for_user(user),
        title: "Team settings",
        intro: vec![
            "These make the team's choices explicit: they guide triage and fill in contact forms. They advise; link workers still decide.",
        ],
        action: format!("/teams/{}/settings", team.id),
        submit: "Save settings",
        fields: settings_fields(s),
        errors: vec![],
        extras: FormExtras {
            hidden: vec![("version", s.version.to_string())],
            summary: vec![("Team".into(), team.name.clone())],
            back: Some("/team".into()),
            ..FormExtras::default()
        },
    }
}

pub(crate) async fn settings_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let team = team_for(&state, &user, &id).await?;
    let s = state.store.team_settings(user.org_id, team.id).await?;
    settings_form(&user, &team, &s).respond()
}

fn optional_age(f: &FormData, name: &str) -> Result<Option<i32>, String> {
    let v = f.get(name);
    if v.trim().is_empty() { Ok(None) } else { parse_number(&v, 0, 120, "age").map(Some).map_err(|e| e.0) }
}

pub(crate) async fn save_settings(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, AppError> {
    let team = team_for(&state, &user, &id).await?;
    let current = state.store.team_settings(user.org_id, team.id).await?;
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    let mut page = settings_form(&user, &team, &current);
    f.refill(&mut page.fields);
    page.extras.hidden = vec![("version", version.to_string())];
    let mut s = TeamSettings { version, ..current };
    macro_rules! take {
        ($field:literal, $e:expr) => {
            match $e {
                Ok(v) => Some(v),
                Err(e) => {
                    page.error($field, e);
                    None
                }
            }
        };
    }
    let needs = take!(
        "accepted_needs",
        f.all("accepted_needs").iter().map(|n| n.parse::<NeedDomain>()).collect::<Result<Vec<_>, _>>().map_err(|e| e.0)
    );
    let places = take!(
        "allowed_locations",
        f.all("allowed_locations")
            .iter()
            .map(|n| n.parse::<ContactLocation>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.0)
    );
    let min_age = take!("min_age", optional_age(&f, "min_age"));
    let max_age = take!("max_age", optional_age(&f, "max_age"));
    let mut areas = vec![];
    for a in f.get("areas").split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let a = a.to_uppercase();
        if a.len() > 4
            || !a.chars().all(|c| c.is_ascii_alphanumeric())
            || !a.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            page.error("areas", format!("{a} is not a postcode district: use the first part of a postcode, like LS8"));
        } else {
            areas.push(a);
        }
    }
    let exclusions: Vec<String> =
        f.get("exclusions").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if exclusions.iter().any(|e| e.chars().count() > 60) || exclusions.len() > 50 {
        page.error("exclusions", "Keep to 50 exclusions of 60 characters or fewer each");
    }
    let minutes = take!(
        "default_minutes",
        parse_number(&f.get("default_minutes"), 5, 240, "usual contact length").map_err(|e| e.0)
    );
    let mode = take!("default_mode", f.get("default_mode").parse::<ContactMode>().map_err(|e| e.0));
    let location = take!("default_location", f.get("default_location").parse::<ContactLocation>().map_err(|e| e.0));
    let usual = take!(
        "usual_contacts",
        parse_number(&f.get("usual_contacts"), 1, 100, "usual number of contacts").map_err(|e| e.0)
    );
    let follow =
        take!("follow_up_days", parse_number(&f.get("follow_up_days"), 1, 180, "number of days").map_err(|e| e.0));
    let instruments = take!(
        "outcome_instruments",
        f.all("outcome_instruments")
            .iter()
            .map(|n| n.parse::<linkwork_domain::outcomes::Instrument>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.0)
    );
    // Left empty, the review interval stays as it was.
    let review_weeks = match f.get("outcome_review_weeks").trim() {
        "" => Some(s.outcome_review_weeks),
        typed => take!("outcome_review_weeks", parse_number(typed, 2, 52, "number of weeks").map_err(|e| e.0)),
    };
    if let (Some(Some(lo)), Some(Some(hi))) = (min_age, max_age)
        && lo > hi
    {
        page.error("max_age", "The oldest age must not be below the youngest");
    }
    let (
        Some(needs),
        Some(places),
        Some(min_age),
        Some(max_age),
        Some(minutes),
        Some(mode),
        Some(location),
        Some(usual),
        Some(follow),
        Some(instruments),
        Some(review_weeks),
        true,
    ) = (
        needs,
        places,
        min_age,
        max_age,
        minutes,
        mode,
        location,
        usual,
        follow,
        instruments,
        review_weeks,
        page.errors.is_empty(),
    )
    else {
        return page.respond();
    };
    s.accepted_needs = needs;
    s.allowed_locations = places;
    s.min_age = min_age;
    s.max_age = max_age;
    s.areas = areas;
    s.exclusions = exclusions;
    s.default_minutes = minutes;
    s.default_mode = mode;
    s.default_location = location;
    s.usual_contacts = usual;
    s.follow_up_days = follow;
    s.outcome_instruments = instruments;
    s.outcome_review_weeks = review_weeks;
    match state.store.save_team_settings(&s).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("the team's settings"),
        Err(e) => return Err(e.into()),
    }
    state
        .audit(vec![AuditEntry {
            record_id: Some(team.id.to_string()),
            source,
            ..AuditEntry::new(state.clock.now(), AuditAction::Update, "team_settings").by(&user)
        }])
        .await?;
    Ok(crate::pages::after("/team", "team-settings").into_response())
}

#[derive(Template)]
#[template(path = "casework/profile.html")]
struct ProfilePage {
    nav: Nav,
    whose: String,
    own: bool,
    p: PracticeProfile,
    holding_open: usize,
    people_norm: (i64, i64),
    contacts_norm: (i64, i64),
}

async fn profile_for(state: &AppState, viewer: &User, worker: &User) -> Result<Response, AppError> {
    let since = state.clock.now().uk_date() - chrono::Duration::days(365);
    let contacts = state.store.worker_contacts(viewer.org_id, worker.id, since).await?;
    let teams = state.store.user_teams(worker.id).await?;
    let caseload = state.store.caseload(viewer.org_id, &teams, Some(worker.id), state.clock.now()).await?;
    let page = ProfilePage {
        nav: Nav::for_user(viewer),
        whose: worker.display_name.clone(),
        own: viewer.id == worker.id,
        p: practice_profile(&contacts),
        holding_open: caseload.iter().filter(|c| c.holding()).count(),
        people_norm: NORM_PEOPLE_PER_YEAR,
        contacts_norm: NORM_CONTACTS_PER_PERSON,
    };
    Ok(Html(page.render()?).into_response())
}

/// A worker's own practice profile.
pub(crate) async fn my_profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, AppError> {
    profile_for(&state, &user, &user).await
}

/// A supervisor looks at one colleague's profile: someone in a team they share.
pub(crate) async fn member_profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = id.parse::<UserId>().map_err(|_| AppError::NotFound)?;
    let worker = state.store.get_user(id).await.map_err(|_| AppError::NotFound)?;
    let mine = state.store.user_teams(user.id).await?;
    let theirs = state.store.user_teams(worker.id).await?;
    if worker.org_id != user.org_id || !theirs.iter().any(|t| mine.contains(t)) {
        return Err(AppError::NotFound);
    }
    state
        .audit(vec![AuditEntry {
            record_id: Some(worker.id.to_string()),
            source,
            ..AuditEntry::new(state.clock.now(), AuditAction::View, "practice_profile").by(&user)
        }])
        .await?;
    profile_for(&state, &user, &worker).await
}
