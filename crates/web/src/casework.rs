//! Working with a person: the record page, and every casework form on it (details, the
//! safeguarding flag, merging duplicates, "what matters to you", the plan's goals and their
//! reviews, contacts, holding, appointments, barriers, discharge) plus the caseload and search.
//!
//! Every route here reaches a person through [`authorise`]: tenant first (another
//! organisation's person is a 404), then the legitimate relationship (team caseload or a
//! break-glass grant). Every read of a person is an audited view; every change an audited
//! create or update, written before the answer.

use crate::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage, PersonContext};
use crate::pages::Nav;
use crate::people::{find_person, grant_for, person_teams, viewed};
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveDateTime};
use linkwork_domain::accounts::User;
use linkwork_domain::audit::{AuditAction, AuditEntry};
use linkwork_domain::casework::{
    Appointment, AppointmentStatus, Barrier, BarrierCode, BarrierKind, CaseloadItem, Contact, ContactLocation,
    ContactMode, DischargeReason, Episode, EpisodeWork, Goal, GoalReview, GoalStatus, HoldingEnd, HoldingPeriod,
    HoldingReason, NORM_CONTACTS_PER_PERSON, NORM_PEOPLE_PER_YEAR, Need, NeedDomain, REMINDER_BEFORE, parse_date,
    parse_number, parse_words,
};
use linkwork_domain::ids::{AppointmentId, BarrierId, ContactId, EpisodeId, GoalId, HoldingId, NeedId, PersonId};
use linkwork_domain::intake::{Channel, RawReferral, parse_referral};
use linkwork_domain::jobs::NewJob;
use linkwork_domain::people::{ContactChannel, Ethnicity, Gender, Person, likely_duplicate, optional_text};
use linkwork_domain::permissions::in_caseload;
use linkwork_domain::ports::{Discharge, PeopleQuery, StoreError};
use linkwork_domain::referrals::Referral;
use linkwork_domain::uktime::UkTime;
use linkwork_domain::values::{NhsNumber, Postcode};
use tower_sessions::Session;

use linkwork_domain::notifications::APPOINTMENT_REMINDER_JOB;

/// Open a person for casework: within the tenant, and in the team's caseload or under a
/// break-glass grant. Anything else is refused without a word about the person.
pub(crate) async fn authorise(
    state: &AppState,
    user: &User,
    session: &Session,
    person_id: &str,
) -> Result<Person, AppError> {
    let (person, referrals) = find_person(state, user, person_id).await?;
    let teams = person_teams(state, user, person.id, &referrals).await?;
    if in_caseload(&state.store.user_teams(user.id).await?, &teams)
        || grant_for(state, session, person.id).await?.is_some()
    {
        Ok(person)
    } else {
        Err(AppError::Forbidden)
    }
}

/// An episode and its person, authorised.
async fn episode_access(
    state: &AppState,
    user: &User,
    session: &Session,
    episode_id: &str,
) -> Result<(Episode, Person), AppError> {
    let id = episode_id.parse::<EpisodeId>().map_err(|_| AppError::NotFound)?;
    let episode = state.store.get_episode(user.org_id, id).await?;
    let person = authorise(state, user, session, &episode.person_id.to_string()).await?;
    Ok((episode, person))
}

/// One audit event for a list view, naming everyone it shows.
pub(crate) fn listed(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    what: &str,
    people: impl IntoIterator<Item = PersonId>,
) -> AuditEntry {
    AuditEntry { source: source.clone(), ..AuditEntry::new(state.clock.now(), AuditAction::View, what).by(user) }
        .listing(people)
}

fn changed(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    person: PersonId,
    what: &str,
    id: String,
) -> AuditEntry {
    AuditEntry {
        person_id: Some(person),
        record_id: Some(id),
        source: source.clone(),
        ..AuditEntry::new(state.clock.now(), AuditAction::Update, what).by(user)
    }
}

fn created(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    person: PersonId,
    what: &str,
    id: String,
) -> AuditEntry {
    AuditEntry { action: AuditAction::Create, ..changed(state, user, source, person, what, id) }
}

fn back_to(person: &Person) -> Response {
    Redirect::to(&format!("/people/{}", person.id)).into_response()
}

fn date(d: NaiveDate) -> String {
    d.format("%d %b %Y").to_string()
}

fn form(
    user: &User,
    person: &Person,
    title: &'static str,
    action: String,
    submit: &'static str,
    fields: Vec<Field>,
) -> FormPage {
    FormPage {
        nav: Nav::for_user(user),
        title,
        intro: vec![],
        action,
        submit,
        fields,
        errors: vec![],
        extras: FormExtras {
            context: Some(PersonContext::of(person)),
            back: Some(format!("/people/{}", person.id)),
            ..FormExtras::default()
        },
    }
}

/// A casework form about an episode: its title, address (`/episodes/{id}/{step}`) and button,
/// declared once for the page that shows it and the handler that takes it.
struct EpisodeForm {
    title: &'static str,
    step: &'static str,
    submit: &'static str,
}

impl EpisodeForm {
    fn page(&self, user: &User, e: &Episode, p: &Person, fields: Vec<Field>) -> FormPage {
        form(user, p, self.title, format!("/episodes/{}/{}", e.id, self.step), self.submit, fields)
    }
}

const APPOINTMENT_FORM: EpisodeForm = EpisodeForm { title: "Book an appointment", step: "appointment", submit: "Book" };
const BARRIER_FORM: EpisodeForm = EpisodeForm { title: "Record a barrier", step: "barrier", submit: "Save" };
const CONTACT_FORM: EpisodeForm = EpisodeForm { title: "Record a contact", step: "contact", submit: "Save contact" };
const DISCHARGE_FORM: EpisodeForm =
    EpisodeForm { title: "Discharge", step: "discharge", submit: "Discharge and send the summary" };
const GOAL_FORM: EpisodeForm = EpisodeForm { title: "Add a goal to the plan", step: "goal", submit: "Add goal" };
const HOLDING_FORM: EpisodeForm = EpisodeForm { title: "Start holding", step: "holding", submit: "Start holding" };
const NEED_FORM: EpisodeForm = EpisodeForm { title: "What matters to you", step: "need", submit: "Save" };
const WORK_FORM: EpisodeForm = EpisodeForm { title: "Change the episode", step: "work", submit: "Save" };

// ---- The record ----------------------------------------------------------------------------

struct GoalView {
    id: String,
    domain: &'static str,
    words: String,
    steps: String,
    status: &'static str,
    progress: i32,
    reviews: Vec<String>,
}

struct ContactView {
    date: String,
    minutes: i32,
    mode: &'static str,
    location: &'static str,
    present: String,
    notes: String,
    outside_usual: bool,
}

struct HoldingView {
    id: String,
    reason: &'static str,
    started: String,
    review: String,
    review_due: bool,
    days: i64,
    for_supervision: bool,
    ended: Option<String>,
    note: String,
}

