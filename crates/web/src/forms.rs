//! Simple NHS-style forms and message pages rendered from data: one template each, so every
//! form gets the same error summary, field errors, hints and kept values.

use crate::AppError;
use crate::pages::Nav;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use linkwork_domain::people::FlagKind;

/// One field of a [`FormPage`].
pub(crate) struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    /// `text`, `email` or `password`; ignored when `options` is not empty (a select).
    pub kind: &'static str,
    pub autocomplete: &'static str,
    /// What was typed (never re-filled for passwords).
    pub value: String,
    pub error: Option<String>,
    pub options: Vec<(String, String)>,
    /// The chosen values of a `checkboxes` field.
    pub values: Vec<String>,
    /// A `date` field's day, month and year as typed, when the form came back.
    pub parts: Option<[String; 3]>,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, kind: &'static str, autocomplete: &'static str) -> Self {
        Self {
            name,
            label,
            hint: None,
            kind,
            autocomplete,
            value: String::new(),
            error: None,
            options: vec![],
            values: vec![],
            parts: None,
        }
    }

    /// A `date` field's day, month and year: as typed, or from its value (`2026-11-24`,
    /// `24/11/2026`).
    pub fn date_parts(&self) -> [String; 3] {
        if let Some(p) = &self.parts {
            return p.clone();
        }
        let v = self.value.trim().trim_end_matches(" (year)");
        let bits: Vec<&str> = if v.contains('-') { v.split('-').collect() } else { v.split('/').collect() };
        match (v.contains('-'), bits.as_slice()) {
            (true, [y, m, d]) => [d.trim_start_matches('0').into(), m.trim_start_matches('0').into(), (*y).into()],
            (false, [d, m, y]) => [(*d).into(), (*m).into(), (*y).into()],
            _ => Default::default(),
        }
    }

    /// A field of `kind` with no autocomplete.
    pub fn of(kind: &'static str, name: &'static str, label: &'static str) -> Self {
        Self::new(name, label, kind, "off")
    }

    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }

    /// Options from a vocabulary's `(code, label)` pairs.
    pub fn options(mut self, options: Vec<(&'static str, &'static str)>) -> Self {
        self.options = options.into_iter().map(|(c, l)| (c.to_owned(), l.to_owned())).collect();
        self
    }

    /// The same, with an empty first choice for "not chosen".
    pub fn options_blank(mut self, blank: &str, options: Vec<(&'static str, &'static str)>) -> Self {
        self.options = std::iter::once((String::new(), blank.to_owned()))
            .chain(options.into_iter().map(|(c, l)| (c.to_owned(), l.to_owned())))
            .collect();
        self
    }

    /// Whether a select needs the "Choose…" first option: it has no empty choice of its own. A
    /// list that starts on its first real option would record that option from a form nobody
    /// touched, so every select starts blank unless a value was given or chosen.
    pub fn needs_choose(&self) -> bool {
        !self.options.iter().any(|(code, _)| code.is_empty())
    }

    pub fn is_checked(&self, option: &str) -> bool {
        self.values.iter().any(|v| v == option)
    }
}

/// A submitted form as name–value pairs, so repeated names (checkboxes) keep every value.
#[derive(Clone, Debug, Default)]
pub(crate) struct FormData(pub Vec<(String, String)>);

/// A form body as a handler argument: `f: FormData`. A body that is not a form is a clear 400;
/// one over the size limit is the limit's 413.
impl<S: Send + Sync> axum::extract::FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = axum::body::Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        FormData::parse(&body).map_err(IntoResponse::into_response)
    }
}

impl FormData {
    pub fn parse(body: &[u8]) -> Result<Self, AppError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(FormData)
            .map_err(|_| AppError::BadRequest("The form could not be read. Go back and try again.".into()))
    }

    /// The first value of `name`, or empty. A date typed in the GOV.UK pattern (`name-day`,
    /// `name-month`, `name-year`) comes back as one `day/month/year` string; a year that is
    /// not four digits makes it unreadable, so "58" is never taken for the year 58.
    pub fn get(&self, name: &str) -> String {
        match self.0.iter().find(|(k, _)| k == name) {
            Some((_, v)) => v.clone(),
            None => match self.date_parts(name) {
                Some([d, m, y]) if d.is_empty() && m.is_empty() && y.is_empty() => String::new(),
                Some([d, m, y]) if y.len() == 4 => format!("{d}/{m}/{y}"),
                Some([d, m, y]) => format!("{d}/{m}/{y} (year)"),
                None => String::new(),
            },
        }
    }

    /// The day, month and year typed into a GOV.UK date input called `name`, if it was sent.
    fn date_parts(&self, name: &str) -> Option<[String; 3]> {
        let part = |p: &str| self.0.iter().find(|(k, _)| *k == format!("{name}-{p}")).map(|(_, v)| v.trim().to_owned());
        match (part("day"), part("month"), part("year")) {
            (None, None, None) => None,
            (d, m, y) => Some([d.unwrap_or_default(), m.unwrap_or_default(), y.unwrap_or_default()]),
        }
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }

    /// Put what was typed back into the fields, so nothing is lost when the form comes back.
    pub fn refill(&self, fields: &mut [Field]) {
        for f in fields {
            if f.kind == "password" {
                continue;
            }
            if f.kind == "checkboxes" {
                f.values = self.all(f.name);
            } else if f.kind == "checkbox" {
                f.value = if self.checked(f.name) { "yes".into() } else { String::new() };
            } else {
                f.value = self.get(f.name);
                if f.kind == "date" {
                    f.parts = self.date_parts(f.name);
                }
            }
        }
    }
}

