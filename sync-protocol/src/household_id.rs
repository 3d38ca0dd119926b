//! Deterministic household ids (contract §7 and §12), so that two phones adding the same
//! house offline create the same record.

use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

/// The prefix removed once from the front of a normalized house number: "số" ("number")
/// in NFKC, lower case.
const NUMBER_PREFIX: &str = "s\u{1ed1}";

/// Normalizes a house number: Unicode NFKC, then lower case with Unicode's default full
/// mapping (no locale), then every `White_Space` character removed, then one leading `số`
/// removed. `None` when nothing is left.
///
/// The prefix goes last, so `"Số 12"`, `"SỐ12"` and `"số\u{a0}12"` all lose it.
///
/// ```
/// use sync_protocol::normalize_house_number;
///
/// assert_eq!(normalize_house_number(" Số 12/5a ").as_deref(), Some("12/5a"));
/// assert_eq!(normalize_house_number("１２/5A").as_deref(), Some("12/5a"));
/// assert_eq!(normalize_house_number("số số 7").as_deref(), Some("số7"));
/// assert_eq!(normalize_house_number(" Số "), None);
/// ```
pub fn normalize_house_number(house_number: &str) -> Option<String> {
    let folded: String = house_number.nfkc().collect::<String>().to_lowercase();
    let compact: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
    let normalized = compact.strip_prefix(NUMBER_PREFIX).unwrap_or(&compact);
    if normalized.is_empty() {
        None
    } else {
        Some(normalized.to_owned())
    }
}

/// The id of the household at `house_number` on `street_id`: UUIDv5 with the street id as
/// namespace and the UTF-8 bytes of [`normalize_house_number`] as name. `None` when the
/// house number normalizes to nothing.
///
/// ```
/// use sync_protocol::household_id;
///
/// let street = "ca41459a-228f-4513-b479-e934348a81aa".parse()?;
/// let id = household_id(street, "12/5A").ok_or("empty")?;
/// assert_eq!(id.to_string(), "cd204d15-0527-5827-9e6d-6bff87ec69dd");
/// assert_eq!(household_id(street, " Số 12/5a "), Some(id));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn household_id(street_id: Uuid, house_number: &str) -> Option<Uuid> {
    normalize_house_number(house_number).map(|name| Uuid::new_v5(&street_id, name.as_bytes()))
}
