//! CSV import bodies (areas, streets, households): a header naming exactly the expected
//! columns, in any order, and rows whose every error names the line of the file.
//!
//! ```
//! let rows = import_csv::parse("name,code\nHiệp Thành,25741\n", &["code", "name"])?;
//! assert_eq!(rows[0].fields, vec!["25741", "Hiệp Thành"]);
//! assert_eq!(rows[0].line, 2);
//! # Ok::<(), import_csv::CsvError>(())
//! ```
#![deny(missing_docs)]

use std::collections::HashMap;

/// One data row, its fields in the order of the expected columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    /// Line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// Trimmed fields, in the order of the `columns` asked for.
    pub fields: Vec<String>,
}

/// Why an import body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A malformed header or row; the text names the line.
    #[error("line {line}: {message}")]
    Invalid {
        /// Line of the file.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// More rows than one import takes.
    #[error("more than {0} rows")]
    TooManyRows(usize),
}

/// Most rows one import takes (the whole of Vietnam is 11,384 area rows).
pub const MAX_ROWS: usize = 1_000_000;

fn invalid(line: u64, message: impl Into<String>) -> CsvError {
    CsvError::Invalid {
        line,
        message: message.into(),
    }
}

/// Parses `text` whose header must hold exactly `columns` (in any order). Blank rows are
/// skipped; fields are trimmed.
pub fn parse(text: &str, columns: &[&str]) -> Result<Vec<CsvRow>, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|err| invalid(1, format!("unreadable header: {err}")))?
        .clone();
    let mut position: HashMap<String, usize> = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        let name = name.trim().to_owned();
        if !columns.contains(&name.as_str()) {
            return Err(invalid(
                1,
                format!("unknown column {name:?}; expected {}", columns.join(",")),
            ));
        }
        if position.insert(name.clone(), index).is_some() {
            return Err(invalid(1, format!("column {name:?} appears twice")));
        }
    }
    if let Some(missing) = columns.iter().find(|c| !position.contains_key(**c)) {
        return Err(invalid(1, format!("missing column {missing:?}")));
    }
    let order: Vec<usize> = columns
        .iter()
        .filter_map(|c| position.get(*c).copied())
        .collect();
    // The reader's own line numbers skip blank lines; count them from byte offsets instead.
    // A line ends at "\n", "\r\n" or a lone "\r" (old Mac files), as the reader splits them.
    let bytes = text.as_bytes();
    let breaks: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .map(|(i, _)| i)
        .collect();
    let line_at = |byte: u64| -> u64 {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX);
        // A record's position may point at the blank lines before it.
        while bytes.get(byte).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            byte += 1;
        }
        breaks.partition_point(|&nl| nl < byte) as u64 + 1
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| {
            let line = err.position().map_or(0, |p| line_at(p.byte()));
            let why = match err.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    format!("expected {expected_len} fields, found {len}")
                }
                _ => err.to_string(),
            };
            invalid(line, why)
        })?;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(CsvError::TooManyRows(MAX_ROWS));
        }
        let fields = order
            .iter()
            .map(|&index| record.get(index).unwrap_or("").trim().to_owned())
            .collect();
        rows.push(CsvRow { line, fields });
    }
    Ok(rows)
}

/// Checks one text field's length in characters (not bytes), naming the line.
pub fn check_len(
    line: u64,
    name: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), CsvError> {
    let chars = value.chars().count();
    if chars < min || chars > max {
        return Err(invalid(
            line,
            format!("{name} must have {min} to {max} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_may_come_in_any_order_and_rows_keep_their_line() {
        let rows = parse("name,code\nA,1\n\nB,2\n", &["code", "name"]);
        let rows = rows.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), 2, "{rows:?}");
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
    fn a_missing_column_is_refused_on_line_one() {
        let err = parse("code\n1\n", &["code", "name"])
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.unwrap_or_default(), "line 1: missing column \"name\"");
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

    #[test]
    fn quoted_fields_keep_commas_and_a_row_spanning_lines_starts_where_it_starts() {
        let rows = parse(
            "code,name\n1,\"Hẻm 12, Đường 30/4\"\n2,\"two\nlines\"\n3,C\n",
            &["code", "name"],
        )
        .unwrap_or_default();
        assert_eq!(rows[0].fields[1], "Hẻm 12, Đường 30/4");
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[2].line, 5);
    }

    #[test]
    fn lone_carriage_returns_end_lines_too() {
        // Found by the csv_import fuzzer: a file with old Mac line endings named line 1.
        let rows = parse(
            "ward_code,code,name\r25741,H12,A\r\r25741,H14,B\r",
            &["ward_code", "code", "name"],
        )
        .unwrap_or_default();
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 4]);
        let err = parse(
            "ward_code,code,name\r\n25741,H12\r\n",
            &["ward_code", "code", "name"],
        );
        assert_eq!(
            err.err().map(|e| e.to_string()).unwrap_or_default(),
            "line 2: expected 3 fields, found 2"
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check_len(2, "name", "Đường", 1, 5).is_ok());
        assert!(check_len(2, "name", "Đường6", 1, 5).is_err());
    }
}
