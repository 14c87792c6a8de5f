//! Referrals in, by every channel, and triage. The referral form (practice staff and other
//! agencies), the public self-referral form, the CSV bulk import and the JSON API (in `api`)
//! share one validation (`domain::intake`) and one way of finding the person
//! ([`resolve_person`]): an NHS number already known in the tenant means the same person, and
//! anything else is a new record, with near matches shown on the record for a worker to merge.

use crate::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage, MessagePage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use linkwork_domain::accounts::User;
use linkwork_domain::audit::{AuditAction, AuditEntry};
use linkwork_domain::casework::{Episode, EpisodeWork, NeedDomain};
use linkwork_domain::coding::{CodedEvent, Outcome, codes_for};
use linkwork_domain::ids::{CodedEventId, EpisodeId, OrgId, PersonId, ReferralId, TeamId, UserId};
use linkwork_domain::intake::{Channel, FieldError, Intake, RawReferral, parse_referral};
use linkwork_domain::organisations::{OrgKind, referral_tenant};
use linkwork_domain::people::{ContactChannel, Ethnicity, Gender, Person, likely_duplicate};
use linkwork_domain::ports::{StoreError, TriageDecision};
use linkwork_domain::referrals::{
    DeclineReason, RedirectTarget, Referral, ReferralSource, ReferralStatus, Urgency, triage_flags,
};
use linkwork_domain::uktime::UkTime;

/// Find the person a referral is about: an existing record in the tenant with the same NHS
/// number, date of birth and name (within a typo) is the same person. A matching NHS number
/// with another name or date of birth is not trusted: the referral brings a new record, which
/// triage shows beside the other for a worker to reconcile, and the referrer never learns what
/// the stored record says.
pub async fn resolve_person(
    state_store: &dyn linkwork_domain::ports::Store,
    intake: &mut Intake,
) -> Result<Option<Person>, StoreError> {
    let candidates = state_store
        .duplicate_candidates(intake.person.org_id, intake.person.nhs_number.as_ref(), intake.person.date_of_birth)
        .await?;
    if let Some(existing) = candidates
        .into_iter()
        .find(|c| likely_duplicate(&intake.person, c) == Some(linkwork_domain::people::DuplicateReason::SameNhsNumber))
    {
        intake.referral.person_id = existing.id;
        intake.person = existing;
        return Ok(None);
    }
    Ok(Some(intake.person.clone()))
}

/// Raw referral fields from a submitted form.
pub(crate) fn raw_from_form(f: &FormData) -> RawReferral {
    RawReferral {
        nhs_number: f.get("nhs_number"),
        given_name: f.get("given_name"),
        family_name: f.get("family_name"),
        date_of_birth: f.get("date_of_birth"),
        address: f.get("address"),
        postcode: f.get("postcode"),
        phone: f.get("phone"),
        email: f.get("email"),
        contact_by: f.get("contact_by"),
        language: f.get("language"),
        interpreter: f.checked("interpreter"),
        gender: f.get("gender"),
        ethnicity: f.get("ethnicity"),
        reason: f.get("reason"),
        needs: f.all("needs"),
        urgency: f.get("urgency"),
        consent: f.checked("consent"),
        tried: f.get("tried"),
        source: f.get("source"),
        referrer_name: f.get("referrer_name"),
        team_id: f.get("team_id"),
        practice_id: f.get("practice_id"),
    }
}

/// The GP practices of a tenant PCN, for the "GP practice" choice.
pub(crate) async fn practice_options(state: &AppState, tenant: OrgId) -> Result<Vec<(String, String)>, AppError> {
    Ok(std::iter::once((String::new(), "Not known".to_owned()))
        .chain(
            state
                .store
                .child_orgs(tenant)
                .await?
                .into_iter()
                .filter(|o| o.kind == OrgKind::Practice)
                .map(|o| (o.id.to_string(), o.name)),
        )
        .collect())
}

