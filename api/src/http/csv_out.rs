//! CSV as spreadsheets read it (contract section 13): a UTF-8 byte-order mark first, CRLF
//! line ends, RFC 4180 quoting, numbers as numbers, an empty cell for null, and text that
//! a spreadsheet would run as a formula defused with a leading `'`.

use std::fmt::Write;

/// Starts every CSV answer, so spreadsheet programs read the text as UTF-8.
pub const BOM: &str = "\u{feff}";

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Text; formula-safe and quoted as needed.
    Text(&'a str),
    /// A number from a JSON value or a count: written as it is.
    Number(String),
    /// `true` or `false`.
    Bool(bool),
    /// Null: an empty cell.
    Empty,
}

impl<'a> Cell<'a> {
    /// Text, or an empty cell.
    pub fn text(value: Option<&'a str>) -> Cell<'a> {
        value.map_or(Cell::Empty, Cell::Text)
    }

    /// A number, or an empty cell.
    pub fn number(value: Option<impl ToString>) -> Cell<'a> {
        value.map_or(Cell::Empty, |n| Cell::Number(n.to_string()))
    }
}

/// Whether a spreadsheet would take text starting with this character as a formula (or,
/// for tab and carriage return, strip it and then take what follows as one).
fn starts_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

fn push_text(out: &mut String, text: &str) {
    let guarded = starts_formula(text);
    let quoted = guarded && text.starts_with('\r') || text.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    if quoted {
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// Appends one row, ended by CRLF.
pub fn push_row(out: &mut String, cells: &[Cell<'_>]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match cell {
            Cell::Text(text) => push_text(out, text),
            Cell::Number(number) => out.push_str(number),
            Cell::Bool(value) => {
                let _ = write!(out, "{value}");
            }
            Cell::Empty => {}
        }
    }
    out.push_str("\r\n");
}

/// Appends a header row.
pub fn push_header(out: &mut String, columns: &[&str]) {
    let cells: Vec<Cell<'_>> = columns.iter().map(|c| Cell::Text(c)).collect();
    push_row(out, &cells);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[Cell<'_>]) -> String {
        let mut out = String::new();
        push_row(&mut out, cells);
        out
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_is_defused() {
        for (text, written) in [
            ("=1+1", "'=1+1\r\n"),
            ("+84 123", "'+84 123\r\n"),
            ("-2", "'-2\r\n"),
            ("@SUM(A1)", "'@SUM(A1)\r\n"),
            ("\t=1", "'\t=1\r\n"),
            ("\r=1", "\"'\r=1\"\r\n"),
            (
                "=HYPERLINK(\"x\",\"y\")",
                "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"\r\n",
            ),
            ("Số 12", "Số 12\r\n"),
            ("a,b", "\"a,b\"\r\n"),
        ] {
            assert_eq!(row(&[Cell::Text(text)]), written, "{text:?}");
        }
    }

    #[test]
    fn numbers_stay_numbers_and_null_is_empty() {
        assert_eq!(
            row(&[
                Cell::number(Some(-106.5)),
                Cell::number(None::<i64>),
                Cell::Bool(true),
                Cell::text(None),
                Cell::number(Some(3)),
            ]),
            "-106.5,,true,,3\r\n"
        );
    }
}
