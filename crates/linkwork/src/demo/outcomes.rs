//! Demo outcome measures: for a share of episodes a baseline at the first contact (ONS4 and
//! UCLA-3, sometimes SWEMWBS), for some a review or a discharge measure with a plausible change,
//! and the missingness real services see (declined, not able today, never followed up).

use super::words::Rng;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use linkwork_domain::casework::Episode;
use linkwork_domain::ids::OutcomeId;
use linkwork_domain::outcomes::{Answer, Instrument, MeasurePoint, OutcomeRecord, RecordStatus, Via, spec};
use linkwork_domain::ports::CaseworkBatch;
use linkwork_domain::uktime::UkTime;

fn answers(instrument: Instrument, values: impl Fn(usize) -> i32) -> Vec<Answer> {
    let s = spec(instrument);
    s.items
        .iter()
        .enumerate()
        .map(|(n, it)| {
            let r = s.responses[it.scale];
            Answer { item: it.code.to_owned(), value: values(n).clamp(r.min, r.max) }
        })
        .collect()
}

fn jitter(rng: &mut Rng, spread: usize) -> i32 {
    i32::try_from(rng.below(spread * 2 + 1)).unwrap_or(0) - i32::try_from(spread).unwrap_or(0)
}

/// One administration at `on` for `e`; `better` (0 to 3) moves answers towards well-being.
fn measure(
    rng: &mut Rng,
    e: &Episode,
    instrument: Instrument,
    point: MeasurePoint,
    on: NaiveDate,
    better: i32,
    at: DateTime<Utc>,
) -> OutcomeRecord {
    let status = match rng.below(100) {
        0..=5 => RecordStatus::Declined,
        6..=9 => RecordStatus::NotAble,
        _ => RecordStatus::Completed,
    };
    let base: Vec<i32> = (0..14).map(|_| jitter(rng, 1)).collect();
    let answers = if status != RecordStatus::Completed {
        vec![]
    } else {
        match instrument {
            // Life satisfaction, worthwhile, happy up with support; anxiety down.
            Instrument::Ons4 => answers(instrument, |n| match n {
                3 => 7 - better * 2 + base[n],
                _ => 4 + better * 2 + base[n],
            }),
            Instrument::Ucla3 => answers(instrument, |n| 3 - better / 2 + base[n].min(0)),
            _ => answers(instrument, |n| 2 + (better + 1) / 2 + base[n].max(0)),
        }
    };
    OutcomeRecord {
        id: OutcomeId::new(),
        org_id: e.org_id,
        person_id: e.person_id,
        episode_id: e.id,
        instrument,
        version: spec(instrument).version.to_owned(),
        point,
        status,
        via: if rng.chance(15) { Via::Link } else { Via::WithWorker },
        source: None,
        answers,
        total: None,
        language: Some("English".into()),
        completed_on: on,
        recorded_at: at,
        recorded_by: e.worker_id,
    }
}

/// Outcome records for the batch's episodes.
pub(super) fn outcomes(rng: &mut Rng, now: DateTime<Utc>, batch: &CaseworkBatch) -> Vec<OutcomeRecord> {
    let today = now.uk_date();
    let mut out = vec![];
    for e in &batch.episodes {
        let Some(first) = batch.contacts.iter().filter(|c| c.episode_id == e.id).map(|c| c.happened_on).min() else {
            continue;
        };
        // About a third of episodes never get a baseline: the recording gap domain.md reports.
        if !rng.chance(65) {
            continue;
        }
        let at = |d: NaiveDate| d.and_hms_opt(11, 0, 0).map_or(now, |t| t.and_utc()).min(now);
        let mut instruments = vec![Instrument::Ons4, Instrument::Ucla3];
        if rng.chance(30) {
            instruments.push(Instrument::Swemwbs);
        }
        let change = i32::try_from(rng.below(4)).unwrap_or(0);
        for i in instruments {
            out.push(measure(rng, e, i, MeasurePoint::Baseline, first, 0, at(first)));
            let follow = match e.closed_at {
                Some(closed) if rng.chance(60) => Some((MeasurePoint::Discharge, closed.uk_date())),
                None if (today - first).num_days() > 84 && rng.chance(50) => {
                    Some((MeasurePoint::Review, first + Duration::days(84 + i64::try_from(rng.below(14)).unwrap_or(0))))
                }
                _ => None,
            };
            if let Some((point, on)) = follow.filter(|(_, on)| *on > first + Duration::days(14) && *on <= today) {
                out.push(measure(rng, e, i, point, on, change, at(on)));
            }
        }
    }
    out
}
