//! The link worker's day (caseload) and finding a person.

use crate::access::auth::CurrentUser;
use crate::pages::Nav;
use crate::people::listed;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use linkwork_domain::casework::{CaseloadItem, NORM_CONTACTS_PER_PERSON, NORM_PEOPLE_PER_YEAR};
use linkwork_domain::uktime::UkTime;
use linkwork_domain::values::NhsNumber;

use super::date;

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
    lone_working: bool,
    new_answers: i64,
    /// Outcome measures due or overdue by the team's settings ("ONS4 baseline overdue").
    measures: Vec<(String, bool)>,
}

struct RecentRow {
    person_id: String,
    name: String,
    received: String,
    reason: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "casework/caseload.html")]
struct CaseloadPage {
    nav: Nav,
    team_view: bool,
    no_team: bool,
    rows: Vec<CaseRow>,
    /// The group shown (`overdue`, `holding`, `today`; empty for everyone), its heading, and a
    /// link to each group, keeping the view.
    show: &'static str,
    heading: &'static str,
    links: GroupLinks,
    /// How many people the group holds, the page shown and the pages in all.
    shown_total: usize,
    page: usize,
    pages: usize,
    prev_link: Option<String>,
    next_link: Option<String>,
    active: usize,
    holding: usize,
    waiting: usize,
    overdue: usize,
    today: usize,
    /// People with answers from services not yet read.
    answers: usize,
    /// People with an outcome measure due or overdue.
    measures: usize,
    for_supervision: usize,
    mean_contacts: String,
    norm_people: (i64, i64),
    norm_contacts: (i64, i64),
    recent: Vec<RecentRow>,
}

/// People per page of the caseload.
const PER_PAGE: usize = 25;

/// The groups the counts at the top open: who needs attention first.
const GROUPS: &[(&str, &str)] = &[
    ("", "Open episodes"),
    ("overdue", "Overdue follow-ups or holding reviews"),
    ("today", "Appointments today"),
    ("holding", "Holding"),
    ("answers", "New answers from services"),
    ("measures", "Outcome measures due"),
];

#[derive(serde::Deserialize, Default)]
pub(crate) struct CaseloadQuery {
    #[serde(default)]
    view: String,
    #[serde(default)]
    show: String,
    #[serde(default)]
    page: String,
}

/// A link to each group of the caseload, keeping the view (mine or the team's).
struct GroupLinks {
    all: String,
    overdue: String,
    today: String,
    holding: String,
    answers: String,
    measures: String,
}

/// The link worker's day: their open episodes (or the team's), the counts that matter today,
/// with the national norms as context, and the latest referrals to the team. The counts open
/// their group; a group is shown 25 people at a time, those needing attention first.
pub(crate) async fn caseload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    axum::extract::Query(q): axum::extract::Query<CaseloadQuery>,
) -> Result<Response, AppError> {
    let team_view = q.view == "team";
    let (show, heading) = GROUPS.iter().copied().find(|(code, _)| *code == q.show).unwrap_or(GROUPS[0]);
    let teams = state.store.user_teams(user.id).await?;
    let now = state.clock.now();
    let today = now.uk_date();
    let worker = if team_view { None } else { Some(user.id) };
    let items: Vec<CaseloadItem> = state.store.caseload(user.org_id, &teams, worker, now).await?;
    let waiting = usize::try_from(state.store.count_waiting(user.org_id, &teams).await?).unwrap_or(0);
    let recent = state.store.team_referrals(user.org_id, &teams, 20).await?;
    // What each episode has due by its team's outcome plan: one read of their records, the
    // settings once per team.
    let ids: Vec<_> = items.iter().map(|i| i.episode.id).collect();
    let records = state.store.episode_outcomes(user.org_id, &ids).await?;
    let mut plans: std::collections::HashMap<linkwork_domain::ids::TeamId, linkwork_domain::outcomes::OutcomePlan> =
        Default::default();
    let mut due: std::collections::HashMap<linkwork_domain::ids::EpisodeId, Vec<linkwork_domain::outcomes::Due>> =
        Default::default();
    for i in &items {
        let plan = match plans.get(&i.episode.team_id) {
            Some(p) => p.clone(),
            None => {
                let p = state.store.team_settings(user.org_id, i.episode.team_id).await?.outcome_plan();
                plans.insert(i.episode.team_id, p.clone());
                p
            }
        };
        let mine: Vec<_> = records.iter().filter(|r| r.episode_id == i.episode.id).collect();
        let d = linkwork_domain::outcomes::due(&plan, i.first_contact, &mine, today);
        if !d.is_empty() {
            due.insert(i.episode.id, d);
        }
    }
    // The group asked for, those needing attention first, then a page of it.
    let mut group: Vec<&CaseloadItem> = items
        .iter()
        .filter(|i| match show {
            "overdue" => i.overdue(today),
            "today" => i.appointment_today(today),
            "holding" => i.holding(),
            "answers" => i.new_answers > 0,
            "measures" => due.contains_key(&i.episode.id),
            _ => true,
        })
        .collect();
    group.sort_by_key(|i| (!i.overdue(today), !i.appointment_today(today), i.new_answers == 0));
    let pages = group.len().div_ceil(PER_PAGE).max(1);
    let page_no = q.page.parse::<usize>().unwrap_or(1).clamp(1, pages);
    let on_page: Vec<&CaseloadItem> = group.iter().skip((page_no - 1) * PER_PAGE).take(PER_PAGE).copied().collect();
    let view = if team_view { "view=team&" } else { "" };
    let link = |show: &str, page: usize| format!("/caseload?{view}show={show}&page={page}");
    // Every person listed is a view of their data, recorded (one event with its people) before
    // the list is shown.
    let shown = on_page.iter().map(|i| i.episode.person_id).chain(recent.iter().map(|(_, p)| p.id));
    state.audit(vec![listed(&state, &user, &source, "caseload", shown)]).await?;
    let total_contacts: i64 = items.iter().map(|i| i.contacts).sum();
    let mean_contacts = if items.is_empty() {
        "0".into()
    } else {
        let tenths = total_contacts * 10 / i64::try_from(items.len()).unwrap_or(1);
        format!("{}.{}", tenths / 10, tenths % 10)
    };
    let rows: Vec<CaseRow> = on_page
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
            lone_working: i.lone_working,
            new_answers: i.new_answers,
            measures: due
                .get(&i.episode.id)
                .map(|d| d.iter().map(|x| (x.describe(), x.overdue)).collect())
                .unwrap_or_default(),
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
        answers: items.iter().filter(|i| i.new_answers > 0).count(),
        measures: due.len(),
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
        show,
        heading,
        links: GroupLinks {
            all: link("", 1),
            overdue: link("overdue", 1),
            today: link("today", 1),
            holding: link("holding", 1),
            answers: link("answers", 1),
            measures: link("measures", 1),
        },
        shown_total: group.len(),
        page: page_no,
        pages,
        prev_link: (page_no > 1).then(|| link(show, page_no - 1)),
        next_link: (page_no < pages).then(|| link(show, page_no + 1)),
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
