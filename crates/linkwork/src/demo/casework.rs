//! A year of casework for one PCN's referrals: episodes with needs, goals, contacts, holding, appointments, discharges and their codes.

use super::words::OWN_WORDS;
use super::words::Rng;
use chrono::Duration;
use chrono::{DateTime, Utc};
use linkwork_domain::access::organisations::Team;
use linkwork_domain::casework::coding::{CodedEvent, REFERRAL_TO_SOCIAL_PRESCRIBING};
use linkwork_domain::casework::{
    Appointment, AppointmentStatus, Contact, ContactLocation, ContactMode, DischargeReason, Episode, EpisodeWork, Goal,
    GoalStatus, HoldingEnd, HoldingPeriod, HoldingReason, Need, NeedDomain,
};
use linkwork_domain::ids::{AppointmentId, CodedEventId, ContactId, EpisodeId, GoalId, HoldingId, NeedId, UserId};
use linkwork_domain::intake::referrals::{Referral, ReferralStatus};
use linkwork_domain::ports::CaseworkBatch;
use linkwork_domain::uktime::UkTime;

/// A year of casework for a PCN's accepted referrals: an episode for each person's first
/// accepted referral, with what matters to them, goals, contacts in the team's usual ways (and
/// sometimes not), holding, appointments, and for older episodes a discharge.
pub(super) fn casework(
    rng: &mut Rng,
    now: DateTime<Utc>,
    team: &Team,
    workers: &[UserId],
    referrals: &[Referral],
) -> CaseworkBatch {
    let today = now.uk_date();
    let mut b = CaseworkBatch::default();
    let mut sorted: Vec<&Referral> = referrals.iter().filter(|r| r.status == ReferralStatus::Accepted).collect();
    sorted.sort_by_key(|r| r.received_at);
    let mut seen = std::collections::HashSet::new();
    for r in sorted {
        if !seen.insert(r.person_id) {
            continue;
        }
        let opened_at = (r.received_at + Duration::days(i64::try_from(rng.below(6) + 1).unwrap_or(1))).min(now);
        let age = (now - opened_at).num_days();
        let closed_at = (age > 120 && rng.chance(85))
            .then(|| {
                opened_at
                    + Duration::days(60 + i64::try_from(rng.below(usize::try_from(age - 60).unwrap_or(1))).unwrap_or(0))
            })
            .filter(|c| *c < now);
        let worker = *rng.pick(workers);
        let id = EpisodeId::new();
        let end = closed_at.unwrap_or(now).uk_date();
        let span = (end - opened_at.uk_date()).num_days().max(1);
        let n_contacts = if closed_at.is_some() {
            3 + rng.below(9)
        } else {
            1 + rng.below(usize::try_from(span / 10 + 1).unwrap_or(1).min(8))
        };
        let mut last = opened_at.uk_date();
        let mut first_contact: Option<(ContactId, chrono::DateTime<chrono::Utc>)> = None;
        // Open episodes were last seen recently (most follow-ups are not yet due).
        let reach = if closed_at.is_some() { span } else { (span - i64::try_from(rng.below(17)).unwrap_or(0)).max(0) };
        let n = i64::try_from(n_contacts).unwrap_or(1);
        for k in 0..n_contacts {
            let k = i64::try_from(k).unwrap_or(0);
            // Closed episodes: from the first day to the last. Open ones: the latest contact
            // `reach` days in, so most follow-ups are not yet due.
            let offset = if closed_at.is_some() { reach * k / (n - 1).max(1) } else { reach * (k + 1) / n };
            let day = opened_at.uk_date() + Duration::days(offset);
            last = day;
            let (mode, location) = match rng.below(100) {
                0..45 => (ContactMode::FaceToFace, ContactLocation::Practice),
                45..75 => (ContactMode::Phone, ContactLocation::Remote),
                75..85 => (ContactMode::HomeVisit, ContactLocation::Home),
                85..93 => (ContactMode::FaceToFace, ContactLocation::Community),
                93..97 => (ContactMode::Video, ContactLocation::Remote),
                _ => (ContactMode::Text, ContactLocation::Remote),
            };
            let minutes = i32::try_from(*rng.pick(&[20usize, 30, 45, 45, 45, 60, 60, 90, 120])).unwrap_or(45);
            // Working hours, UK time, on the quarter hour.
            let clock = chrono::NaiveTime::from_hms_opt(
                9 + u32::try_from(rng.below(7)).unwrap_or(0),
                15 * u32::try_from(rng.below(4)).unwrap_or(0),
                0,
            );
            let happened_at =
                clock.and_then(|t| linkwork_domain::uktime::from_uk(day.and_time(t))).filter(|at| *at <= now);
            let contact_id = ContactId::new();
            if first_contact.is_none() {
                first_contact = Some((contact_id, happened_at.unwrap_or(opened_at)));
            }
            b.contacts.push(Contact {
                id: contact_id,
                org_id: team.org_id,
                episode_id: id,
                worker_id: Some(worker),
                happened_on: day,
                happened_at,
                minutes,
                mode,
                location,
                present: if rng.chance(15) { "Daughter".into() } else { String::new() },
                notes: String::new(),
                outside_usual: minutes > 90 || location == ContactLocation::Home && rng.chance(50),
                created_at: opened_at,
            });
        }
        let needs = if r.needs.is_empty() { vec![NeedDomain::Other] } else { r.needs.clone() };
        for (j, domain) in needs.iter().enumerate() {
            let (_, said, goal) = OWN_WORDS.iter().find(|(d, _, _)| d == domain).copied().unwrap_or(OWN_WORDS[0]);
            b.needs.push(Need {
                id: NeedId::new(),
                org_id: team.org_id,
                episode_id: id,
                domain: *domain,
                own_words: said.into(),
                recorded_at: opened_at,
                recorded_by: Some(worker),
            });
            if j < 2 {
                let status = match (closed_at.is_some(), rng.below(10)) {
                    (true, 0..6) => GoalStatus::Achieved,
                    (true, 6..8) => GoalStatus::PartlyAchieved,
                    (true, _) => GoalStatus::Stopped,
                    (false, 0..4) => GoalStatus::InProgress,
                    (false, 4..6) => GoalStatus::NotStarted,
                    (false, _) => GoalStatus::PartlyAchieved,
                };
                b.goals.push(Goal {
                    id: GoalId::new(),
                    org_id: team.org_id,
                    episode_id: id,
                    domain: *domain,
                    own_words: goal.into(),
                    steps: String::new(),
                    status,
                    progress: i32::try_from(rng.below(11)).unwrap_or(5),
                    created_at: opened_at,
                    updated_at: opened_at,
                    version: 1,
                });
            }
        }
        let holding = rng.chance(30);
        if holding {
            let started_on = opened_at.uk_date() + Duration::days(span / 4);
            let ended_on = closed_at
                .map(|c| c.uk_date())
                .or_else(|| rng.chance(30).then(|| started_on + Duration::days(span / 2)));
            b.holdings.push(HoldingPeriod {
                id: HoldingId::new(),
                org_id: team.org_id,
                episode_id: id,
                reason: *rng.pick(HoldingReason::ALL),
                started_on,
                review_on: started_on + Duration::days(28),
                ended_on: ended_on.filter(|e| *e <= today && *e > started_on),
                ended_how: ended_on
                    .map(|_| if closed_at.is_some() { HoldingEnd::Closed } else { HoldingEnd::ServiceStarted }),
                note: String::new(),
            });
        }
        if closed_at.is_none() && rng.chance(40) {
            let in_days = i64::try_from(rng.below(14)).unwrap_or(0);
            let hour = 9 + i64::try_from(rng.below(7)).unwrap_or(0);
            let starts_at =
                (today + Duration::days(in_days)).and_hms_opt(0, 0, 0).map(|t| t.and_utc() + Duration::hours(hour));
            if let Some(starts_at) = starts_at.filter(|s| *s > now) {
                b.appointments.push(Appointment {
                    id: AppointmentId::new(),
                    org_id: team.org_id,
                    episode_id: id,
                    person_id: r.person_id,
                    worker_id: Some(worker),
                    starts_at,
                    minutes: 45,
                    mode: ContactMode::FaceToFace,
                    location: ContactLocation::Practice,
                    status: AppointmentStatus::Booked,
                    remind: false,
                    created_at: now,
                });
            }
        }
        // The referral code, at the first contact (the first interaction with the person).
        if let Some((contact, at)) = first_contact {
            b.codes.push(CodedEvent {
                id: CodedEventId::new(),
                org_id: team.org_id,
                person_id: r.person_id,
                referral_id: r.id,
                episode_id: Some(id),
                contact_id: Some(contact),
                code: REFERRAL_TO_SOCIAL_PRESCRIBING.0.into(),
                term: REFERRAL_TO_SOCIAL_PRESCRIBING.1.into(),
                recorded_at: at,
                recorded_by: Some(worker),
            });
        }
        let discharge_reason = closed_at.map(|_| match rng.below(10) {
            0..4 => DischargeReason::GoalsMet,
            4..7 => DischargeReason::ConnectedOnward,
            7 => DischargeReason::PersonEnded,
            8 => DischargeReason::NoContact,
            _ => DischargeReason::Moved,
        });
        b.episodes.push(Episode {
            id,
            org_id: team.org_id,
            person_id: r.person_id,
            referral_id: r.id,
            team_id: team.id,
            worker_id: Some(worker),
            work: if holding { EpisodeWork::Both } else { EpisodeWork::Connecting },
            opened_at,
            follow_up_on: closed_at.is_none().then(|| last + Duration::days(14)),
            closed_at,
            discharge_reason,
            discharge_note: closed_at
                .map(|_| "Met several times; connected to local groups; feels more confident.".to_owned()),
            version: 1,
        });
    }
    b
}