struct AppointmentView {
    id: String,
    when: String,
    minutes: i32,
    mode: &'static str,
    location: &'static str,
    status: &'static str,
    booked: bool,
}

struct EpisodeView {
    id: String,
    open: bool,
    work: &'static str,
    holding: bool,
    worker: String,
    opened: String,
    follow_up: Option<String>,
    overdue: bool,
    closed: Option<String>,
    discharge: Option<&'static str>,
    needs: Vec<(&'static str, String)>,
    goals: Vec<GoalView>,
    contacts: Vec<ContactView>,
    minutes: i64,
    holdings: Vec<HoldingView>,
    appointments: Vec<AppointmentView>,
    barriers: Vec<(&'static str, &'static str, String)>,
}

struct ReferralView {
    received: String,
    source: &'static str,
    reason: String,
    status: &'static str,
    id: String,
    waiting: bool,
}

#[derive(Template)]
#[template(path = "person.html")]
struct RecordPage {
    nav: Nav,
    context: Option<PersonContext>,
    person_id: String,
    details: Vec<(&'static str, String)>,
    safeguarding: String,
    merged_into: Option<String>,
    break_glass_reason: Option<String>,
    duplicates: Vec<(String, String, &'static str)>,
    referrals: Vec<ReferralView>,
    episodes: Vec<EpisodeView>,
    codes: Vec<(String, String, String)>,
    connections: Vec<crate::connections::ConnectionView>,
}

async fn episode_view(state: &AppState, user: &User, e: &Episode, today: NaiveDate) -> Result<EpisodeView, AppError> {
    let org = user.org_id;
    let needs = state.store.needs(org, e.id).await?;
    let goals = state.store.goals(org, e.id).await?;
    let reviews = state.store.goal_reviews(org, e.id).await?;
    let contacts = state.store.contacts(org, e.id).await?;
    let holdings = state.store.holdings(org, e.id).await?;
    let appointments = state.store.appointments(org, e.id).await?;
    let barriers = state.store.barriers(org, e.id).await?;
    let worker = match e.worker_id {
        Some(w) => state.store.get_user(w).await.map(|u| u.display_name).unwrap_or_else(|_| "Unknown".into()),
        None => "Not assigned".into(),
    };
    Ok(EpisodeView {
        id: e.id.to_string(),
        open: e.is_open(),
        work: e.work.label(),
        holding: holdings.iter().any(|h| h.ended_on.is_none()),
        worker,
        opened: date(e.opened_at.uk_date()),
        follow_up: e.follow_up_on.map(date),
        overdue: e.follow_up_on.is_some_and(|d| d < today),
        closed: e.closed_at.map(|c| date(c.uk_date())),
        discharge: e.discharge_reason.map(|d| d.label()),
        needs: needs.into_iter().map(|n| (n.domain.label(), n.own_words)).collect(),
        goals: goals
            .into_iter()
            .map(|g| GoalView {
                id: g.id.to_string(),
                domain: g.domain.label(),
                words: g.own_words,
                steps: g.steps,
                status: g.status.label(),
                progress: g.progress,
                reviews: reviews
                    .iter()
                    .filter(|r| r.goal_id == g.id)
                    .map(|r| {
                        format!(
                            "{}: {} ({}/10){}",
                            date(r.at.uk_date()),
                            r.status.label(),
                            r.progress,
                            if r.note.is_empty() { String::new() } else { format!(". {}", r.note) }
                        )
                    })
                    .collect(),
            })
            .collect(),
        minutes: contacts.iter().map(|c| i64::from(c.minutes)).sum(),
        contacts: contacts
            .into_iter()
            .map(|c| ContactView {
                date: date(c.happened_on),
                minutes: c.minutes,
                mode: c.mode.label(),
                location: c.location.label(),
                present: c.present,
                notes: c.notes,
                outside_usual: c.outside_usual,
            })
            .collect(),
        holdings: holdings
            .into_iter()
            .map(|h| HoldingView {
                id: h.id.to_string(),
                reason: h.reason.label(),
                started: date(h.started_on),
                review: date(h.review_on),
                review_due: h.review_due(today),
                days: h.days(today),
                for_supervision: h.for_supervision(today),
                ended: h.ended_on.map(|d| format!("{} ({})", date(d), h.ended_how.map_or("", |x| x.label()))),
                note: h.note,
            })
            .collect(),
        appointments: appointments
            .into_iter()
            .map(|a| AppointmentView {
                id: a.id.to_string(),
                when: a.starts_at.uk().format("%a %d %b %Y, %H:%M").to_string(),
                minutes: a.minutes,
                mode: a.mode.label(),
                location: a.location.label(),
                status: a.status.label(),
                booked: a.status == AppointmentStatus::Booked,
            })
            .collect(),
        barriers: barriers.into_iter().map(|b| (b.kind.label(), b.code.label(), b.note)).collect(),
    })
}

/// The person's record: details, duplicates, referrals, episodes with all their casework.
/// The caller has authorised and audited the view of the person; the possible duplicates it
/// names are audited here, as a list view.
pub(crate) async fn record_page(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    person: Person,
    referrals: Vec<Referral>,
    break_glass_reason: Option<String>,
) -> Result<Response, AppError> {
    let today = state.clock.now().uk_date();
    let duplicates: Vec<(PersonId, String, &'static str)> = if person.merged_into.is_none() {
        state
            .store
            .duplicate_candidates(user.org_id, person.nhs_number.as_ref(), person.date_of_birth)
            .await?
            .into_iter()
            .filter_map(|c| likely_duplicate(&person, &c).map(|why| (c.id, c.full_name(), why.label())))
            .collect()
    } else {
        vec![]
    };
    if !duplicates.is_empty() {
        // Naming another record is a view of it.
        state.audit(vec![listed(state, user, source, "duplicates", duplicates.iter().map(|d| d.0))]).await?;
    }
    let duplicates: Vec<(String, String, &'static str)> =
        duplicates.into_iter().map(|(id, name, why)| (id.to_string(), name, why)).collect();
    let episodes = state.store.person_episodes(user.org_id, person.id).await?;
    let mut views = vec![];
    for e in &episodes {
        views.push(episode_view(state, user, e, today).await?);
    }
    let codes = state
        .store
        .coded_events(user.org_id, person.id)
        .await?
        .into_iter()
        .map(|c| (date(c.recorded_at.uk_date()), c.code, c.term))
        .collect();
    let p = &person;
    let practice = match p.practice_id {
        Some(id) => state.store.get_org(id).await.map(|o| o.name).unwrap_or_default(),
        None => "Not known".into(),
    };
    let details = vec![
        ("GP practice", practice),
        ("NHS number", p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "Not known".into())),
        ("Date of birth", format!("{} (age {})", p.date_of_birth.format("%d %B %Y"), p.age_on(today))),
        (
            "Address",
            format!("{} {}", p.address, p.postcode.as_ref().map(|c| c.to_string()).unwrap_or_default())
                .trim()
                .to_owned(),
        ),
        ("Phone", p.phone.clone().unwrap_or_default()),
        ("Email", p.email.clone().unwrap_or_default()),
        ("Contact by", p.contact_by.label().to_owned()),
        ("Language", format!("{}{}", p.language, if p.interpreter { " (interpreter needed)" } else { "" })),
        ("Gender", p.gender.label().to_owned()),
        ("Ethnic group", p.ethnicity.label().to_owned()),
    ];
    let page = RecordPage {
        nav: Nav::for_user(user),
        context: Some(PersonContext::of(p)),
        person_id: p.id.to_string(),
        details,
        safeguarding: p.safeguarding.clone().unwrap_or_default(),
        merged_into: p.merged_into.map(|m| m.to_string()),
        break_glass_reason,
        duplicates,
        referrals: referrals
            .iter()
            .map(|r| ReferralView {
                received: date(r.received_at.uk_date()),
                source: r.source.label(),
                reason: r.reason.clone(),
                status: r.status.label(),
                id: r.id.to_string(),
                waiting: r.status == linkwork_domain::referrals::ReferralStatus::Received,
            })
            .collect(),
        episodes: views,
        codes,
        connections: crate::connections::person_connections(state, user.org_id, &person).await?,
    };
    Ok(Html(page.render()?).into_response())
}

// ---- Details, safeguarding, merge ----------------------------------------------------------

async fn details_form(state: &AppState, user: &User, person: &Person) -> Result<FormPage, AppError> {
    let practices = crate::referrals::practice_options(state, user.org_id).await?;
    Ok(form(
        user,
        person,
        "Change details",
        format!("/people/{}/details", person.id),
        "Save details",
        details_fields(person, practices),
    ))
}

fn details_fields(p: &Person, practices: Vec<(String, String)>) -> Vec<Field> {
    let mut practice = Field::of("select", "practice_id", "GP practice");
    practice.options = practices;
    practice.value = p.practice_id.map(|o| o.to_string()).unwrap_or_default();
    vec![
        practice,
        Field::of("text", "given_name", "First name").value(&p.given_name),
        Field::of("text", "family_name", "Last name").value(&p.family_name),
        Field::of("date", "date_of_birth", "Date of birth").value(p.date_of_birth.format("%Y-%m-%d").to_string()),
        Field::of("text", "nhs_number", "NHS number")
            .value(p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_default()),
        Field::of("textarea", "address", "Address").value(&p.address),
        Field::of("text", "postcode", "Postcode").value(p.postcode.as_ref().map(|c| c.to_string()).unwrap_or_default()),
        Field::of("tel", "phone", "Phone number").value(p.phone.clone().unwrap_or_default()),
        Field::of("email", "email", "Email address").value(p.email.clone().unwrap_or_default()),
        Field::of("radios", "contact_by", "Contact by").options(ContactChannel::options()).value(p.contact_by.as_str()),
        Field::of("text", "language", "Preferred language").value(&p.language),
        Field::of("checkbox", "interpreter", "An interpreter is needed").value(if p.interpreter { "yes" } else { "" }),
        Field::of("select", "gender", "Gender").options(Gender::options()).value(p.gender.as_str()),
        Field::of("select", "ethnicity", "Ethnic group").options(Ethnicity::options()).value(p.ethnicity.as_str()),
    ]
}

pub(crate) async fn details_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let person = authorise(&state, &user, &session, &id).await?;
    state.audit(vec![viewed(&state, &user, &source, person.id, "person_details")]).await?;
    let mut page = details_form(&state, &user, &person).await?;
    page.extras.hidden.push(("version", person.version.to_string()));
    page.respond()
}

pub(crate) async fn save_details(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let person = authorise(&state, &user, &session, &id).await?;
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    // The same validation as a referral's person; the referral part is not being edited.
    let raw = RawReferral {
        reason: "details".into(),
        consent: true,
        source: String::new(),
        needs: vec![],
        ..crate::referrals::raw_from_form(&f)
    };
    let mut page = details_form(&state, &user, &person).await?;
    f.refill(&mut page.fields);
    if !page.offers("practice_id", f.get("practice_id").trim()) && !f.get("practice_id").trim().is_empty() {
        page.error("practice_id", "Choose a GP practice from the list");
        return page.respond();
    }
    page.extras.hidden.push(("version", version.to_string()));
    let parsed = match parse_referral(&raw, user.org_id, state.clock.now(), Channel::Professional) {
        Ok(i) => i.person,
        Err(errors) => {
            page.field_errors(errors);
            return page.respond();
        }
    };
    let updated = Person {
        id: person.id,
        org_id: person.org_id,
        version,
        created_at: person.created_at,
        safeguarding: person.safeguarding.clone(),
        merged_into: person.merged_into,
        ..parsed
    };
    match state.store.update_person(&updated).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this person's details"),
        Err(e) => return Err(e.into()),
    }
    state.audit(vec![changed(&state, &user, &source, person.id, "person", person.id.to_string())]).await?;
    Ok(back_to(&person))
}

pub(crate) async fn safeguarding(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let person = authorise(&state, &user, &session, &id).await?;
    let concern = match optional_text(&f.get("concern"), 1000, "safeguarding concern") {
        Ok(c) => c,
        Err(e) => {
            // Keep what was typed: a safeguarding note is the last thing to lose.
            let mut page = form(
                &user,
                &person,
                "Safeguarding concern",
                format!("/people/{}/safeguarding", person.id),
                "Save safeguarding concern",
                vec![Field::of("textarea", "concern", "Safeguarding concern").value(f.get("concern")).hint(
                    "Shown on every page of this person's record. Leave empty to clear it. Follow your organisation's safeguarding procedure as well.",
                )],
            );
            page.error("concern", e.0);
            return page.respond();
        }
    };
    state.store.set_safeguarding(user.org_id, person.id, concern.clone()).await?;
    let mut entry = changed(&state, &user, &source, person.id, "safeguarding", person.id.to_string());
    entry.reason = Some(if concern.is_some() {
        "safeguarding concern recorded".into()
    } else {
        "safeguarding concern cleared".into()
    });
    state.audit(vec![entry]).await?;
    Ok(back_to(&person))
}

/// Confirming a merge: both records side by side, and what will happen.
fn merge_form(user: &User, kept: &Person, merged: &Person) -> FormPage {
    let mut page = form(
        user,
        kept,
        "Merge duplicate records",
        format!("/people/{}/merge/{}", kept.id, merged.id),
        "Merge the records",
        vec![Field::of("checkbox", "confirm", "I have checked these are the same person")],
    );
    let describe = |p: &Person| {
        format!(
            "{}, born {}, NHS number {}, {}",
            p.full_name(),
            p.date_of_birth.format("%d %b %Y"),
            p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "not known".into()),
            p.postcode.as_ref().map(|c| c.to_string()).unwrap_or_else(|| "no postcode".into())
        )
    };
    page.extras.summary = vec![("Keep".into(), describe(kept)), ("Merge into it".into(), describe(merged))];
    page.extras.notices = vec![
        "The second record's referrals, episodes, appointments and codes move to the first. The second record is kept, marked as merged, and the merge is in the audit trail.".into(),
    ];
    page
}

