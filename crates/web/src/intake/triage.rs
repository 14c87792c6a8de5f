//! The waiting list and triage: accept, decline or redirect, with the team's advice and possible duplicates.

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage, MessagePage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::casework::coding::{CodedEvent, Outcome, codes_for};
use linkwork_domain::casework::{Episode, EpisodeWork};
use linkwork_domain::ids::{CodedEventId, EpisodeId, PersonId, ReferralId, TeamId, UserId};
use linkwork_domain::intake::referrals::{
    DeclineReason, RedirectTarget, Referral, ReferralStatus, Urgency, triage_flags,
};
use linkwork_domain::people::{Person, likely_duplicate};
use linkwork_domain::ports::{StoreError, TriageDecision};
use linkwork_domain::uktime::UkTime;

pub(super) struct WaitingRow {
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
#[template(path = "intake/waiting.html")]
pub(super) struct WaitingPage {
    nav: Nav,
    rows: Vec<WaitingRow>,
    longest: i64,
}

pub(super) fn days_since(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days()
}

/// The waiting list: referrals to the user's teams (or to no team yet), oldest first.
pub(crate) async fn waiting(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    axum::extract::Query(done): axum::extract::Query<crate::pages::Done>,
) -> Result<Response, AppError> {
    let teams = state.store.user_teams(user.id).await?;
    let items = state.store.waiting_referrals(user.org_id, &teams).await?;
    let now = state.clock.now();
    state
        .audit(vec![crate::people::listed(&state, &user, &source, "waiting_list", items.iter().map(|(_, p)| p.id))])
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
    Ok(Html(WaitingPage { nav: Nav::for_user(&user).done(&done), rows, longest }.render()?).into_response())
}

/// A referral the user may triage: in their organisation, to one of their teams or to none.
pub(super) async fn triageable(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<(Referral, Person, Vec<TeamId>), AppError> {
    let id = id.parse::<ReferralId>().map_err(|_| AppError::NotFound)?;
    let referral = state.store.get_referral(user.org_id, id).await?;
    let teams = state.store.user_teams(user.id).await?;
    if referral.team_id.is_some_and(|t| !teams.contains(&t)) {
        return Err(AppError::Forbidden);
    }
    let person = state.store.get_person(user.org_id, referral.person_id).await?;
    Ok((referral, person, teams))
}

pub(super) struct TriagePage {
    form: FormPage,
    open_episode: bool,
}

pub(super) async fn triage_page_for(
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
        let entry = crate::people::listed(state, user, source, "duplicates", candidates.iter().map(|c| c.0));
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
        if u.has_role(linkwork_domain::access::accounts::Role::LinkWorker) && !u.disabled {
            workers.push((u.id.to_string(), u.display_name));
        }
    }
    worker.options = std::iter::once((String::new(), "Not assigned yet".to_owned())).chain(workers).collect();
    worker.value = if user.has_role(linkwork_domain::access::accounts::Role::LinkWorker) {
        user.id.to_string()
    } else {
        String::new()
    };
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

pub(crate) async fn triage_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (referral, person, teams) = triageable(&state, &user, &id).await?;
    state.audit(vec![crate::people::viewed(&state, &user, &source, person.id, "referral")]).await?;
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
    form: FormData,
) -> Result<Response, AppError> {
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
            contact_id: None,
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
        Err(StoreError::Conflict(linkwork_domain::ports::Conflict::AnotherEpisodeOpen)) => {
            return MessagePage {
                nav: Nav::for_user(&user),
                title: "An episode was opened for this person meanwhile",
                paragraphs: vec![
                    "Another referral for them was accepted while you were deciding. Nothing was saved: triage this referral again and it joins the episode that is now open.".into(),
                ],
                link: Some(("Back to the waiting list", "/triage")),
            }
            .respond(StatusCode::CONFLICT);
        }
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
    Ok(match status {
        ReferralStatus::Accepted => crate::pages::after(&format!("/people/{}", person.id), "accepted"),
        ReferralStatus::Redirected => crate::pages::after("/triage", "redirected"),
        _ => crate::pages::after("/triage", "declined"),
    }
    .into_response())
}