fn person_fields(self_referral: bool) -> Vec<Field> {
    let you = |pro: &'static str, me: &'static str| if self_referral { me } else { pro };
    vec![
        Field::new("given_name", you("First name", "Your first name"), "text", "off"),
        Field::new("family_name", you("Last name", "Your last name"), "text", "off"),
        Field::of("date", "date_of_birth", you("Date of birth", "Your date of birth"))
            .hint("For example, 31 March 1958"),
        Field::of("text", "nhs_number", "NHS number (if known)").hint("10 digits, like 943 476 5919"),
        Field::of("textarea", "address", you("Address", "Your address")),
        Field::of("text", "postcode", "Postcode"),
        Field::of("tel", "phone", you("Phone number", "Your phone number")),
        Field::of("email", "email", you("Email address", "Your email address")),
        Field::of("radios", "contact_by", you("How the person prefers to be contacted", "How should we contact you?"))
            .options(ContactChannel::options())
            .value("phone"),
        Field::of("text", "language", "Preferred language").value("English"),
        Field::of("checkbox", "interpreter", "An interpreter is needed"),
    ]
}

fn referral_fields(self_referral: bool) -> Vec<Field> {
    let mut fields = vec![
        Field::of(
            "textarea",
            "reason",
            if self_referral { "What would you like help with?" } else { "Reason for referral" },
        )
        .hint("In a few words: what is going on, and what might help"),
        Field::of("checkboxes", "needs", "What is it about?")
            .hint("Choose all that apply")
            .options(NeedDomain::options()),
        Field::of("radios", "urgency", "How soon").options(Urgency::options()).value("routine"),
        Field::of("textarea", "tried", "What has been tried already (optional)"),
    ];
    if !self_referral {
        fields.push(Field::of("select", "source", "Who is referring").options(ReferralSource::options()).value("gp"));
        fields.push(Field::of("text", "referrer_name", "Your name, role and contact (optional)"));
        fields.push(
            Field::of("checkbox", "consent", "The person agrees to be referred to social prescribing")
                .hint("Social prescribing is voluntary: refer only with the person's agreement"),
        );
    }
    fields
}

fn equality_fields() -> Vec<Field> {
    vec![
        Field::of("select", "gender", "Gender").options(Gender::options()),
        Field::of("select", "ethnicity", "Ethnic group").options(Ethnicity::options()),
    ]
}

async fn team_options(state: &AppState, tenant: OrgId) -> Result<Vec<(String, String)>, AppError> {
    Ok(std::iter::once((String::new(), "Any team (decided at triage)".to_owned()))
        .chain(state.store.list_teams(tenant).await?.into_iter().map(|t| (t.id.to_string(), t.name)))
        .collect())
}

async fn tenant_of(state: &AppState, user: &User) -> Result<OrgId, AppError> {
    Ok(referral_tenant(&state.store.get_org(user.org_id).await?))
}

async fn referral_form(state: &AppState, user: &User) -> Result<FormPage, AppError> {
    let tenant = tenant_of(state, user).await?;
    let mut fields = person_fields(false);
    fields.extend(referral_fields(false));
    fields.extend(equality_fields());
    let mut team = Field::of("select", "team_id", "Team");
    team.options = team_options(state, tenant).await?;
    fields.push(team);
    let mut practice = Field::of("select", "practice_id", "The person's GP practice");
    practice.options = practice_options(state, tenant).await?;
    // A practice's own staff refer their own patients, usually.
    if practice.options.iter().any(|(id, _)| *id == user.org_id.to_string()) {
        practice.value = user.org_id.to_string();
    }
    fields.push(practice);
    // What a referrer needs to give in under a minute comes first; the rest is folded away.
    const FIRST: &[&str] = &[
        "given_name",
        "family_name",
        "date_of_birth",
        "nhs_number",
        "postcode",
        "phone",
        "practice_id",
        "reason",
        "needs",
        "urgency",
        "source",
        "consent",
    ];
    let (mut first, more): (Vec<Field>, Vec<Field>) = fields.into_iter().partition(|f| FIRST.contains(&f.name));
    first.sort_by_key(|f| FIRST.iter().position(|n| *n == f.name));
    Ok(FormPage {
        nav: Nav::for_user(user),
        title: "Refer someone to social prescribing",
        intro: vec![
            "A link worker will contact the person. Only the name, date of birth, reason and the person's agreement are required.",
        ],
        action: "/referrals/new".into(),
        submit: "Send referral",
        fields: first,
        errors: vec![],
        extras: FormExtras {
            back: Some("/referrals".into()),
            more,
            more_label: "More about the person (optional)",
            ..FormExtras::default()
        },
    })
}