/// Who a page is about: shown at the top of every page of a person's record, with the
/// safeguarding banner when there is a concern.
#[derive(Clone, Debug, Default)]
pub(crate) struct PersonContext {
    pub id: String,
    pub name: String,
    pub nhs_number: String,
    pub date_of_birth: String,
    pub safeguarding: Option<String>,
    /// The other flags as they stand: lone-working risk, other risks to staff.
    pub risks: Vec<(&'static str, String)>,
}

impl PersonContext {
    pub fn of(p: &linkwork_domain::people::Person) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.full_name(),
            nhs_number: p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "Not known".into()),
            date_of_birth: p.date_of_birth.format("%d %b %Y").to_string(),
            safeguarding: p.safeguarding.clone(),
            risks: [FlagKind::LoneWorking, FlagKind::StaffRisk]
                .into_iter()
                .filter_map(|k| k.on(p).map(|t| (k.label(), t.to_owned())))
                .collect(),
        }
    }
}

/// What some forms add: hidden values (record versions), the person the page is about, notices
/// above the form, a honeypot for public forms and a way back.
#[derive(Default)]
pub(crate) struct FormExtras {
    pub hidden: Vec<(&'static str, String)>,
    pub context: Option<PersonContext>,
    /// Shown in an inset above the form (advice, a conflict explained).
    pub notices: Vec<String>,
    /// A field people cannot see; bots fill it in.
    pub honeypot: bool,
    pub back: Option<String>,
    /// Upload a file (the form is sent as multipart).
    pub multipart: bool,
    /// Facts shown as a summary list above the form (label, value).
    pub summary: Vec<(String, String)>,
    /// Warnings shown above the form.
    pub warnings: Vec<String>,
    /// Optional fields, folded under `more_label` so the required ones fit on a screen; unfolded
    /// when one of them has an error.
    pub more: Vec<Field>,
    pub more_label: &'static str,
    /// Links shown under the introduction (text, address): a template to download, say.
    pub links: Vec<(String, String)>,
}

impl FormExtras {
    /// Whether a folded field has an error (the fold then opens).
    pub fn more_has_error(&self) -> bool {
        self.more.iter().any(|f| f.error.is_some())
    }
}

/// An error in the summary, linking to its field.
pub(crate) struct SummaryError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "shared/form.html")]
pub(crate) struct FormPage {
    pub nav: Nav,
    pub title: &'static str,
    pub intro: Vec<&'static str>,
    pub action: String,
    pub submit: &'static str,
    pub fields: Vec<Field>,
    pub errors: Vec<SummaryError>,
    pub extras: FormExtras,
}

impl FormPage {
    /// Attach `message` to field `name` and to the summary.
    pub fn error(&mut self, name: &'static str, message: impl Into<String>) {
        let message = message.into();
        if let Some(f) = self.fields.iter_mut().chain(self.extras.more.iter_mut()).find(|f| f.name == name) {
            f.error = Some(message.clone());
        }
        self.errors.push(SummaryError { field: name, message });
    }

    /// Collect a field's value as the form is parsed: the value, or `None` with its error shown
    /// beside field `name` and in the summary, so every problem is answered at once.
    pub fn take<T, E: std::fmt::Display>(&mut self, name: &'static str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(name, e.to_string());
                None
            }
        }
    }

    pub fn respond(&self) -> Result<Response, AppError> {
        let status = if self.errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        Ok((status, Html(self.render()?)).into_response())
    }

    /// Whether field `name` offers `value` among its options (a submitted choice must be one
    /// the page offered).
    pub fn offers(&self, name: &str, value: &str) -> bool {
        self.fields
            .iter()
            .chain(self.extras.more.iter())
            .find(|f| f.name == name)
            .is_some_and(|f| f.options.iter().any(|(v, _)| v == value))
    }

    /// Put what was typed back into every field, folded ones included.
    pub fn refill(&mut self, data: &FormData) {
        data.refill(&mut self.fields);
        data.refill(&mut self.extras.more);
    }

    /// Attach every domain field error.
    pub fn field_errors(&mut self, errors: Vec<linkwork_domain::intake::FieldError>) {
        for e in errors {
            self.error(e.field, e.message);
        }
    }

    /// The same page answered 409: someone changed the record meanwhile. What was typed stays.
    pub fn conflict(mut self, what: &str) -> Result<Response, AppError> {
        self.errors.push(SummaryError {
            field: self.fields.first().map_or("", |f| f.name),
            message: format!(
                "Someone else changed {what} while you were editing. Your changes are below and have not been saved: check the record, then save again."
            ),
        });
        Ok((StatusCode::CONFLICT, Html(self.render()?)).into_response())
    }
}

#[derive(Template)]
#[template(path = "shared/message.html")]
pub(crate) struct MessagePage {
    pub nav: Nav,
    pub title: &'static str,
    pub paragraphs: Vec<std::borrow::Cow<'static, str>>,
    pub link: Option<(&'static str, &'static str)>,
}

impl MessagePage {
    /// A page of one paragraph for anyone (no navigation for a user).
    pub fn new(title: &'static str, text: &'static str) -> Self {
        MessagePage { nav: Nav::anonymous(), title, paragraphs: vec![text.into()], link: None }
    }

    pub fn respond(&self, status: StatusCode) -> Result<Response, AppError> {
        Ok((status, Html(self.render()?)).into_response())
    }
}