pub(crate) async fn merge_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path((id, other)): Path<(String, String)>,
) -> Result<Response, AppError> {
    // Merging moves one record's casework into the other: the worker needs access to both
    // (caseload or break glass), or a merge would open a protected record without either.
    let kept = authorise(&state, &user, &session, &id).await?;
    let merged = authorise(&state, &user, &session, &other).await?;
    if likely_duplicate(&kept, &merged).is_none() {
        return Err(AppError::NotFound);
    }
    state
        .audit(vec![
            viewed(&state, &user, &source, kept.id, "merge"),
            viewed(&state, &user, &source, merged.id, "merge"),
        ])
        .await?;
    merge_form(&user, &kept, &merged).respond()
}

pub(crate) async fn merge(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path((id, other)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let kept = authorise(&state, &user, &session, &id).await?;
    let merged = authorise(&state, &user, &session, &other).await?;
    if likely_duplicate(&kept, &merged).is_none() {
        return Err(AppError::NotFound);
    }
    let mut page = merge_form(&user, &kept, &merged);
    if !f.checked("confirm") {
        page.error("confirm", "Confirm you have checked these are the same person");
        return page.respond();
    }
    match state.store.merge_people(user.org_id, kept.id, merged.id).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            page.error("confirm", "Both records have an open episode: discharge one before merging");
            return page.respond();
        }
        Err(e) => return Err(e.into()),
    }
    let mut a = changed(&state, &user, &source, kept.id, "person_merge", kept.id.to_string());
    a.reason = Some(format!("merged record {} into this one", merged.id));
    let mut b = changed(&state, &user, &source, merged.id, "person_merge", merged.id.to_string());
    b.reason = Some(format!("merged into record {}", kept.id));
    state.audit(vec![a, b]).await?;
    Ok(back_to(&kept))
}

