//! Simple NHS-style forms and message pages rendered from data: one template each, so every
//! form gets the same error summary, field errors, hints and kept values.

use crate::AppError;
use crate::pages::Nav;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

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
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, kind: &'static str, autocomplete: &'static str) -> Self {
        Self { name, label, hint: None, kind, autocomplete, value: String::new(), error: None, options: vec![] }
    }
}

/// An error in the summary, linking to its field.
pub(crate) struct SummaryError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "form.html")]
pub(crate) struct FormPage {
    pub nav: Nav,
    pub title: &'static str,
    pub intro: Vec<&'static str>,
    pub action: String,
    pub submit: &'static str,
    pub fields: Vec<Field>,
    pub errors: Vec<SummaryError>,
}

impl FormPage {
    /// Attach `message` to field `name` and to the summary.
    pub fn error(&mut self, name: &'static str, message: impl Into<String>) {
        let message = message.into();
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            f.error = Some(message.clone());
        }
        self.errors.push(SummaryError { field: name, message });
    }

    pub fn respond(&self) -> Result<Response, AppError> {
        let status = if self.errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        Ok((status, Html(self.render()?)).into_response())
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub nav: Nav,
    pub title: &'static str,
    pub paragraphs: Vec<&'static str>,
    pub link: Option<(&'static str, &'static str)>,
}

impl MessagePage {
    pub fn respond(&self, status: StatusCode) -> Result<Response, AppError> {
        Ok((status, Html(self.render()?)).into_response())
    }
}
