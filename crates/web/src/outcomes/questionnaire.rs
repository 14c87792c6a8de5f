//! Taking a measure with the person (one page of large radio groups, keyboard friendly), or
//! recording that they declined or could not complete it; importing a proprietary measure's
//! total; sending a secure link.

use crate::casework::{EpisodeCtx, EpisodeForm, OpenEpisode};
use crate::forms::{Field, FormData, PersonContext, SummaryError};
use crate::pages::Nav;
use crate::{AppError, AppState};
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use linkwork_domain::intake::FieldError;
use linkwork_domain::outcomes::wording::Questionnaire;
use linkwork_domain::outcomes::{Instrument, MeasurePoint, RecordStatus, short_name, spec};
use linkwork_domain::ports::Conflict;
use linkwork_domain::uktime::UkTime;
use linkwork_domain::usecases::outcomes::Recording;
use linkwork_domain::usecases::{self, Caller, Failure};

/// One question as the page shows it.
pub(crate) struct QuestionView {
    pub code: &'static str,
    pub number: usize,
    pub text: String,
    pub options: Vec<(String, String)>,
    /// Short answers sit side by side (0 to 10); worded ones stack.
    pub inline: bool,
    pub chosen: String,
    pub error: Option<String>,
}

/// The questionnaire page: taken with the person by their worker, or by the person alone from
/// a link. One template for both.
#[derive(Template)]
#[template(path = "outcomes/questionnaire.html")]
pub(crate) struct QuestionnairePage {
    pub nav: Nav,
    pub context: Option<PersonContext>,
    pub back: Option<String>,
    pub title: String,
    pub intro: Vec<String>,
    pub action: String,
    pub hidden: Vec<(&'static str, String)>,
    /// The worker chooses when in the episode the measure is taken.
    pub points: Vec<(&'static str, &'static str)>,
    pub point: String,
    pub preamble: Option<String>,
    pub questions: Vec<QuestionView>,
    pub errors: Vec<SummaryError>,
    pub credit: String,
    /// The worker's page offers "declined" and "not able today" as recorded outcomes.
    pub worker: bool,
    pub submit: &'static str,
}

impl QuestionnairePage {
    pub fn questions(q: &Questionnaire, f: Option<&FormData>) -> Vec<QuestionView> {
        q.questions
            .iter()
            .map(|x| QuestionView {
                code: x.code,
                number: x.number,
                text: x.text.clone(),
                inline: x.options.iter().all(|(_, l)| l.chars().count() <= 16) && x.options.len() > 5,
                options: x.options.iter().map(|(v, l)| (v.to_string(), l.clone())).collect(),
                chosen: f.map(|f| f.get(x.code)).unwrap_or_default(),
                error: None,
            })
            .collect()
    }

    /// Put each problem beside its question and in the summary.
    pub fn problems(&mut self, errors: Vec<FieldError>) {
        for e in errors {
            if let Some(q) = self.questions.iter_mut().find(|q| q.code == e.field) {
                q.error = Some(e.message.clone());
            }
            let field = if self.questions.iter().any(|q| q.code == e.field) || e.field == "point" {
                e.field
            } else {
                self.questions.first().map_or("point", |q| q.code)
            };
            self.errors.push(SummaryError { field, message: e.message });
        }
    }

