//! Building the message back from the record, and reading the versions that were sent.
//!
//! Discharge builds it once and stores it as sent (`casework::discharge`); every face that shows
//! it afterwards (the page, the PDF, the JSON, FHIR to come) reads the stored version, so what
//! the GP was sent is what anyone sees later, whatever the record says now.

use super::{Failure, Services};
use crate::casework::Episode;
use crate::casework::message_back::{
    CodePart, ConnectionPart, Day, Demographics, GoalPart, MeasurePart, MessageBack, ReferralPart, SentMessageBack,
    SupportPart,
};
use crate::outcomes::scoring::shown as number;
use crate::people::Person;
use crate::uktime::UkTime;

/// The standard the document follows, as it names itself.
pub const STANDARD: &str = "PRSB Social Prescribing Information Standard v1.1: message back to GP and referrer";

/// The message back for `e` as the record stands now. For an episode being discharged, pass it
/// with its closing fields (time, reason, note) set.
pub async fn build(s: Services<'_>, e: &Episode, p: &Person) -> Result<MessageBack, Failure> {
    let org = e.org_id;
    let store = s.store;
    let referral = store.get_referral(org, e.referral_id).await?;
    let needs = store.needs(org, e.id).await?;
    let goals = store.goals(org, e.id).await?;
    let contacts = store.contacts(org, e.id).await?;
    let holdings = store.holdings(org, e.id).await?;
    let barriers = store.barriers(org, e.id).await?;
    let codes = store.coded_events(org, p.id).await?;
    // A document that leaves the system never turns a failed lookup into a blank: a fault
    // stops it (and is logged), and an unassigned worker says so.
    let link_worker = match e.worker_id {
        Some(w) => store.get_user(w).await?.display_name,
        None => "Not assigned".into(),
    };
    let referrer = match referral.referred_by {
        Some(u) => store.get_user(u).await?.display_name,
        None => referral.referrer_name.clone(),
    };
    let mut modes: Vec<String> = vec![];
    for c in &contacts {
        let m = format!("{} ({})", c.mode.label(), c.location.label());
        if !modes.contains(&m) {
            modes.push(m);
        }
    }
    // Holding is counted to the discharge, not to whenever the document is read.
    let until = e.closed_at.unwrap_or_else(|| s.clock.now()).uk_date();
    let gp_practice = match p.practice_id {
        Some(id) => {
            let o = store.get_org(id).await?;
            Some((o.name, o.ods_code.map(String::from)))
        }
        None => None,
    };
    let connections = connections(s, e).await?;
    let measures = measures(&store.episode_outcomes(org, &[e.id]).await?);
    Ok(MessageBack {
        standard: STANDARD.to_owned(),
        person: Demographics {
            nhs_number: p.nhs_number.as_ref().map(|n| n.as_str().to_owned()),
            name: p.full_name(),
            date_of_birth: Day(p.date_of_birth),
            address: p.address.clone(),
            postcode: p.postcode.as_ref().map(|c| c.to_string()),
            gender: p.gender.label().to_owned(),
            ethnicity: p.ethnicity.label().to_owned(),
            gp_practice,
        },
        referral: ReferralPart {
            received: Day(referral.received_at.uk_date()),
            source: referral.source.label().to_owned(),
            referrer,
            reason: referral.reason.clone(),
        },
        opened: Day(e.opened_at.uk_date()),
        discharged: e.closed_at.map(|c| Day(c.uk_date())),
        discharge_reason: e.discharge_reason.map(|r| r.label().to_owned()),
        link_worker,
        needs_and_concerns: needs
            .iter()
            .map(|n| format!("{}: \u{201C}{}\u{201D}", n.domain.label(), n.own_words))
            .collect(),
        support_offered: SupportPart {
            contacts: contacts.len(),
            minutes: contacts.iter().map(|c| i64::from(c.minutes)).sum(),
            modes,
            holding: holdings
                .iter()
                .map(|h| {
                    let from = h.started_on.format("%d %B %Y");
                    format!("{} from {from} for {} days", h.reason.label(), h.days(until))
                })
                .collect(),
            barriers: barriers.iter().map(|b| format!("{} ({})", b.code.label(), b.kind.label())).collect(),
        },
        outcomes: goals
            .iter()
            .map(|g| GoalPart {
                goal: g.own_words.clone(),
                area: g.domain.label().to_owned(),
                status: g.status.label().to_owned(),
                progress_out_of_10: g.progress,
            })
            .collect(),
        measures,
        summary: e.discharge_note.clone().unwrap_or_default(),
        codes: codes
            .iter()
            .filter(|c| c.referral_id == e.referral_id || c.episode_id == Some(e.id))
            .map(|c| CodePart { code: c.code.clone(), term: c.term.clone(), date: Day(c.recorded_at.uk_date()) })
            .collect(),
        connections,
    })
}

/// The episode's outcome measures as the message back reports them: each scale's baseline and
/// latest score, with the change.
pub fn measures(records: &[crate::outcomes::OutcomeRecord]) -> Vec<MeasurePart> {
    crate::outcomes::series(records)
        .into_iter()
        .filter_map(|s| {
            let (b_on, _, b) = s.baseline()?;
            let latest = s.latest().filter(|l| l.0 > b_on);
            Some(MeasurePart {
                instrument: s.instrument.label().to_owned(),
                scale: s.scale.label.to_owned(),
                baseline: number(b),
                baseline_on: Day(b_on),
                baseline_band: s.scale.band(b).map(str::to_owned),
                latest: latest.map(|l| number(l.2)),
                latest_on: latest.map(|l| Day(l.0)),
                latest_band: latest.and_then(|l| s.scale.band(l.2)).map(str::to_owned),
                change: s.change_words(),
            })
        })
        .collect()
}

/// The episode's connections to services, as the message back and the plan report them.
pub async fn connections(s: Services<'_>, e: &Episode) -> Result<Vec<ConnectionPart>, Failure> {
    Ok(s.store
        .person_connections(e.org_id, e.person_id)
        .await?
        .into_iter()
        .filter(|c| c.episode_id == Some(e.id))
        .map(|c| ConnectionPart {
            outcome: c.outcome().to_owned(),
            need: c.need.label().to_owned(),
            date: Day(c.created_at.uk_date()),
            service: c.service_name,
        })
        .collect())
}

/// What a reader of the episode's message back is shown.
#[derive(Clone, Debug)]
pub enum Shown {
    /// A version as it was sent, with every version's number, date and note of changes.
    Sent { shown: SentMessageBack, versions: Vec<SentMessageBack> },
    /// Not sent yet (the episode is open and was never discharged): the record as it stands,
    /// for the worker to check before discharge.
    Draft(MessageBack),
    /// Discharged before summaries were kept as sent: rebuilt from the record, and said so.
    Rebuilt(MessageBack),
}

/// The version to show: `wanted` if given and sent, else the latest; a draft or a rebuild when
/// nothing was stored. `None` when `wanted` names no version.
pub async fn shown(s: Services<'_>, e: &Episode, p: &Person, wanted: Option<i32>) -> Result<Option<Shown>, Failure> {
    let versions = s.store.message_backs(e.org_id, e.id).await?;
    if versions.is_empty() {
        if wanted.is_some() {
            return Ok(None);
        }
        let m = build(s, e, p).await?;
        return Ok(Some(if e.is_open() { Shown::Draft(m) } else { Shown::Rebuilt(m) }));
    }
    let pick = match wanted {
        Some(v) => versions.iter().find(|m| m.version == v),
        None => versions.last(),
    };
    Ok(pick.cloned().map(|shown| Shown::Sent { shown, versions }))
}