// ---- What matters, goals -------------------------------------------------------------------

fn need_fields() -> Vec<Field> {
    vec![
        Field::of("radios", "domain", "What is it about?").options(NeedDomain::options()),
        Field::of("textarea", "own_words", "What matters to the person, in their own words")
            .hint("Write what they said, as they said it"),
    ]
}

pub(crate) async fn need_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    NEED_FORM.page(&user, &e, &p, need_fields()).respond()
}

pub(crate) async fn add_need(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let mut page = NEED_FORM.page(&user, &e, &p, need_fields());
    f.refill(&mut page.fields);
    let domain = f.get("domain").parse::<NeedDomain>();
    let words = parse_words(&f.get("own_words"), 2000, "what matters to the person");
    if let Err(err) = &domain {
        page.error(
            "domain",
            if f.get("domain").is_empty() { "Choose what it is about".to_owned() } else { err.0.clone() },
        );
    }
    if let Err(err) = &words {
        page.error("own_words", err.0.clone());
    }
    let (Ok(domain), Ok(own_words)) = (domain, words) else { return page.respond() };
    let need = Need {
        id: NeedId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        domain,
        own_words,
        recorded_at: state.clock.now(),
        recorded_by: Some(user.id),
    };
    state.store.add_need(&need).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "need", need.id.to_string())]).await?;
    Ok(back_to(&p))
}

fn goal_fields() -> Vec<Field> {
    vec![
        Field::of("select", "domain", "Area of life").options(NeedDomain::options()),
        Field::of("textarea", "own_words", "The goal, in the person's own words")
            .hint("For example: \"I want to get out of the house twice a week\""),
        Field::of("textarea", "steps", "Steps agreed (optional)").hint("Who will do what, and by when"),
    ]
}

pub(crate) async fn goal_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    GOAL_FORM.page(&user, &e, &p, goal_fields()).respond()
}

pub(crate) async fn add_goal(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let mut page = GOAL_FORM.page(&user, &e, &p, goal_fields());
    f.refill(&mut page.fields);
    let domain = f.get("domain").parse::<NeedDomain>();
    let words = parse_words(&f.get("own_words"), 1000, "the goal");
    let steps = optional_text(&f.get("steps"), 2000, "steps");
    if let Err(err) = &domain {
        page.error("domain", err.0.clone());
    }
    if let Err(err) = &words {
        page.error("own_words", err.0.clone());
    }
    if let Err(err) = &steps {
        page.error("steps", err.0.clone());
    }
    let (Ok(domain), Ok(own_words), Ok(steps)) = (domain, words, steps) else { return page.respond() };
    let now = state.clock.now();
    let goal = Goal {
        id: GoalId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        domain,
        own_words,
        steps: steps.unwrap_or_default(),
        status: GoalStatus::NotStarted,
        progress: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    state.store.add_goal(&goal).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "goal", goal.id.to_string())]).await?;
    Ok(back_to(&p))
}

async fn goal_access(state: &AppState, user: &User, session: &Session, id: &str) -> Result<(Goal, Person), AppError> {
    let gid = id.parse::<GoalId>().map_err(|_| AppError::NotFound)?;
    let goal = state.store.get_goal(user.org_id, gid).await?;
    let (_, person) = episode_access(state, user, session, &goal.episode_id.to_string()).await?;
    Ok((goal, person))
}

fn review_form(user: &User, p: &Person, g: &Goal) -> FormPage {
    let mut page = form(user, p, "Review a goal", format!("/goals/{}/review", g.id), "Save review", review_fields(g));
    page.extras.summary = vec![("Goal".into(), g.own_words.clone())];
    page
}

fn review_fields(g: &Goal) -> Vec<Field> {
    vec![
        Field::of("radios", "status", "Where the goal stands").options(GoalStatus::options()).value(g.status.as_str()),
        Field::of("number", "progress", "How far along, as the person sees it (0 to 10)").value(g.progress.to_string()),
        Field::of("textarea", "note", "Note (optional)"),
    ]
}

pub(crate) async fn review_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (g, p) = goal_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    let mut page = review_form(&user, &p, &g);
    page.extras.hidden.push(("version", g.version.to_string()));
    page.respond()
}