/// The summaries the discharged episodes sent, kept as sent: built from the demo record once it
/// is written (connections included), as the discharge would have built them.
pub(super) async fn sent_summaries(
    store: &dyn linkwork_domain::ports::Store,
    clock: &dyn linkwork_domain::Clock,
    episodes: &[linkwork_domain::casework::Episode],
) -> anyhow::Result<usize> {
    use anyhow::Context;
    use linkwork_domain::casework::message_back::SentMessageBack;
    use linkwork_domain::ids::MessageBackId;
    use linkwork_domain::usecases::{Services, message_back};
    let audit = linkwork_domain::access::audit::Direct(store);
    let s = Services { store, audit: &audit, clock };
    let mut sent = vec![];
    for e in episodes {
        let Some(closed_at) = e.closed_at else { continue };
        let person = store.get_person(e.org_id, e.person_id).await.context("reading a demo person")?;
        let document =
            message_back::build(s, e, &person).await.map_err(|f| anyhow::anyhow!("building a demo summary: {f}"))?;
        sent.push(SentMessageBack {
            id: MessageBackId::new(),
            org_id: e.org_id,
            episode_id: e.id,
            version: 1,
            document,
            changes: None,
            sent_at: closed_at,
            sent_by: e.worker_id,
        });
    }
    let n = sent.len();
    store
        .insert_casework(&CaseworkBatch { message_backs: sent, ..CaseworkBatch::default() })
        .await
        .context("writing demo summaries")?;
    Ok(n)
}
