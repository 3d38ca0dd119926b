//! CSV import bodies: parsing never panics, rows always name a line after the header, and
//! every row has exactly the expected number of fields.
#![no_main]

use libfuzzer_sys::fuzz_target;

const LAYOUTS: [&[&str]; 3] = [
    &["code", "name", "level", "parent_code"],
    &["ward_code", "code", "name"],
    &["street_code", "house_number"],
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let columns = LAYOUTS[usize::from(selector) % LAYOUTS.len()];
    // Lines end at "\n", "\r\n" or a lone "\r".
    let bytes = text.as_bytes();
    let lines = bytes
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count() as u64
        + 1;
    match import_csv::parse(text, columns) {
        Ok(rows) => {
            for row in rows {
                assert_eq!(row.fields.len(), columns.len());
                assert!(
                    row.line >= 2 && row.line <= lines,
                    "line {} of {lines}",
                    row.line
                );
            }
        }
        Err(import_csv::CsvError::Invalid { line, .. }) => {
            assert!(line <= lines, "error on line {line} of {lines}");
        }
        Err(import_csv::CsvError::TooManyRows(_)) => {}
    }
});