pub(crate) async fn review_goal(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (g, p) = goal_access(&state, &user, &session, &id).await?;
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    let mut page = review_form(&user, &p, &g);
    f.refill(&mut page.fields);
    page.extras.hidden.push(("version", version.to_string()));
    let status = f.get("status").parse::<GoalStatus>();
    let progress = parse_number(&f.get("progress"), 0, 10, "progress");
    let note = optional_text(&f.get("note"), 2000, "note");
    if let Err(err) = &status {
        page.error("status", err.0.clone());
    }
    if let Err(err) = &progress {
        page.error("progress", err.0.clone());
    }
    if let Err(err) = &note {
        page.error("note", err.0.clone());
    }
    let (Ok(status), Ok(progress), Ok(note)) = (status, progress, note) else { return page.respond() };
    let review = GoalReview {
        goal_id: g.id,
        org_id: user.org_id,
        status,
        progress,
        note: note.unwrap_or_default(),
        at: state.clock.now(),
        by: Some(user.id),
    };
    match state.store.review_goal(&review, version).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this goal"),
        Err(e) => return Err(e.into()),
    }
    state.audit(vec![changed(&state, &user, &source, p.id, "goal", g.id.to_string())]).await?;
    Ok(back_to(&p))
}

// ---- Contacts ------------------------------------------------------------------------------

fn contact_fields(defaults: &linkwork_domain::casework::TeamSettings, today: NaiveDate) -> Vec<Field> {
    vec![
        Field::of("date", "happened_on", "Date").value(today.format("%Y-%m-%d").to_string()),
        Field::of("number", "minutes", "Minutes").value(defaults.default_minutes.to_string()),
        Field::of("radios", "mode", "How").options(ContactMode::options()).value(defaults.default_mode.as_str()),
        Field::of("radios", "location", "Where").options(ContactLocation::options()).value(defaults.default_location.as_str()),
        Field::of("text", "present", "Who else was there (optional)"),
        Field::of("textarea", "notes", "Notes (optional)"),
        Field::of("checkbox", "outside_usual", "Outside the team's usual criteria")
            .hint("Longer, more often or somewhere other than usual: a choice made for this person, recorded so it can be discussed"),
        Field::of("date", "follow_up_on", "Follow up by").value((today + chrono::Duration::days(i64::from(defaults.follow_up_days))).format("%Y-%m-%d").to_string()),
    ]
}

pub(crate) async fn contact_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    let settings = state.store.team_settings(user.org_id, e.team_id).await?;
    let mut page = CONTACT_FORM.page(&user, &e, &p, contact_fields(&settings, state.clock.now().uk_date()));
    page.intro = vec!["The team's usual length, way and place are filled in: change what was different."];
    page.respond()
}

pub(crate) async fn add_contact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let settings = state.store.team_settings(user.org_id, e.team_id).await?;
    let today = state.clock.now().uk_date();
    let mut page = CONTACT_FORM.page(&user, &e, &p, contact_fields(&settings, today));
    f.refill(&mut page.fields);
    let happened = parse_date(&f.get("happened_on"), "date of the contact");
    let minutes = parse_number(&f.get("minutes"), 1, 600, "length in minutes");
    let mode = f.get("mode").parse::<ContactMode>();
    let location = f.get("location").parse::<ContactLocation>();
    let present = optional_text(&f.get("present"), 200, "who was there");
    let notes = optional_text(&f.get("notes"), 5000, "notes");
    let follow = if f.get("follow_up_on").trim().is_empty() {
        Ok(None)
    } else {
        parse_date(&f.get("follow_up_on"), "follow-up date").map(Some)
    };
    if let Ok(d) = &happened
        && *d > today
    {
        page.error("happened_on", "The date of a contact cannot be in the future: book an appointment instead");
    }
    for (name, err) in [
        ("happened_on", happened.as_ref().err()),
        ("minutes", minutes.as_ref().err()),
        ("mode", mode.as_ref().err()),
        ("location", location.as_ref().err()),
        ("present", present.as_ref().err()),
        ("notes", notes.as_ref().err()),
        ("follow_up_on", follow.as_ref().err()),
    ] {
        if let Some(err) = err {
            page.error(name, err.0.clone());
        }
    }
    let (Ok(happened_on), Ok(minutes), Ok(mode), Ok(location), Ok(present), Ok(notes), Ok(follow), true) =
        (happened, minutes, mode, location, present, notes, follow, page.errors.is_empty())
    else {
        return page.respond();
    };
    let so_far = state.store.contacts(user.org_id, e.id).await?.len();
    let outside_usual = f.checked("outside_usual") || !settings.outside_usual(minutes, location, so_far).is_empty();
    let c = Contact {
        id: ContactId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        worker_id: Some(user.id),
        happened_on,
        minutes,
        mode,
        location,
        present: present.unwrap_or_default(),
        notes: notes.unwrap_or_default(),
        outside_usual,
        created_at: state.clock.now(),
    };
    state.store.add_contact(&c, follow).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "contact", c.id.to_string())]).await?;
    Ok(back_to(&p))
}

// ---- Holding -------------------------------------------------------------------------------

fn holding_fields(today: NaiveDate) -> Vec<Field> {
    vec![
        Field::of("radios", "reason", "Why you are holding the person").options(HoldingReason::options()),
        Field::of("date", "started_on", "Started").value(today.format("%Y-%m-%d").to_string()),
        Field::of("date", "review_on", "Review by")
            .value((today + chrono::Duration::days(28)).format("%Y-%m-%d").to_string()),
        Field::of("textarea", "note", "Note (optional)"),
    ]
}

pub(crate) async fn holding_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    let mut page = HOLDING_FORM.page(&user, &e, &p, holding_fields(state.clock.now().uk_date()));
    page.intro = vec![
        "Holding is legitimate work: ongoing support while the person waits, prepares for change, or has no one else. Long holding is brought to supervision, not counted against you.",
    ];
    page.respond()
}

pub(crate) async fn start_holding(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let mut page = HOLDING_FORM.page(&user, &e, &p, holding_fields(state.clock.now().uk_date()));
    f.refill(&mut page.fields);
    let reason = f.get("reason").parse::<HoldingReason>();
    let started = parse_date(&f.get("started_on"), "start date");
    let review = parse_date(&f.get("review_on"), "review date");
    let note = optional_text(&f.get("note"), 2000, "note");
    if reason.is_err() {
        page.error("reason", "Choose why you are holding the person");
    }
    for (name, err) in
        [("started_on", started.as_ref().err()), ("review_on", review.as_ref().err()), ("note", note.as_ref().err())]
    {
        if let Some(err) = err {
            page.error(name, err.0.clone());
        }
    }
    if let (Ok(s), Ok(r)) = (&started, &review)
        && r <= s
    {
        page.error("review_on", "The review date must be after the start");
    }
    if !e.is_open() {
        page.error("reason", "This episode is closed");
    }
    let (Ok(reason), Ok(started_on), Ok(review_on), Ok(note), true) =
        (reason, started, review, note, page.errors.is_empty())
    else {
        return page.respond();
    };
    let h = HoldingPeriod {
        id: HoldingId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        reason,
        started_on,
        review_on,
        ended_on: None,
        ended_how: None,
        note: note.unwrap_or_default(),
    };
    state.store.start_holding(&h).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "holding", h.id.to_string())]).await?;
    Ok(back_to(&p))
}

