//! CSV import bodies: a fixed header, rows that name their line in every error.

use std::collections::HashMap;

use crate::error::{ApiError, ApiResult};

/// One data row, its fields in the order of the expected columns.
#[derive(Debug, Clone)]
pub struct CsvRow {
    /// Line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// Trimmed fields, in the order of the `columns` asked for.
    pub fields: Vec<String>,
}

/// Most rows one import takes (the whole of Vietnam is 11,384 area rows).
pub const MAX_ROWS: usize = 1_000_000;

/// Parses `text` whose header must hold exactly `columns` (in any order).
pub fn parse(text: &str, columns: &[&str]) -> ApiResult<Vec<CsvRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|err| ApiError::validation(format!("line 1: unreadable header: {err}")))?
        .clone();
    let mut position: HashMap<String, usize> = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        let name = name.trim().to_owned();
        if !columns.contains(&name.as_str()) {
            return Err(ApiError::validation(format!(
                "line 1: unknown column {name:?}; expected {}",
                columns.join(",")
            )));
        }
        if position.insert(name.clone(), index).is_some() {
            return Err(ApiError::validation(format!(
                "line 1: column {name:?} appears twice"
            )));
        }
    }
    if let Some(missing) = columns.iter().find(|c| !position.contains_key(**c)) {
        return Err(ApiError::validation(format!(
            "line 1: missing column {missing:?}"
        )));
    }
    let order: Vec<usize> = columns
        .iter()
        .filter_map(|c| position.get(*c).copied())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| {
            let line = err.position().map_or(0, |p| p.line());
            let why = match err.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    format!("expected {expected_len} fields, found {len}")
                }
                _ => err.to_string(),
            };
            ApiError::validation(format!("line {line}: {why}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(ApiError::PayloadTooLarge(format!(
                "more than {MAX_ROWS} rows"
            )));
        }
        let fields = order
            .iter()
            .map(|&index| record.get(index).unwrap_or("").trim().to_owned())
            .collect();
        rows.push(CsvRow { line, fields });
    }
    Ok(rows)
}

/// Checks one text field's length in characters, naming the line.
pub fn check_len(line: u64, name: &str, value: &str, min: usize, max: usize) -> ApiResult<()> {
    let chars = value.chars().count();
    if chars < min || chars > max {
        return Err(ApiError::validation(format!(
            "line {line}: {name} must have {min} to {max} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_may_come_in_any_order_and_rows_keep_their_line() {
        let rows = parse("name,code\nA,1\n\nB,2\n", &["code", "name"]).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fields, vec!["1", "A"]);
        assert_eq!(rows[1].line, 4);
    }

    #[test]
    fn an_unknown_column_is_refused_on_line_one() {
        let err = parse("code,name,color\n", &["code", "name"])
            .err()
            .map(|e| e.to_string());
        assert!(err
            .unwrap_or_default()
            .starts_with("line 1: unknown column"));
    }

    #[test]
    fn a_short_row_names_its_line() {
        let err = parse("code,name\n1,A\n2\n", &["code", "name"])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.unwrap_or_default(),
            "line 3: expected 2 fields, found 1"
        );
    }
}
