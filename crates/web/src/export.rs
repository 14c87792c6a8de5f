//! The one CSV writer every download uses, so every cell is made safe to open in a spreadsheet
//! (`domain::exports::spreadsheet_safe`) and every file is sent the same way.

use crate::AppError;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use linkwork_domain::exports::spreadsheet_safe;

/// A CSV document built row by row.
pub(crate) struct Csv {
    writer: csv::Writer<Vec<u8>>,
}

impl Csv {
    /// A document with this header row.
    pub(crate) fn new(header: &[&str]) -> Result<Self, AppError> {
        let mut c = Csv { writer: csv::Writer::from_writer(vec![]) };
        c.row(header)?;
        Ok(c)
    }

    /// One row; every cell is neutralised if a spreadsheet would read it as a formula.
    pub(crate) fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), AppError> {
        self.writer
            .write_record(cells.iter().map(|c| spreadsheet_safe(c.as_ref()).into_owned()))
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// The document as a download named `filename`.
    pub(crate) fn download(self, filename: &str) -> Result<Response, AppError> {
        let body = self.writer.into_inner().map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            ],
            body,
        )
            .into_response())
    }
}