pub(crate) async fn end_holding(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path((id, hid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let hid = hid.parse::<HoldingId>().map_err(|_| AppError::NotFound)?;
    let how =
        f.get("how").parse::<HoldingEnd>().map_err(|_| AppError::BadRequest("Choose how the holding ended.".into()))?;
    // Only a holding period of this episode: the audit then names the right person.
    state.store.end_holding(user.org_id, e.id, hid, state.clock.now().uk_date(), how).await?;
    state.audit(vec![changed(&state, &user, &source, p.id, "holding", hid.to_string())]).await?;
    Ok(back_to(&p))
}

// ---- Appointments --------------------------------------------------------------------------

fn appointment_fields(defaults: &linkwork_domain::casework::TeamSettings, tomorrow: NaiveDate) -> Vec<Field> {
    vec![
        Field::of("date", "day", "Date").value(tomorrow.format("%Y-%m-%d").to_string()),
        Field::of("time", "time", "Time").value("10:00").hint("24-hour clock, UK time"),
        Field::of("number", "minutes", "Minutes").value(defaults.default_minutes.to_string()),
        Field::of("radios", "mode", "How").options(ContactMode::options()).value(defaults.default_mode.as_str()),
        Field::of("radios", "location", "Where")
            .options(ContactLocation::options())
            .value(defaults.default_location.as_str()),
        Field::of("checkbox", "remind", "Send a reminder the day before, by the person's chosen way of contact")
            .value("yes"),
    ]
}

pub(crate) async fn appointment_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    let settings = state.store.team_settings(user.org_id, e.team_id).await?;
    let tomorrow = state.clock.now().uk_date() + chrono::Duration::days(1);
    APPOINTMENT_FORM.page(&user, &e, &p, appointment_fields(&settings, tomorrow)).respond()
}

pub(crate) async fn add_appointment(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let settings = state.store.team_settings(user.org_id, e.team_id).await?;
    let now = state.clock.now();
    let mut page =
        APPOINTMENT_FORM.page(&user, &e, &p, appointment_fields(&settings, now.uk_date() + chrono::Duration::days(1)));
    f.refill(&mut page.fields);
    let day = parse_date(&f.get("day"), "date");
    let time = chrono::NaiveTime::parse_from_str(f.get("time").trim(), "%H:%M").map_err(|_| ());
    let minutes = parse_number(&f.get("minutes"), 5, 480, "length in minutes");
    let mode = f.get("mode").parse::<ContactMode>();
    let location = f.get("location").parse::<ContactLocation>();
    if let Err(err) = &day {
        page.error("day", err.0.clone());
    }
    if time.is_err() {
        page.error("time", "Enter the time like 14:30");
    }
    for (name, err) in
        [("minutes", minutes.as_ref().err()), ("mode", mode.as_ref().err()), ("location", location.as_ref().err())]
    {
        if let Some(err) = err {
            page.error(name, err.0.clone());
        }
    }
    // Times are typed in UK local time; stored in UTC.
    let starts_at = match (&day, &time) {
        (Ok(d), Ok(t)) => linkwork_domain::uktime::from_uk(NaiveDateTime::new(*d, *t)),
        _ => None,
    };
    if starts_at.is_some_and(|s| s <= now) {
        page.error("day", "The appointment must be in the future: record a contact for one that has happened");
    }
    if !e.is_open() {
        page.error("day", "This episode is closed");
    }
    let (Some(starts_at), Ok(minutes), Ok(mode), Ok(location), true) =
        (starts_at, minutes, mode, location, page.errors.is_empty())
    else {
        return page.respond();
    };
    let remind = f.checked("remind");
    let a = Appointment {
        id: AppointmentId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        person_id: p.id,
        worker_id: Some(user.id),
        starts_at,
        minutes,
        mode,
        location,
        status: AppointmentStatus::Booked,
        remind,
        created_at: now,
    };
    let reminder = remind.then(|| NewJob {
        kind: APPOINTMENT_REMINDER_JOB.into(),
        payload: serde_json::json!({ "org_id": user.org_id, "appointment_id": a.id }).to_string(),
        run_at: (starts_at - REMINDER_BEFORE).max(now),
        max_attempts: 5,
        dedupe_key: Some(format!("reminder:{}", a.id)),
    });
    state.store.add_appointment(&a, reminder.as_ref()).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "appointment", a.id.to_string())]).await?;
    Ok(back_to(&p))
}

pub(crate) async fn appointment_status(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path((id, aid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let aid = aid.parse::<AppointmentId>().map_err(|_| AppError::NotFound)?;
    let appt = state.store.get_appointment(user.org_id, aid).await?;
    if appt.episode_id != e.id {
        return Err(AppError::NotFound);
    }
    let status = f
        .get("status")
        .parse::<AppointmentStatus>()
        .map_err(|_| AppError::BadRequest("Choose what happened.".into()))?;
    state.store.set_appointment_status(user.org_id, e.id, aid, status).await?;
    // Attending is a contact: record it with the appointment's details, so nothing is typed twice.
    if status == AppointmentStatus::Attended {
        let c = Contact {
            id: ContactId::new(),
            org_id: user.org_id,
            episode_id: e.id,
            worker_id: Some(user.id),
            happened_on: appt.starts_at.uk_date(),
            minutes: appt.minutes,
            mode: appt.mode,
            location: appt.location,
            present: String::new(),
            notes: "Attended a booked appointment".into(),
            outside_usual: false,
            created_at: state.clock.now(),
        };
        state.store.add_contact(&c, None).await?;
    }
    let mut entry = changed(&state, &user, &source, p.id, "appointment", aid.to_string());
    entry.reason = Some(status.as_str().into());
    state.audit(vec![entry]).await?;
    Ok(back_to(&p))
}

// ---- Barriers ------------------------------------------------------------------------------

fn barrier_fields() -> Vec<Field> {
    vec![
        Field::of("select", "code", "What is in the way").options(BarrierCode::options()),
        Field::of("radios", "kind", "Is it outside the person's control?").options(vec![
            ("structural", "Structural: outside the person's control (housing, work, money, transport, no service)"),
            ("personal", "Personal: the person's own situation or readiness"),
        ]),
        Field::of("textarea", "note", "Note (optional)"),
    ]
}

pub(crate) async fn barrier_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    BARRIER_FORM.page(&user, &e, &p, barrier_fields()).respond()
}

pub(crate) async fn add_barrier(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let mut page = BARRIER_FORM.page(&user, &e, &p, barrier_fields());
    f.refill(&mut page.fields);
    let code = f.get("code").parse::<BarrierCode>();
    let kind = if f.get("kind").is_empty() {
        code.clone().map(BarrierCode::usual_kind)
    } else {
        f.get("kind").parse::<BarrierKind>()
    };
    let note = optional_text(&f.get("note"), 2000, "note");
    for (name, err) in [("code", code.as_ref().err()), ("kind", kind.as_ref().err()), ("note", note.as_ref().err())] {
        if let Some(err) = err {
            page.error(name, err.0.clone());
        }
    }
    let (Ok(code), Ok(kind), Ok(note)) = (code, kind, note) else { return page.respond() };
    let b = Barrier {
        id: BarrierId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        kind,
        code,
        note: note.unwrap_or_default(),
        recorded_at: state.clock.now(),
    };
    state.store.add_barrier(&b).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "barrier", b.id.to_string())]).await?;
    Ok(back_to(&p))
}

