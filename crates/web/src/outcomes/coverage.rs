//! How complete outcome recording is, for the worker and their teams (domain.md section 5:
//! recording rises when it is fed back), and the export of outcome records the reporting and
//! evaluation areas build on.

use crate::access::auth::CurrentUser;
use crate::pages::{Nav, html};
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use linkwork_domain::outcomes::{Coverage, Instrument, coverage as cover, short_name};
use linkwork_domain::uktime::UkTime;
use linkwork_domain::usecases::{self, Caller};

/// One row of the coverage table.
pub(crate) struct CoverageRow {
    pub who: String,
    pub c: Coverage,
    pub baseline_pc: u32,
    pub follow_up_pc: u32,
    pub paired_pc: u32,
}

impl CoverageRow {
    fn of(who: &str, c: Coverage) -> Self {
        CoverageRow {
            who: who.to_owned(),
            baseline_pc: c.percent(c.baseline),
            follow_up_pc: c.percent(c.follow_up),
            paired_pc: c.percent(c.paired),
            c,
        }
    }
}

#[derive(Template)]
#[template(path = "outcomes/coverage.html")]
struct CoveragePage {
    nav: Nav,
    since: String,
    rows: Vec<CoverageRow>,
    /// Completed measures by instrument over the team's episodes.
    by_instrument: Vec<(&'static str, usize)>,
    may_export: bool,
}

/// `GET /outcomes`: of the episodes open in the last year, how many have a baseline, a
/// follow-up, a before-and-after pair, and how many were declined or not able to be completed,
/// for the worker's own and for their teams'.
pub(crate) async fn coverage(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let since = now - Duration::days(365);
    let teams = state.store.user_teams(user.id).await?;
    let episodes = state.store.coverage_episodes(user.org_id, &teams, since).await?;
    let ids: Vec<_> = episodes.iter().map(|(e, _)| *e).collect();
    let records = state.store.episode_outcomes(user.org_id, &ids).await?;
    let mine: Vec<_> = episodes.iter().filter(|(_, w)| *w == Some(user.id)).map(|(e, _)| *e).collect();
    let mut by_instrument: Vec<(&'static str, usize)> = Instrument::ALL
        .iter()
        .map(|i| (short_name(*i), records.iter().filter(|r| r.instrument == *i && r.is_completed()).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    by_instrument.sort_by_key(|x| std::cmp::Reverse(x.1));
    let supervises = linkwork_domain::access::permissions::granted(
        &user,
        linkwork_domain::access::permissions::Permission::SuperviseTeam,
    );
    let mut rows = vec![
        CoverageRow::of("Your episodes", cover(&mine, &records)),
        CoverageRow::of("Your teams' episodes", cover(&ids, &records)),
    ];
    // A manager sees each worker's recording, as they see each one's caseload: workload, not
    // well-being.
    if supervises {
        let mut workers: Vec<linkwork_domain::ids::UserId> = episodes.iter().filter_map(|(_, w)| *w).collect();
        workers.sort();
        workers.dedup();
        for w in workers.into_iter().filter(|w| *w != user.id) {
            let theirs: Vec<_> = episodes.iter().filter(|(_, x)| *x == Some(w)).map(|(e, _)| *e).collect();
            let name =
                state.store.get_user(w).await.map(|u| u.display_name).unwrap_or_else(|_| "A former colleague".into());
            rows.push(CoverageRow::of(&name, cover(&theirs, &records)));
        }
    }
    let page = CoveragePage {
        nav: Nav::for_user(&user),
        since: since.uk_date().format("%-d %B %Y").to_string(),
        rows,
        by_instrument,
        may_export: supervises,
    };
    html(&page)
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct Period {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /outcomes/export.csv`: the organisation's outcome records in a period (default the last
/// year; `from` and `to` as ISO days, `to` excluded), one row per score with the answers, and
/// one per measure not completed with its reason. An audited export naming everyone in it.
pub(crate) async fn export(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Query(q): Query<Period>,
) -> Result<Response, AppError> {
    let today = state.clock.now().uk_date();
    let day = |s: &str, default: NaiveDate| -> Result<NaiveDate, AppError> {
        if s.trim().is_empty() {
            return Ok(default);
        }
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::BadRequest(format!("{s} is not a day: use the form 2026-04-01")))
    };
    let (from, to) = (day(&q.from, today - Duration::days(365))?, day(&q.to, today + Duration::days(1))?);
    if from >= to {
        return Err(AppError::BadRequest("The period must start before it ends".into()));
    }
    let caller = Caller::user(&user, source);
    let rows = usecases::outcomes::export(state.services(), &caller, user.org_id, from, to).await?;
    let mut csv = crate::export::Csv::new(&[
        "record_id",
        "episode_id",
        "person_id",
        "instrument",
        "instrument_version",
        "point",
        "status",
        "how",
        "completed_on",
        "scale",
        "score",
        "band",
        "raw_answers",
        "source",
    ])?;
    for row in rows {
        let r = &row.record;
        let answers = r.answers.iter().map(|a| format!("{}={}", a.item, a.value)).collect::<Vec<_>>().join(";");
        let common = |scale: &str, score: String, band: &str| {
            vec![
                r.id.to_string(),
                r.episode_id.to_string(),
                r.person_id.to_string(),
                r.instrument.as_str().to_owned(),
                r.version.clone(),
                r.point.as_str().to_owned(),
                r.status.as_str().to_owned(),
                r.via.as_str().to_owned(),
                r.completed_on.format("%Y-%m-%d").to_string(),
                scale.to_owned(),
                score,
                band.to_owned(),
                answers.clone(),
                r.source.clone().unwrap_or_default(),
            ]
        };
        if row.scores.is_empty() {
            csv.row(&common("", String::new(), ""))?;
        }
        for (scale, value, band) in &row.scores {
            csv.row(&common(scale, linkwork_domain::outcomes::scoring::shown(*value), band.unwrap_or("")))?;
        }
    }
    csv.download(&format!("outcomes-{from}-to-{to}.csv"))
}