pub(crate) async fn new_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, AppError> {
    referral_form(&state, &user).await?.respond()
}

/// Save a validated referral, audited. A professional's referral joins the person already known
/// by its NHS number; a self-referral always brings a new record (its identity is unverified, so
/// a typed NHS number is flagged as a possible duplicate for a worker to merge, never trusted).
async fn save(
    state: &AppState,
    mut intake: Intake,
    actor: Option<&User>,
    source: Option<String>,
) -> Result<Referral, AppError> {
    let new_person = if actor.is_some() {
        resolve_person(state.store.as_ref(), &mut intake).await?
    } else {
        Some(intake.person.clone())
    };
    state.store.create_referral(new_person.as_ref(), &intake.referral, None).await?;
    let mut entry = AuditEntry {
        person_id: Some(intake.referral.person_id),
        record_id: Some(intake.referral.id.to_string()),
        org_id: Some(intake.referral.org_id),
        source,
        ..AuditEntry::new(state.clock.now(), AuditAction::Create, "referral")
    };
    if let Some(u) = actor {
        entry = AuditEntry { org_id: Some(intake.referral.org_id), ..entry.by(u) };
    } else {
        entry.actor = "self-referral form".into();
    }
    state.audit(vec![entry]).await?;
    Ok(intake.referral)
}

fn parse_team(raw: &str, teams: &[(String, String)]) -> Result<Option<TeamId>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    match raw.parse::<TeamId>() {
        Ok(t) if teams.iter().any(|(id, _)| *id == t.to_string()) => Ok(Some(t)),
        _ => Err(FieldError { field: "team_id", message: "Choose a team from the list".into() }),
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    body: Bytes,
) -> Result<Response, AppError> {
    let form = FormData::parse(&body)?;
    let raw = raw_from_form(&form);
    let tenant = tenant_of(&state, &user).await?;
    let teams = team_options(&state, tenant).await?;
    let team = parse_team(&raw.team_id, &teams);
    let practices = practice_options(&state, tenant).await?;
    let practice_ok = practices.iter().any(|(id, _)| *id == raw.practice_id.trim());
    let parsed = parse_referral(&raw, tenant, state.clock.now(), Channel::Professional);
    let (mut intake, team) = match (parsed, team) {
        (Ok(i), Ok(t)) if practice_ok => (i, t),
        (parsed, team) => {
            let mut page = referral_form(&state, &user).await?;
            page.refill(&form);
            page.field_errors(parsed.err().unwrap_or_default());
            if let Err(e) = team {
                page.field_errors(vec![e]);
            }
            if !practice_ok && !page.errors.iter().any(|e| e.field == "practice_id") {
                page.error("practice_id", "Choose a GP practice from the list");
            }
            return page.respond();
        }
    };
    intake.referral.team_id = team;
    intake.referral.referred_by = Some(user.id);
    save(&state, intake, Some(&user), source).await?;
    Ok(Redirect::to("/referrals?sent=1").into_response())
}

struct MadeRow {
    name: String,
    received: String,
    status: &'static str,
    decision: String,
}

#[derive(Template)]
#[template(path = "my_referrals.html")]
struct MyReferralsPage {
    nav: Nav,
    sent: bool,
    rows: Vec<MadeRow>,
}

