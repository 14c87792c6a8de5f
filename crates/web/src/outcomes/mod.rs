//! Outcome measures on the pages: the record's section (scores over time as a chart drawn on
//! the server with a table beside it, change from baseline, what is due, links sent), the
//! questionnaire taken with the person, imported totals, the secure link the person answers on
//! their own, recording coverage and the export. The rules are the use-case layer's
//! (`usecases::outcomes`); scoring is the declarations' (`domain::outcomes`).

mod chart;
mod coverage;
mod link;
mod questionnaire;

pub(crate) use coverage::{coverage, export};
pub(crate) use link::{answer_link, link_page};
pub(crate) use questionnaire::{import_page, import_total, new_page, record, send_link, send_link_page};

use crate::{AppError, AppState};
use chart::Chart;
use chrono::NaiveDate;
use linkwork_domain::casework::Episode;
use linkwork_domain::outcomes::scoring::shown;
use linkwork_domain::outcomes::{Instrument, MeasurePoint, OutcomeRecord, due, series, short_name, spec};
use linkwork_domain::people::Person;
use linkwork_domain::uktime::UkTime;

use crate::casework::date;

/// One scale's scores over time.
pub(crate) struct SeriesView {
    pub title: String,
    /// Day, point, score and band, oldest first.
    pub rows: Vec<(String, &'static str, String, &'static str)>,
    pub change: Option<String>,
    pub chart: Chart,
}

/// A record that is not a score: declined or not able, with the day and point.
pub(crate) struct NotRecorded {
    pub day: String,
    pub instrument: &'static str,
    pub point: &'static str,
    pub why: &'static str,
}

/// The outcome measures section of a person's record.
pub(crate) struct OutcomesView {
    pub series: Vec<SeriesView>,
    pub not_recorded: Vec<NotRecorded>,
    /// Imported totals: day, measure, total, where it came from.
    pub imported: Vec<(String, &'static str, String, String)>,
    /// Links sent: day, measure, point, how, where it stands.
    pub links: Vec<(String, &'static str, &'static str, String, &'static str)>,
    /// The open episode, where measures can be taken.
    pub episode: Option<String>,
    /// What is due in the open episode ("ONS4 baseline due").
    pub due: Vec<String>,
    /// Instruments that can be asked here (code, name); and those that cannot yet, with why.
    pub offered: Vec<(&'static str, &'static str)>,
    pub not_offered: Vec<(&'static str, String)>,
    /// The point to suggest: baseline before any measure, else review.
    pub suggested_point: &'static str,
    /// The person can be sent a link (email or text with an address).
    pub can_send: bool,
}

/// The instruments asked of people, offered or not on this installation: one read of which
/// wordings are loaded (a licensed instrument is offered once any is).
pub(crate) async fn offered(state: &AppState) -> Result<(Vec<Instrument>, Vec<(Instrument, String)>), AppError> {
    use linkwork_domain::outcomes::wording::NotOffered;
    let loaded = state.store.loaded_wordings().await?;
    let mut yes = vec![];
    let mut no = vec![];
    for s in linkwork_domain::outcomes::instruments::ALL {
        if !s.is_asked_of_people() {
            continue;
        }
        if s.needs_loaded_wording() && !loaded.iter().any(|(i, _)| *i == s.instrument) {
            no.push((s.instrument, NotOffered::WordingNotLoaded.to_string()));
        } else {
            yes.push(s.instrument);
        }
    }
    Ok((yes, no))
}

/// The record's outcome measures: the person's records across episodes, what the open
/// episode has due by the team's settings (from its first contact, which the record page has
/// read already), and the links sent.
pub(crate) async fn record_section(
    state: &AppState,
    person: &Person,
    episodes: &[Episode],
    first_contact: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<OutcomesView, AppError> {
    let org = person.org_id;
    let records = state.store.person_outcomes(org, person.id).await?;
    let open = episodes.iter().find(|e| e.is_open());
    let mut due_now = vec![];
    if let Some(e) = open {
        let settings = state.store.team_settings(org, e.team_id).await?;
        let mine: Vec<&OutcomeRecord> = records.iter().filter(|r| r.episode_id == e.id).collect();
        due_now = due(&settings.outcome_plan(), first_contact, &mine, today).iter().map(|d| d.describe()).collect();
    }
    let (yes, no) = offered(state).await?;
    let links = state.store.person_links(org, person.id).await?;
    let now = state.clock.now();
    let has_open_records = open.is_some_and(|e| records.iter().any(|r| r.episode_id == e.id));
    Ok(OutcomesView {
        series: series_views(&records),
        not_recorded: records
            .iter()
            .filter(|r| !r.is_completed())
            .map(|r| NotRecorded {
                day: date(r.completed_on),
                instrument: short_name(r.instrument),
                point: r.point.label(),
                why: r.status.label(),
            })
            .collect(),
        imported: records
            .iter()
            .filter(|r| r.total.is_some())
            .map(|r| {
                (
                    date(r.completed_on),
                    short_name(r.instrument),
                    r.total.map(shown).unwrap_or_default(),
                    r.source.clone().unwrap_or_default(),
                )
            })
            .collect(),
        links: links
            .iter()
            .rev()
            .map(|l| {
                let how = if l.channel == "sms" { "Text message" } else { "Email" };
                (date(l.created_at.uk_date()), short_name(l.instrument), l.point.label(), how.to_owned(), l.state(now))
            })
            .collect(),
        episode: open.map(|e| e.id.to_string()),
        due: due_now,
        offered: yes.iter().map(|i| (i.as_str(), short_name(*i))).collect(),
        not_offered: no.into_iter().map(|(i, why)| (short_name(i), why)).collect(),
        suggested_point: if has_open_records { MeasurePoint::Review.as_str() } else { MeasurePoint::Baseline.as_str() },
        can_send: person.message_channel().is_some(),
    })
}

/// Each scale's scores as a table and a chart.
fn series_views(records: &[OutcomeRecord]) -> Vec<SeriesView> {
    series(records)
        .into_iter()
        .map(|s| {
            let spec = spec(s.instrument);
            let title = if spec.scales.len() > 1 {
                format!("{}: {}", short_name(s.instrument), s.scale.label)
            } else {
                format!("{} ({})", short_name(s.instrument), s.scale.label.to_lowercase())
            };
            let points: Vec<(String, f64)> =
                s.points.iter().map(|p| (p.0.format("%-d %b %y").to_string(), p.2)).collect();
            SeriesView {
                chart: Chart::draw(&title, s.scale.min, s.scale.max, &points),
                rows: s
                    .points
                    .iter()
                    .map(|p| (date(p.0), p.1.label(), shown(p.2), s.scale.band(p.2).unwrap_or("")))
                    .collect(),
                change: s.change_words(),
                title,
            }
        })
        .collect()
}
