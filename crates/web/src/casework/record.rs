//! The person's record page: details, duplicates, referrals and every episode with its casework.

use crate::forms::PersonContext;
use crate::pages::Nav;
use crate::people::listed;
use crate::{AppError, AppState};
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use linkwork_domain::access::accounts::User;
use linkwork_domain::casework::{AppointmentStatus, Episode, HoldingEnd};
use linkwork_domain::ids::PersonId;
use linkwork_domain::intake::referrals::Referral;
use linkwork_domain::people::FlagKind;
use linkwork_domain::people::{Person, likely_duplicate};
use linkwork_domain::uktime::UkTime;

use super::date;

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
    /// The summaries sent: version and day.
    sent: Vec<(i32, String)>,
    /// Each reopening: when, and why.
    reopened: Vec<(String, String)>,
    /// The day of the first contact: when outcome measures fall due.
    first_contact: Option<NaiveDate>,
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
#[template(path = "casework/record.html")]
struct RecordPage {
    nav: Nav,
    context: Option<PersonContext>,
    person_id: String,
    details: Vec<(&'static str, String)>,
    /// Each flag's form: its code, label and words as they stand.
    flags: Vec<(&'static str, &'static str, String)>,
    /// Every change to the flags, newest first: day, flag, what happened, the words, who.
    flag_history: Vec<(String, &'static str, &'static str, String, String)>,
    merged_into: Option<String>,
    break_glass_reason: Option<String>,
    duplicates: Vec<(String, String, &'static str)>,
    referrals: Vec<ReferralView>,
    episodes: Vec<EpisodeView>,
    codes: Vec<(String, String, String)>,
    connections: Vec<crate::connections::ConnectionView>,
    /// Answers from services the team had not read: shown once, then they are read.
    new_answers: usize,
    /// How a worker may end a holding period (discharge's "episode closed" is not theirs to pick).
    holding_ends: Vec<(&'static str, &'static str)>,
    /// What can have happened at a booked appointment.
    appointment_outcomes: Vec<(&'static str, &'static str)>,
    /// Outcome measures: scores over time, what is due, links sent.
    outcomes: crate::outcomes::OutcomesView,
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
    let sent = state.store.message_backs(org, e.id).await?;
    let reopenings = state.store.reopenings(org, e.id).await?;
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
        sent: sent.iter().map(|m| (m.version, date(m.sent_at.uk_date()))).collect(),
        reopened: reopenings.into_iter().map(|r| (date(r.at.uk_date()), r.reason)).collect(),
        first_contact: contacts.iter().map(|c| c.happened_on).min(),
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
                date: match c.happened_at {
                    Some(at) => format!("{}, {}", date(c.happened_on), at.uk().format("%H:%M")),
                    None => date(c.happened_on),
                },
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
    done: &crate::pages::Done,
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
    let connections = crate::connections::person_connections(state, user.org_id, &person).await?;
    if connections.iter().any(|c| c.news.is_some()) {
        state.store.mark_answers_seen(user.org_id, person.id, state.clock.now()).await?;
    }
    let p = &person;
    let mut names: std::collections::HashMap<linkwork_domain::ids::UserId, String> = Default::default();
    let mut flag_history = vec![];
    for c in state.store.flag_history(user.org_id, p.id).await?.into_iter().rev() {
        let by = match c.by {
            Some(u) => match names.get(&u) {
                Some(n) => n.clone(),
                None => {
                    let n = state.store.get_user(u).await?.display_name;
                    names.insert(u, n.clone());
                    n
                }
            },
            None => "Not recorded".into(),
        };
        flag_history.push((date(c.at.uk_date()), c.kind.label(), c.action.label(), c.text.unwrap_or_default(), by));
    }
    let first_contact = episodes.iter().zip(&views).find(|(e, _)| e.is_open()).and_then(|(_, v)| v.first_contact);
    let outcomes = crate::outcomes::record_section(state, p, &episodes, first_contact, today).await?;
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
        holding_ends: HoldingEnd::options().into_iter().filter(|(c, _)| *c != HoldingEnd::Closed.as_str()).collect(),
        appointment_outcomes: AppointmentStatus::options()
            .into_iter()
            .filter(|(c, _)| *c != AppointmentStatus::Booked.as_str())
            .collect(),
        nav: Nav::for_user(user).done(done),
        context: Some(PersonContext::of(p)),
        person_id: p.id.to_string(),
        details,
        flags: FlagKind::ALL.iter().map(|k| (k.as_str(), k.label(), k.on(p).unwrap_or_default().to_owned())).collect(),
        flag_history,
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
                waiting: r.status == linkwork_domain::intake::referrals::ReferralStatus::Received,
            })
            .collect(),
        episodes: views,
        outcomes,
        codes,
        new_answers: connections.iter().filter(|c| c.news.is_some()).count(),
        connections,
    };
    Ok(Html(page.render()?).into_response())
}