// ---- The episode: work, worker, follow-up ---------------------------------------------------

async fn episode_fields(state: &AppState, user: &User, e: &Episode) -> Result<Vec<Field>, AppError> {
    let mut worker = Field::of("select", "worker_id", "Link worker").hint("Hand the person over to a colleague here");
    worker.options = std::iter::once((String::new(), "Not assigned".to_owned()))
        .chain(
            state
                .store
                .list_org_users(user.org_id)
                .await?
                .into_iter()
                .filter(|u| u.has_role(linkwork_domain::accounts::Role::LinkWorker) && !u.disabled)
                .map(|u| (u.id.to_string(), u.display_name)),
        )
        .collect();
    worker.value = e.worker_id.map(|w| w.to_string()).unwrap_or_default();
    Ok(vec![
        Field::of("radios", "work", "What you are doing with the person")
            .hint("Holding is legitimate work: supporting the person yourself while they wait, prepare for change, or have no one else")
            .options(EpisodeWork::options())
            .value(e.work.as_str()),
        worker,
        Field::of("date", "follow_up_on", "Follow up by (optional)")
            .value(e.follow_up_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()),
    ])
}

pub(crate) async fn episode_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    if !e.is_open() {
        return Ok(back_to(&p));
    }
    let mut page = WORK_FORM.page(&user, &e, &p, episode_fields(&state, &user, &e).await?);
    page.extras.hidden.push(("version", e.version.to_string()));
    page.respond()
}

pub(crate) async fn save_episode(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    let mut page = WORK_FORM.page(&user, &e, &p, episode_fields(&state, &user, &e).await?);
    f.refill(&mut page.fields);
    page.extras.hidden.push(("version", version.to_string()));
    let work = f.get("work").parse::<EpisodeWork>();
    if let Err(err) = &work {
        page.error("work", err.0.clone());
    }
    let worker = match f.get("worker_id") {
        w if w.is_empty() => Some(None),
        w if page.offers("worker_id", &w) => w.parse().ok().map(Some),
        _ => None,
    };
    if worker.is_none() {
        page.error("worker_id", "Choose a link worker from the list");
    }
    let follow = if f.get("follow_up_on").trim().is_empty() {
        Ok(None)
    } else {
        parse_date(&f.get("follow_up_on"), "follow-up date").map(Some)
    };
    if let Err(err) = &follow {
        page.error("follow_up_on", err.0.clone());
    }
    if !e.is_open() {
        page.error("work", "This episode is closed");
    }
    let (Ok(work), Some(worker_id), Ok(follow_up_on), true) = (work, worker, follow, page.errors.is_empty()) else {
        return page.respond();
    };
    match state.store.update_episode(&Episode { work, worker_id, follow_up_on, version, ..e.clone() }).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this episode"),
        Err(err) => return Err(err.into()),
    }
    state.audit(vec![changed(&state, &user, &source, p.id, "episode", e.id.to_string())]).await?;
    Ok(back_to(&p))
}

// ---- Discharge -----------------------------------------------------------------------------

fn discharge_fields() -> Vec<Field> {
    vec![
        Field::of("radios", "reason", "Why the episode is ending").options(DischargeReason::options()),
        Field::of("textarea", "note", "Summary for the GP and the referrer")
            .hint("What mattered to the person, the support offered, what changed. Goals, connections and outcomes are added from the record."),
    ]
}

pub(crate) async fn discharge_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    // The page shows who it is about: a view of their record.
    state.audit(vec![viewed(&state, &user, &source, p.id, "episode_form")]).await?;
    if !e.is_open() {
        return Ok(Redirect::to(&format!("/episodes/{}/summary", e.id)).into_response());
    }
    let mut page = DISCHARGE_FORM.page(&user, &e, &p, discharge_fields());
    page.extras.hidden.push(("version", e.version.to_string()));
    page.respond()
}

pub(crate) async fn discharge(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let (e, p) = episode_access(&state, &user, &session, &id).await?;
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    let mut page = DISCHARGE_FORM.page(&user, &e, &p, discharge_fields());
    f.refill(&mut page.fields);
    page.extras.hidden.push(("version", version.to_string()));
    let reason = f.get("reason").parse::<DischargeReason>();
    let note = parse_words(&f.get("note"), 5000, "a summary for the GP and the referrer");
    if reason.is_err() {
        page.error("reason", "Choose why the episode is ending");
    }
    if let Err(err) = &note {
        page.error("note", err.0.clone());
    }
    let (Ok(reason), Ok(note)) = (reason, note) else { return page.respond() };
    let now = state.clock.now();
    match state
        .store
        .discharge(&Discharge { org_id: user.org_id, episode_id: e.id, version, reason, note, at: now })
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this episode"),
        Err(err) => return Err(err.into()),
    }
    let mut entry = changed(&state, &user, &source, p.id, "episode", e.id.to_string());
    entry.reason = Some(format!("discharged: {}", reason.as_str()));
    state.audit(vec![entry]).await?;
    crate::summary::send_message_back(&state, &user, e.id).await?;
    Ok(Redirect::to(&format!("/episodes/{}/summary", e.id)).into_response())
}

// ---- Caseload and search -------------------------------------------------------------------

struct CaseRow {
    person_id: String,
    name: String,
    nhs_number: String,
    work: &'static str,
    holding: Option<String>,
    contacts: i64,
    last_contact: String,
    follow_up: String,
    /// The follow-up date shown is the one overdue.
    follow_up_overdue: bool,
    /// The holding review's date, when it is overdue.
    review_overdue: Option<String>,
    next_appointment: String,
    safeguarding: bool,
}

struct RecentRow {
    person_id: String,
    name: String,
    received: String,
    reason: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "caseload.html")]
struct CaseloadPage {
    nav: Nav,
    team_view: bool,
    no_team: bool,
    rows: Vec<CaseRow>,
    active: usize,
    holding: usize,
    waiting: usize,
    overdue: usize,
    today: usize,
    for_supervision: usize,
    mean_contacts: String,
    norm_people: (i64, i64),
    norm_contacts: (i64, i64),
    recent: Vec<RecentRow>,
}

