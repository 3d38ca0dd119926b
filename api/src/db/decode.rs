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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use sync_protocol::Role;

    use super::*;
    use crate::model::{AreaId, Level};

    const ROW: &str = "0a1b2c3d-0000-4000-8000-00000000000a";

    #[test]
    fn canonical_values_decode() -> Result<(), CorruptRow> {
        let cells = Cells::new("areas", ROW);
        let id: AreaId = cells.exact("id", ROW, "UUID")?;
        assert_eq!(id.to_string(), ROW);
        let date: NaiveDate = cells.exact("starts_on", "2020-08-17", "date")?;
        assert_eq!(date.to_string(), "2020-08-17");
        let level: Level = cells.exact("level", "ward", "level")?;
        assert_eq!(level, Level::Ward);
        let role: Role = cells.exact("role", "ward_leader", "role")?;
        assert_eq!(role, Role::WardLeader);
        Ok(())
    }

    #[test]
    fn a_value_that_parses_only_loosely_names_its_row_and_column() {
        let cells = Cells::new("campaigns", ROW);
        for (column, text) in [
            ("id", "0A1B2C3D-0000-4000-8000-00000000000A"),
            ("id", "0a1b2c3d000040008000000000000000a"),
            ("id", "{0a1b2c3d-0000-4000-8000-00000000000a}"),
            ("id", ""),
        ] {
            let err = cells.exact::<AreaId>(column, text, "UUID").err();
            assert_eq!(
                err.map(|e| (e.table, e.row, e.column)),
                Some(("campaigns", ROW.to_owned(), column)),
                "{text:?}"
            );
        }
        for text in [
            "2020-8-17",
            " 2020-08-17",
            "2020-02-30",
            "17/08/2020",
            "+2020-08-17",
        ] {
            assert!(
                cells.exact::<NaiveDate>("starts_on", text, "date").is_err(),
                "{text:?}"
            );
        }
        assert!(cells.exact::<Level>("level", "Ward", "level").is_err());
        assert!(cells.exact::<Role>("role", "admin ", "role").is_err());
    }

    #[test]
    fn errors_stay_on_one_line_and_quote_little() {
        let long = format!("{}\nsecond line", "x".repeat(500));
        let err = Cells::new("areas", "row\nid").corrupt("level", "x");
        assert!(!err.to_string().contains('\n'));
        let err = Cells::new("areas", ROW)
            .exact::<Level>("level", &long, "level")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!err.contains('\n') && err.len() < 300, "{err}");
    }
}