    pub fn respond(&self) -> Result<Response, AppError> {
        let status = if self.errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        Ok((status, Html(self.render()?)).into_response())
    }
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct Start {
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    point: String,
}

/// A measure that cannot be asked here: said plainly, with the way back.
fn not_offered(cx: &EpisodeCtx, message: String) -> Result<Response, AppError> {
    let page = crate::forms::MessagePage {
        nav: Nav::for_user(&cx.user),
        title: "This measure cannot be asked here",
        paragraphs: vec![message.into()],
        link: None,
    };
    page.respond(StatusCode::BAD_REQUEST)
}

async fn page_for(
    cx: &EpisodeCtx,
    instrument: Instrument,
    point: &str,
    f: Option<&FormData>,
) -> Result<Result<QuestionnairePage, String>, AppError> {
    let q = match usecases::outcomes::offered(cx.state.services(), instrument, "English").await {
        Ok(q) => q,
        Err(Failure::Invalid(e)) => return Ok(Err(e.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" "))),
        Err(f) => return Err(f.into()),
    };
    let s = spec(instrument);
    Ok(Ok(QuestionnairePage {
        nav: Nav::for_user(&cx.user),
        context: Some(PersonContext::of(&cx.person)),
        back: Some(format!("/people/{}", cx.person.id)),
        title: instrument.label().to_owned(),
        intro: vec![format!(
            "Read each question to {} and choose their answer. {}",
            cx.person.given_name,
            if s.min_answered() == s.items.len() {
                "Every question needs an answer for a score."
            } else {
                "A question they would rather not answer can be left out."
            }
        )],
        action: format!("/episodes/{}/outcomes", cx.episode.id),
        hidden: vec![("instrument", instrument.as_str().to_owned())],
        points: MeasurePoint::options(),
        point: point.to_owned(),
        preamble: q.preamble.clone(),
        questions: QuestionnairePage::questions(&q, f),
        errors: vec![],
        credit: q.credit.clone(),
        worker: true,
        submit: "Save the answers",
    }))
}

fn person_instrument(code: &str) -> Option<Instrument> {
    code.parse::<Instrument>().ok().filter(|i| spec(*i).is_asked_of_people())
}

/// The questionnaire for the person, from their record.
pub(crate) async fn new_page(OpenEpisode(cx): OpenEpisode, Query(q): Query<Start>) -> Result<Response, AppError> {
    let cx = cx.viewed().await?;
    let Some(instrument) = person_instrument(&q.instrument) else {
        return not_offered(&cx, "Choose a measure from the person's record.".into());
    };
    let point = q.point.parse::<MeasurePoint>().unwrap_or_default().as_str();
    match page_for(&cx, instrument, point, None).await? {
        Ok(page) => page.respond(),
        Err(why) => not_offered(&cx, why),
    }
}

/// Save the answers, or that the person declined or could not complete it today.
pub(crate) async fn record(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let Some(instrument) = person_instrument(&f.get("instrument")) else { return Err(AppError::NotFound) };
    let input = Recording {
        instrument: instrument.as_str().into(),
        point: f.get("point"),
        status: match f.get("status").as_str() {
            "" => RecordStatus::Completed.as_str().into(),
            s => s.into(),
        },
        answers: f.0.clone(),
        ..Recording::default()
    };
    let caller = Caller::user(&cx.user, cx.source.clone());
    match usecases::outcomes::record(cx.state.services(), &caller, &cx.episode, &input).await {
        Ok(r) => Ok(crate::pages::after(
            &format!("/people/{}", cx.person.id),
            if r.is_completed() { "measure-recorded" } else { "measure-declined" },
        )
        .into_response()),
        Err(Failure::Invalid(errors)) => match page_for(&cx, instrument, &f.get("point"), Some(&f)).await? {
            Ok(mut page) => {
                page.problems(errors);
                page.respond()
            }
            Err(why) => not_offered(&cx, why),
        },
        Err(Failure::Conflict(Conflict::EpisodeClosed)) => Err(AppError::EpisodeClosed {
            episode: cx.episode.id.to_string(),
            closed_on: cx.episode.closed_at.map(|c| crate::casework::date(c.uk_date())).unwrap_or_default(),
        }),
        Err(f) => Err(f.into()),
    }
}

const IMPORT_FORM: EpisodeForm =
    EpisodeForm { title: "Record an imported outcome total", step: "outcomes/import", submit: "Save the total" };

fn import_fields() -> Vec<Field> {
    let imported: Vec<(&'static str, &'static str)> =
        Instrument::ALL.iter().filter(|i| !spec(**i).is_administered()).map(|i| (i.as_str(), i.label())).collect();
    vec![
        Field::of("select", "instrument", "Measure").options(imported).hint(
            "Measures whose licence does not let linkwork ask them. Record the total the licensed tool or form gave.",
        ),
        Field::of("radios", "point", "When in the episode").options(MeasurePoint::options()),
        Field::of("text", "total", "Total").hint(
            "PAM activation score 0 to 100; EQ VAS 0 to 100; Wellbeing Star mean of the outcome areas 1 to 10; MYCaW profile score 0 to 6",
        ),
        Field::of("date", "taken_on", "Day it was taken"),
        Field::of("text", "source", "Where the total came from").hint("For example: Star Online export, completed with the person"),
    ]
}

pub(crate) async fn import_page(OpenEpisode(cx): OpenEpisode) -> Result<Response, AppError> {
    let EpisodeCtx { user, episode: e, person: p, .. } = cx.viewed().await?;
    IMPORT_FORM.page(&user, &e, &p, import_fields()).respond()
}

pub(crate) async fn import_total(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let mut page = IMPORT_FORM.page(&user, &e, &p, import_fields());
    page.refill(&f);
    let input = Recording {
        instrument: f.get("instrument"),
        point: f.get("point"),
        total: f.get("total"),
        taken_on: f.get("taken_on"),
        source: f.get("source"),
        ..Recording::default()
    };
    let caller = Caller::user(&user, source);
    match usecases::outcomes::import_total(state.services(), &caller, &e, &input).await {
        Ok(_) => Ok(crate::pages::after(&format!("/people/{}", p.id), "measure-recorded").into_response()),
        Err(Failure::Invalid(errors)) => {
            page.field_errors(errors);
            page.respond()
        }
        Err(f) => Err(f.into()),
    }
}

const LINK_FORM: EpisodeForm =
    EpisodeForm { title: "Send a questionnaire link", step: "outcomes/link", submit: "Send the link" };

async fn link_fields(state: &AppState) -> Result<Vec<Field>, AppError> {
    let (yes, _) = super::offered(state).await?;
    let mut instrument = Field::of("radios", "instrument", "Measure");
    instrument.options =
        yes.iter().map(|i| (i.as_str().to_owned(), format!("{} ({})", i.label(), short_name(*i)))).collect();
    Ok(vec![instrument, Field::of("radios", "point", "When in the episode").options(MeasurePoint::options())])
}

pub(crate) async fn send_link_page(OpenEpisode(cx): OpenEpisode) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, episode: e, person: p, .. } = cx.viewed().await?;
    let mut page = LINK_FORM.page(&user, &e, &p, link_fields(&state).await?);
    page.intro = vec![
        "The person gets a link by their chosen way of contact (email or text message). It works once, for 14 days, needs no account and shows only their first name. If it is not answered in a week, a reminder goes once.",
    ];
    page.respond()
}

pub(crate) async fn send_link(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let mut page = LINK_FORM.page(&user, &e, &p, link_fields(&state).await?);
    page.refill(&f);
    let caller = Caller::user(&user, source);
    match usecases::outcomes::send_link(
        state.services(),
        &caller,
        &e,
        &p,
        &f.get("instrument"),
        &f.get("point"),
        &state.config.public_url,
    )
    .await
    {
        Ok(_) => Ok(crate::pages::after(&format!("/people/{}", p.id), "link-sent").into_response()),
        Err(Failure::Invalid(errors)) => {
            page.field_errors(errors);
            page.respond()
        }
        Err(f) => Err(f.into()),
    }
}
