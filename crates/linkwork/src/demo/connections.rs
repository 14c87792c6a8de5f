//! Demo connections from people's records to services: signposts, and referrals at every stage of the closed loop.

use super::words::Rng;
use chrono::Duration;
use chrono::{DateTime, Utc};
use linkwork_domain::access::accounts::User;
use linkwork_domain::casework::NeedDomain;
use linkwork_domain::ids::{ServiceId, UserId};
use linkwork_domain::people::Person;
use linkwork_domain::ports::Store;

/// Connections from about one episode in six to the PCN's services, at every stage of the closed
/// loop: waiting for an answer (some past the nudge), accepted, attending, completed, declined
/// with a reason (at capacity becoming unmet need), did not attend; and signposts.
#[allow(clippy::too_many_arguments)]
pub(super) async fn demo_connections(
    store: &dyn Store,
    rng: &mut Rng,
    now: DateTime<Utc>,
    episodes: &[linkwork_domain::casework::Episode],
    people: &[Person],
    directory: &linkwork_domain::ports::DirectoryBatch,
    workers: &[User],
    partner: (UserId, String),
) -> anyhow::Result<usize> {
    use linkwork_domain::connections::{
        Connection, ConnectionEvent, ConnectionKind, DeclineReason, SharedDetails, Side, TaskStatus,
    };
    use linkwork_domain::ids::ConnectionId;
    let active: Vec<&linkwork_domain::directory::oruk::ServiceEntry> =
        directory.services.iter().filter(|s| s.document.status == "active").collect();
    if active.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    for e in episodes {
        if !rng.chance(17) {
            continue;
        }
        let Some(person) = people.iter().find(|p| p.id == e.person_id) else { continue };
        let Some(worker) = workers.iter().find(|w| Some(w.id) == e.worker_id).or(workers.first()) else { continue };
        let service = active[rng.below(active.len())];
        let created = e.opened_at + Duration::days(i64::try_from(7 + rng.below(40)).unwrap_or(7));
        if created > now {
            continue;
        }
        let refer = rng.chance(75);
        let need =
            [NeedDomain::Loneliness, NeedDomain::PhysicalActivity, NeedDomain::MentalWellbeing, NeedDomain::Money]
                [rng.below(4)];
        let c = Connection {
            id: ConnectionId::new(),
            org_id: e.org_id,
            person_id: person.id,
            episode_id: Some(e.id),
            service_id: ServiceId(service.document.id),
            service_name: service.document.name.clone(),
            kind: if refer { ConnectionKind::Refer } else { ConnectionKind::Signpost },
            status: if refer { TaskStatus::Requested } else { TaskStatus::Completed },
            need,
            shared: SharedDetails {
                name: if refer { person.full_name() } else { String::new() },
                phone: person.phone.clone().filter(|_| refer),
                note: if refer { "Would like to go with someone the first time.".into() } else { String::new() },
                link_worker: worker.display_name.clone(),
                link_worker_email: worker.email.as_str().to_owned(),
                ..SharedDetails::default()
            },
            consent_at: refer.then_some(created),
            created_by: worker.id,
            created_at: created,
            updated_at: created,
            answered_at: None,
            reminded_at: None,
            unanswered_at: None,
            service_said_at: None,
            seen_at: None,
            reason: None,
            version: 1,
        };
        let event = |status, reason, hours: i64, note: &str| ConnectionEvent {
            connection_id: c.id,
            status,
            reason,
            note: note.to_owned(),
            at: (created + Duration::hours(hours)).min(now),
            by: partner.0,
            by_name: partner.1.clone(),
        };
        let first = ConnectionEvent {
            by: worker.id,
            by_name: worker.display_name.clone(),
            ..event(c.status, None, 0, if refer { "Referred" } else { "Signposted" })
        };
        store.create_connection(&c, &first).await?;
        n += 1;
        if !refer || now - created < Duration::days(3) {
            continue;
        }
        let reply = i64::try_from(4 + rng.below(24 * 9)).unwrap_or(24);
        let path: Vec<(TaskStatus, Option<DeclineReason>, i64, &str)> = match rng.below(10) {
            0 => vec![],
            1 => vec![(TaskStatus::Rejected, Some(DeclineReason::AtCapacity), reply, "Full until the spring")],
            2 => vec![(TaskStatus::Rejected, Some(DeclineReason::UnableToContact), reply, "Three calls, no answer")],
            3 => vec![
                (TaskStatus::Accepted, None, reply, ""),
                (TaskStatus::Failed, None, reply + 24 * 10, "Did not come to the first session"),
            ],
            4 | 5 => vec![
                (TaskStatus::Accepted, None, reply, ""),
                (TaskStatus::InProgress, None, reply + 24 * 7, "Came along and joined in"),
            ],
            _ => vec![
                (TaskStatus::Accepted, None, reply, ""),
                (TaskStatus::InProgress, None, reply + 24 * 7, "First session"),
                (TaskStatus::Completed, None, reply + 24 * 70, "Finished the course"),
            ],
        };
        let mut current = c.clone();
        let mut last = None;
        for (status, reason, hours, note) in path {
            if created + Duration::hours(hours) > now {
                break;
            }
            current = store.change_connection(&current, &event(status, reason, hours, note), Side::Receiving).await?;
            last = Some(created + Duration::hours(hours));
        }
        // The link worker read answers older than a week; newer ones are still news.
        if let Some(at) = last.filter(|at| *at < now - Duration::days(7)) {
            store.mark_answers_seen(c.org_id, c.person_id, at + Duration::hours(3)).await?;
        }
    }
    Ok(n)
}