fn decision_label(r: &Referral) -> String {
    let reason = r.decision_reason.as_deref().unwrap_or_default();
    match r.status {
        ReferralStatus::Declined => reason.parse::<DeclineReason>().map(|d| d.label().to_owned()).unwrap_or_default(),
        ReferralStatus::Redirected => {
            reason.parse::<RedirectTarget>().map(|d| format!("To: {}", d.label())).unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// A referrer's own referrals and where each stands; nothing else of the caseload.
pub(crate) async fn mine(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let made = state.store.referrals_made_by(user.id, 200).await?;
    state
        .audit(vec![crate::casework::listed(&state, &user, &source, "my_referrals", made.iter().map(|(_, p)| p.id))])
        .await?;
    let rows = made
        .iter()
        .map(|(r, p)| MadeRow {
            name: p.full_name(),
            received: r.received_at.uk().format("%d %b %Y").to_string(),
            status: r.status.label(),
            decision: decision_label(r),
        })
        .collect();
    let sent = q.as_deref().is_some_and(|q| q.contains("sent=1"));
    Ok(Html(MyReferralsPage { nav: Nav::for_user(&user), sent, rows }.render()?).into_response())
}

// ---- Self-referral -------------------------------------------------------------------------

async fn self_form(state: &AppState) -> Result<FormPage, AppError> {
    let mut pcn = Field::of("select", "service", "Where do you live?")
        .hint("Choose the social prescribing service for your GP practice's area");
    pcn.options = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .filter(|o| o.kind == OrgKind::Pcn)
        .map(|o| (o.id.to_string(), o.name))
        .collect();
    let mut fields = vec![pcn];
    fields.extend(person_fields(true));
    fields.extend(referral_fields(true));
    Ok(FormPage {
        nav: Nav::anonymous(),
        title: "Ask for help from a social prescribing link worker",
        intro: vec![
            "A link worker can help with things that affect your health and well-being, such as loneliness, money worries, housing or caring.",
            "They will contact you within two weeks. If you need help urgently, call 111, or 999 in an emergency.",
        ],
        action: "/self-referral".into(),
        submit: "Send",
        fields,
        errors: vec![],
        extras: FormExtras { honeypot: true, ..FormExtras::default() },
    })
}

pub(crate) async fn self_page(State(state): State<AppState>) -> Result<Response, AppError> {
    self_form(&state).await?.respond()
}

fn self_sent() -> Result<Response, AppError> {
    MessagePage {
        nav: Nav::anonymous(),
        title: "Thank you: we have your request",
        paragraphs: vec![
            "A link worker will contact you within two weeks, in the way you asked.".into(),
            "If things get worse, or you need help urgently, call 111, or 999 in an emergency.".into(),
        ],
        link: None,
    }
    .respond(StatusCode::OK)
}

pub(crate) async fn self_submit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    body: Bytes,
) -> Result<Response, AppError> {
    let form = FormData::parse(&body)?;
    let key = format!("selfref:{}", source.as_deref().unwrap_or("unknown"));
    let now = state.clock.now();
    // A bot filled in the field people cannot see: say thank you, keep nothing.
    if !form.get("website").is_empty() {
        tracing::info!("self-referral honeypot filled in; discarded");
        return self_sent();
    }
    let tenant = form.get("service").parse::<OrgId>().ok();
    let tenant = match tenant {
        Some(id) => state.store.get_org(id).await.ok().filter(|o| o.kind == OrgKind::Pcn).map(|o| o.id),
        None => None,
    };
    let raw = raw_from_form(&form);
    let parsed = parse_referral(&raw, tenant.unwrap_or_default(), now, Channel::SelfReferral);
    match (parsed, tenant) {
        (Ok(mut intake), Some(_)) => {
            // Requests that are accepted count (five per address in 15 minutes); corrections
            // after an error summary do not, so a person fixing their form is never locked out.
            // The place is reserved before anything is stored, so parallel posts cannot pass
            // one check (issue 11).
            if !state.store.reserve_attempt(std::slice::from_ref(&key), now).await? {
                return Err(AppError::TooMany);
            }
            intake.referral.referrer_name = "Self-referral".into();
            save(&state, intake, None, source).await?;
            self_sent()
        }
        (parsed, tenant) => {
            let mut page = self_form(&state).await?;
            form.refill(&mut page.fields);
            if tenant.is_none() {
                page.error("service", "Choose where you live from the list");
            }
            page.field_errors(parsed.err().unwrap_or_default());
            page.respond()
        }
    }
}

// ---- Triage --------------------------------------------------------------------------------

struct WaitingRow {
    id: String,
    name: String,
    received: String,
    waiting_days: i64,
    urgency: &'static str,
    urgent: bool,
    reason: String,
    source: &'static str,
}

#[derive(Template)]
#[template(path = "waiting.html")]
struct WaitingPage {
    nav: Nav,
    rows: Vec<WaitingRow>,
    longest: i64,
}

fn days_since(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days()
}

/// The waiting list: referrals to the user's teams (or to no team yet), oldest first.
pub(crate) async fn waiting(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
) -> Result<Response, AppError> {
    let teams = state.store.user_teams(user.id).await?;
    let items = state.store.waiting_referrals(user.org_id, &teams).await?;
    let now = state.clock.now();
    state
        .audit(vec![crate::casework::listed(&state, &user, &source, "waiting_list", items.iter().map(|(_, p)| p.id))])
        .await?;
    let rows: Vec<WaitingRow> = items
        .iter()
        .map(|(r, p)| WaitingRow {
            id: r.id.to_string(),
            name: p.full_name(),
            received: r.received_at.uk().format("%d %b %Y").to_string(),
            waiting_days: days_since(r.received_at, now),
            urgency: r.urgency.label(),
            urgent: r.urgency != Urgency::Routine,
            reason: r.reason.clone(),
            source: r.source.label(),
        })
        .collect();
    let longest = rows.iter().map(|r| r.waiting_days).max().unwrap_or(0);
    Ok(Html(WaitingPage { nav: Nav::for_user(&user), rows, longest }.render()?).into_response())
}

/// A referral the user may triage: in their organisation, to one of their teams or to none.
async fn triageable(state: &AppState, user: &User, id: &str) -> Result<(Referral, Person, Vec<TeamId>), AppError> {
    let id = id.parse::<ReferralId>().map_err(|_| AppError::NotFound)?;
    let referral = state.store.get_referral(user.org_id, id).await?;
    let teams = state.store.user_teams(user.id).await?;
    if referral.team_id.is_some_and(|t| !teams.contains(&t)) {
        return Err(AppError::Forbidden);
    }
    let person = state.store.get_person(user.org_id, referral.person_id).await?;
    Ok((referral, person, teams))
}

struct TriagePage {
    form: FormPage,
    open_episode: bool,
}

async fn triage_page_for(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    referral: Referral,
    person: &Person,
    teams: &[TeamId],
) -> Result<TriagePage, AppError> {
    let all_teams = state.store.list_teams(user.org_id).await?;
    let team = referral.team_id.or_else(|| teams.first().copied());
    let mut flags = vec![];
    if let Some(t) = team {
        let settings = state.store.team_settings(user.org_id, t).await?;
        flags =
            triage_flags(&settings, &referral, person, state.clock.now().uk_date()).into_iter().map(|f| f.0).collect();
    }
    let candidates: Vec<(PersonId, String)> = state
        .store
        .duplicate_candidates(user.org_id, person.nhs_number.as_ref(), person.date_of_birth)
        .await?
        .into_iter()
        .filter_map(|c| {
            likely_duplicate(person, &c).map(|why| {
                let text = format!(
                    "Possible duplicate record: {} ({}). Check and merge from the person's record.",
                    c.full_name(),
                    why.label()
                );
                (c.id, text)
            })
        })
        .collect();
    if !candidates.is_empty() {
        // Naming another record is a view of it.
        let entry = crate::casework::listed(state, user, source, "duplicates", candidates.iter().map(|c| c.0));
        state.audit(vec![entry]).await?;
    }
    let duplicates: Vec<String> = candidates.into_iter().map(|c| c.1).collect();
    let open_episode = state.store.person_episodes(user.org_id, person.id).await?.iter().any(Episode::is_open);
    let referrer = match referral.referred_by {
        Some(u) => match state.store.get_user(u).await {
            Ok(u) => {
                let org = state.store.get_org(u.org_id).await.map(|o| o.name).unwrap_or_default();
                format!("{}, {} ({}) {}", u.display_name, org, u.email, referral.referrer_name)
            }
            Err(_) => referral.referrer_name.clone(),
        },
        None => referral.referrer_name.clone(),
    };
    let mut team_field = Field::of("select", "team_id", "Team that takes the referral, if accepted");
    team_field.options = all_teams
        .iter()
        .filter(|t| teams.contains(&t.id) || referral.team_id == Some(t.id))
        .map(|t| (t.id.to_string(), t.name.clone()))
        .collect();
    team_field.value = team.map(|t| t.to_string()).unwrap_or_default();
    let mut worker = Field::of("select", "worker_id", "Link worker, if accepted");
    let mut workers: Vec<(String, String)> = vec![];
    for u in state.store.list_org_users(user.org_id).await? {
        if u.has_role(linkwork_domain::accounts::Role::LinkWorker) && !u.disabled {
            workers.push((u.id.to_string(), u.display_name));
        }
    }
    worker.options = std::iter::once((String::new(), "Not assigned yet".to_owned())).chain(workers).collect();
    worker.value =
        if user.has_role(linkwork_domain::accounts::Role::LinkWorker) { user.id.to_string() } else { String::new() };
    let form = FormPage {
        nav: Nav::for_user(user),
        title: "Triage the referral",
        intro: vec![],
        action: format!("/referrals/{}/triage", referral.id),
        submit: "Save decision",
        fields: vec![
            Field::of("radios", "decision", "Decision").options(vec![
                ("accept", "Accept: open an episode with a link worker"),
                ("decline", "Decline"),
                ("redirect", "Redirect to a more suitable service"),
            ]),
            team_field,
            worker,
            Field::of("select", "decline_reason", "If declining, why")
                .options_blank("Choose a reason", DeclineReason::options()),
            Field::of("select", "redirect_to", "If redirecting, where to")
                .options_blank("Choose where", RedirectTarget::options()),
            Field::of("textarea", "note", "Note (optional)")
                .hint("For the record and the referrer, for example what was agreed"),
        ],
        errors: vec![],
        extras: FormExtras {
            context: Some(crate::forms::PersonContext::of(person)),
            back: Some("/triage".into()),
            summary: vec![
                ("Received".into(), referral.received_at.uk().format("%d %b %Y %H:%M").to_string()),
                (
                    "From".into(),
                    format!("{}: {}", referral.source.label(), referrer.trim()).trim_end_matches([':', ' ']).to_owned(),
                ),
                ("Reason".into(), referral.reason.clone()),
                ("About".into(), referral.needs.iter().map(|n| n.label()).collect::<Vec<_>>().join(", ")),
                ("How soon".into(), referral.urgency.label().into()),
                ("Tried already".into(), referral.tried.clone()),
                ("Consent to refer".into(), if referral.consent { "Yes".into() } else { "Not recorded".into() }),
                ("Age".into(), person.age_on(state.clock.now().uk_date()).to_string()),
                ("Postcode".into(), person.postcode.as_ref().map(|p| p.to_string()).unwrap_or_default()),
            ],
            warnings: flags.into_iter().chain(duplicates).collect(),
            notices: if open_episode {
                vec!["This person already has an open episode: accepting adds this referral to it, and the referral code is not recorded again.".into()]
            } else {
                vec![]
            },
            ..FormExtras::default()
        },
    };
    Ok(TriagePage { form, open_episode })
}

fn audit_view(state: &AppState, user: &User, source: &Option<String>, person: PersonId, what: &str) -> AuditEntry {
    AuditEntry {
        person_id: Some(person),
        record_id: Some(person.to_string()),
        source: source.clone(),
        ..AuditEntry::new(state.clock.now(), AuditAction::View, what).by(user)
    }
}

pub(crate) async fn triage_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (referral, person, teams) = triageable(&state, &user, &id).await?;
    state.audit(vec![audit_view(&state, &user, &source, person.id, "referral")]).await?;
    if referral.status != ReferralStatus::Received {
        return Ok(Redirect::to(&format!("/people/{}", person.id)).into_response());
    }
    triage_page_for(&state, &user, &source, referral, &person, &teams).await?.form.respond()
}

pub(crate) async fn triage(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let form = FormData::parse(&body)?;
    let (referral, person, teams) = triageable(&state, &user, &id).await?;
    let mut page = triage_page_for(&state, &user, &source, referral.clone(), &person, &teams).await?;
    form.refill(&mut page.form.fields);
    let now = state.clock.now();
    let note = form.get("note").trim().to_owned();
    if note.chars().count() > 2000 {
        page.form.error("note", "Keep the note to 2,000 characters or fewer");
    }
    let decision = form.get("decision");
    let mut reason = None;
    let mut open_episode = None;
    let status = match decision.as_str() {
        "accept" => {
            let team =
                form.get("team_id").parse::<TeamId>().ok().filter(|t| page.form.offers("team_id", &t.to_string()));
            let worker = match form.get("worker_id") {
                w if w.is_empty() => Some(None),
                w => w.parse::<UserId>().ok().filter(|u| page.form.offers("worker_id", &u.to_string())).map(Some),
            };
            match (team, worker) {
                (Some(team), Some(worker)) if !page.open_episode => {
                    let settings = state.store.team_settings(user.org_id, team).await?;
                    open_episode = Some(Episode {
                        id: EpisodeId::new(),
                        org_id: user.org_id,
                        person_id: person.id,
                        referral_id: referral.id,
                        team_id: team,
                        worker_id: worker,
                        work: EpisodeWork::Connecting,
                        opened_at: now,
                        follow_up_on: Some(now.uk_date() + chrono::Duration::days(i64::from(settings.follow_up_days))),
                        version: 1,
                        ..Episode::default()
                    });
                }
                _ if page.open_episode => {}
                (Some(_), Some(_)) => {}
                (None, _) => page.form.error("team_id", "Choose the team that takes the referral"),
                (_, None) => page.form.error("worker_id", "Choose a link worker from the list"),
            }
            ReferralStatus::Accepted
        }
        "decline" => {
            match form.get("decline_reason").parse::<DeclineReason>() {
                Ok(r) => {
                    if r == DeclineReason::Other && note.is_empty() {
                        page.form.error("note", "Say why in the note when the reason is \"other\"");
                    }
                    reason = Some(r.as_str().to_owned());
                }
                Err(_) => page.form.error("decline_reason", "Choose why the referral is declined"),
            }
            ReferralStatus::Declined
        }
        "redirect" => {
            match form.get("redirect_to").parse::<RedirectTarget>() {
                Ok(r) => reason = Some(r.as_str().to_owned()),
                Err(_) => page.form.error("redirect_to", "Choose where the referral is redirected to"),
            }
            ReferralStatus::Redirected
        }
        _ => {
            page.form.error("decision", "Choose accept, decline or redirect");
            ReferralStatus::Received
        }
    };
    if !page.form.errors.is_empty() {
        return page.form.respond();
    }
    let outcome = match status {
        ReferralStatus::Accepted if open_episode.is_some() => Outcome::AcceptedNewEpisode,
        ReferralStatus::Accepted => Outcome::AcceptedIntoOpenEpisode,
        ReferralStatus::Declined => {
            Outcome::Declined(reason.as_deref().and_then(|r| r.parse().ok()).unwrap_or(DeclineReason::Other))
        }
        _ => Outcome::Redirected,
    };
    let codes = codes_for(outcome)
        .into_iter()
        .map(|(code, term)| CodedEvent {
            id: CodedEventId::new(),
            org_id: user.org_id,
            person_id: person.id,
            referral_id: referral.id,
            episode_id: open_episode.as_ref().map(|e| e.id),
            code: code.into(),
            term: term.into(),
            recorded_at: now,
            recorded_by: Some(user.id),
        })
        .collect();
    let decision = TriageDecision {
        org_id: user.org_id,
        referral_id: referral.id,
        status,
        reason,
        note: (!note.is_empty()).then_some(note),
        by: user.id,
        at: now,
        open_episode,
        codes,
    };
    match state.store.decide_referral(&decision).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return MessagePage {
                nav: Nav::for_user(&user),
                title: "Someone else has already triaged this referral",
                paragraphs: vec!["Their decision stands. Open the person's record to see it.".into()],
                link: Some(("Back to the waiting list", "/triage")),
            }
            .respond(StatusCode::CONFLICT);
        }
        Err(e) => return Err(e.into()),
    }
    let entry = AuditEntry {
        person_id: Some(person.id),
        record_id: Some(referral.id.to_string()),
        reason: Some(format!("triage: {}", status.as_str())),
        source,
        ..AuditEntry::new(now, AuditAction::Update, "referral").by(&user)
    };
    state.audit(vec![entry]).await?;
    let next = if status == ReferralStatus::Accepted { format!("/people/{}", person.id) } else { "/triage".into() };
    Ok(Redirect::to(&next).into_response())
}
