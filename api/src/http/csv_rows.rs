//! CSV import bodies, parsed by the `import-csv` crate, with its errors as API errors.

pub use import_csv::CsvRow;

use crate::error::{ApiError, ApiResult};

impl From<import_csv::CsvError> for ApiError {
    fn from(err: import_csv::CsvError) -> Self {
        match err {
            import_csv::CsvError::TooManyRows(_) => ApiError::PayloadTooLarge(err.to_string()),
            import_csv::CsvError::Invalid { .. } => ApiError::Validation(err.to_string()),
        }
    }
}

/// Parses `text` whose header must hold exactly `columns` (in any order). Every field of an
/// import is a one-line code, name or house number, so a control character is refused,
/// naming its line.
pub fn parse(text: &str, columns: &[&str]) -> ApiResult<Vec<CsvRow>> {
    let rows = import_csv::parse(text, columns)?;
    for row in &rows {
        let bad = row
            .fields
            .iter()
            .position(|field| super::body::has_control(field));
        if let Some(index) = bad {
            return Err(ApiError::validation(format!(
                "line {}: {} holds a control character",
                row.line,
                columns.get(index).copied().unwrap_or("a field")
            )));
        }
    }
    Ok(rows)
}

/// Checks one text field's length in characters, naming the line.
pub fn check_len(line: u64, name: &str, value: &str, min: usize, max: usize) -> ApiResult<()> {
    Ok(import_csv::check_len(line, name, value, min, max)?)
}