/// The link worker's day: their open episodes (or the team's), the counts that matter today,
/// with the national norms as context, and the latest referrals to the team.
pub(crate) async fn caseload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let team_view = q.as_deref().is_some_and(|q| q.contains("view=team"));
    let teams = state.store.user_teams(user.id).await?;
    let now = state.clock.now();
    let today = now.uk_date();
    let worker = if team_view { None } else { Some(user.id) };
    let items: Vec<CaseloadItem> = state.store.caseload(user.org_id, &teams, worker, now).await?;
    let waiting = usize::try_from(state.store.count_waiting(user.org_id, &teams).await?).unwrap_or(0);
    let recent = state.store.team_referrals(user.org_id, &teams, 20).await?;
    // Every person listed is a view of their data, recorded (one event with its people) before
    // the list is shown.
    let shown = items.iter().map(|i| i.episode.person_id).chain(recent.iter().map(|(_, p)| p.id));
    state.audit(vec![listed(&state, &user, &source, "caseload", shown)]).await?;
    let total_contacts: i64 = items.iter().map(|i| i.contacts).sum();
    let mean_contacts = if items.is_empty() {
        "0".into()
    } else {
        let tenths = total_contacts * 10 / i64::try_from(items.len()).unwrap_or(1);
        format!("{}.{}", tenths / 10, tenths % 10)
    };
    let rows: Vec<CaseRow> = items
        .iter()
        .map(|i| CaseRow {
            person_id: i.episode.person_id.to_string(),
            name: i.person_name.clone(),
            nhs_number: i
                .nhs_number
                .as_deref()
                .and_then(|n| NhsNumber::parse(n).ok())
                .map(|n| n.formatted())
                .unwrap_or_else(|| "Not known".into()),
            work: i.episode.work.label(),
            holding: i.holding_since.map(|d| format!("since {} ({} days)", date(d), (today - d).num_days())),
            contacts: i.contacts,
            last_contact: i.last_contact.map(date).unwrap_or_else(|| "None yet".into()),
            follow_up: i.episode.follow_up_on.map(date).unwrap_or_default(),
            follow_up_overdue: i.follow_up_overdue(today),
            review_overdue: i.review_overdue(today).map(date),
            next_appointment: i.next_appointment.map(|t| t.uk().format("%d %b %H:%M").to_string()).unwrap_or_default(),
            safeguarding: i.safeguarding,
        })
        .collect();
    let page = CaseloadPage {
        nav: Nav::for_user(&user),
        team_view,
        no_team: teams.is_empty(),
        active: items.len(),
        holding: items.iter().filter(|i| i.holding()).count(),
        waiting,
        overdue: items.iter().filter(|i| i.overdue(today)).count(),
        today: items.iter().filter(|i| i.appointment_today(today)).count(),
        for_supervision: items
            .iter()
            .filter(|i| {
                i.holding_since.is_some_and(|d| (today - d).num_days() >= linkwork_domain::casework::LONG_HOLDING_DAYS)
            })
            .count(),
        mean_contacts,
        norm_people: NORM_PEOPLE_PER_YEAR,
        norm_contacts: NORM_CONTACTS_PER_PERSON,
        rows,
        recent: recent
            .into_iter()
            .map(|(r, p)| RecentRow {
                person_id: p.id.to_string(),
                name: p.full_name(),
                received: date(r.received_at.uk_date()),
                reason: r.reason,
                status: r.status.label(),
            })
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

fn search_fields() -> Vec<Field> {
    vec![
        Field::of("text", "name", "Name").hint("The start of a first or last name, or the full name"),
        Field::of("text", "nhs_number", "NHS number"),
        Field::of("date", "date_of_birth", "Date of birth"),
    ]
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    nav: Nav,
    errors: Vec<crate::forms::SummaryError>,
    fields: Vec<Field>,
    searched: bool,
    results: Vec<(String, String, String, String, String)>,
}

impl SearchPage {
    fn of(form: FormPage, searched: bool, results: Vec<(String, String, String, String, String)>) -> Self {
        Self { nav: form.nav, errors: form.errors, fields: form.fields, searched, results }
    }
}

fn search_form(user: &User) -> FormPage {
    FormPage {
        nav: Nav::for_user(user),
        title: "Find a person",
        intro: vec![
            "Search your organisation's records by any of these. Every search and every person shown is recorded in the audit trail.",
        ],
        action: "/people/search".into(),
        submit: "Search",
        fields: search_fields(),
        errors: vec![],
        extras: FormExtras::default(),
    }
}

pub(crate) async fn search_page(CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    Ok(Html(SearchPage::of(search_form(&user), false, vec![]).render()?).into_response())
}

/// Search by POST, so names and NHS numbers stay out of URLs and logs.
pub(crate) async fn search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    body: Bytes,
) -> Result<Response, AppError> {
    let f = FormData::parse(&body)?;
    let mut form = search_form(&user);
    f.refill(&mut form.fields);
    let name = f.get("name").trim().to_owned();
    let nhs =
        if f.get("nhs_number").trim().is_empty() { Ok(None) } else { NhsNumber::parse(&f.get("nhs_number")).map(Some) };
    let dob = if f.get("date_of_birth").trim().is_empty() {
        Ok(None)
    } else {
        parse_date(&f.get("date_of_birth"), "date of birth").map(Some)
    };
    if let Err(e) = &nhs {
        form.error("nhs_number", e.0.clone());
    }
    if let Err(e) = &dob {
        form.error("date_of_birth", e.0.clone());
    }
    if name.chars().count() > 100 {
        form.error("name", "Enter 100 characters or fewer");
    }
    let (Ok(nhs_number), Ok(date_of_birth)) = (nhs, dob) else {
        return Ok(
            (axum::http::StatusCode::BAD_REQUEST, Html(SearchPage::of(form, false, vec![]).render()?)).into_response()
        );
    };
    if name.is_empty() && nhs_number.is_none() && date_of_birth.is_none() {
        form.error("name", "Enter a name, an NHS number or a date of birth");
        return Ok(
            (axum::http::StatusCode::BAD_REQUEST, Html(SearchPage::of(form, false, vec![]).render()?)).into_response()
        );
    }
    if !form.errors.is_empty() {
        return Ok(
            (axum::http::StatusCode::BAD_REQUEST, Html(SearchPage::of(form, false, vec![]).render()?)).into_response()
        );
    }
    let query = PeopleQuery { name: (!name.is_empty()).then_some(name), nhs_number, date_of_birth };
    let found = state.store.search_people(user.org_id, &query, 50).await?;
    // The search, with everyone it showed.
    let entry = AuditEntry {
        source: source.clone(),
        reason: Some(format!("{} found", found.len())),
        ..AuditEntry::new(state.clock.now(), AuditAction::Search, "people")
            .by(&user)
            .listing(found.iter().map(|p| p.id))
    };
    state.audit(vec![entry]).await?;
    let results = found
        .iter()
        .map(|p| {
            (
                p.id.to_string(),
                p.full_name(),
                p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "Not known".into()),
                p.date_of_birth.format("%d %b %Y").to_string(),
                p.postcode.as_ref().map(Postcode::to_string).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Html(SearchPage::of(form, true, results).render()?).into_response())
}
