//! Decoding the text columns of one stored row into domain types, strictly: a value decodes
//! only when printing it back gives the stored text (canonical UUIDs, `YYYY-MM-DD` dates,
//! exact enum names), because queries compare the stored text.

use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::error::CorruptRow;

/// Longest stored value quoted in an error; the rest is cut (values may be long, and a log
/// line should stay one line).
const QUOTED_CHARS: usize = 80;

fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(QUOTED_CHARS).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// The cells of one row being decoded, for errors that name the row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cells<'a> {
    table: &'static str,
    row: &'a str,
}

impl<'a> Cells<'a> {
    /// The row of `table` whose stored id (or key) is `row`.
    pub(crate) fn new(table: &'static str, row: &'a str) -> Cells<'a> {
        Cells { table, row }
    }

    /// An error about `column` of this row.
    pub(crate) fn corrupt(&self, column: &'static str, problem: impl Into<String>) -> CorruptRow {
        CorruptRow {
            table: self.table,
            row: self.row.escape_debug().to_string(),
            column,
            problem: problem.into(),
        }
    }

    /// Parses `text` as `what` (a word for the error), accepting only its canonical form.
    pub(crate) fn exact<T>(
        &self,
        column: &'static str,
        text: &str,
        what: &str,
    ) -> Result<T, CorruptRow>
    where
        T: FromStr + Display,
    {
        match text.parse::<T>() {
            Ok(value) if value.to_string() == text => Ok(value),
            Ok(_) => Err(self.corrupt(
                column,
                format!("{} is not a {what} in canonical form", quoted(text)),
            )),
            Err(_) => Err(self.corrupt(column, format!("{} is not a {what}", quoted(text)))),
        }
    }

    /// [`Cells::exact`] of a nullable column.
    pub(crate) fn exact_opt<T>(
        &self,
        column: &'static str,
        text: Option<&str>,
        what: &str,
    ) -> Result<Option<T>, CorruptRow>
    where
        T: FromStr + Display,
    {
        text.map(|text| self.exact(column, text, what)).transpose()
    }

    /// A value that must be there: `None` is a corrupt `column`.
    pub(crate) fn required<T>(
        &self,
        column: &'static str,
        value: Option<T>,
    ) -> Result<T, CorruptRow> {
        value.ok_or_else(|| self.corrupt(column, "is null but must hold a value"))
    }

    /// A JSON column. The error quotes serde's message only, never the value: a state may
    /// hold free-text notes.
    pub(crate) fn json<T: DeserializeOwned>(
        &self,
        column: &'static str,
        text: &str,
    ) -> Result<T, CorruptRow> {
        serde_json::from_str(text)
            .map_err(|err| self.corrupt(column, format!("not valid JSON here: {err}")))
    }

    /// Unix milliseconds as a time.
    pub(crate) fn millis(
        &self,
        column: &'static str,
        ms: i64,
    ) -> Result<DateTime<Utc>, CorruptRow> {
        DateTime::<Utc>::from_timestamp_millis(ms)
            .ok_or_else(|| self.corrupt(column, format!("{ms} ms is outside the calendar")))
    }
}
