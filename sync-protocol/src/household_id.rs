//! Deterministic household ids (contract §7 and §12), so that two phones adding the same
//! house offline create the same record.

use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::ignorable::is_default_ignorable;

/// The prefix removed once from the front of a normalized house number: "số" ("number")
/// in NFKC, lower case.
const NUMBER_PREFIX: &str = "s\u{1ed1}";

/// Whether a character is invisible for house numbers: `White_Space` or
/// `Default_Ignorable_Code_Point`.
fn is_invisible(c: &char) -> bool {
    c.is_whitespace() || is_default_ignorable(*c)
}

/// Normalizes a house number (contract §7 and §12): every character with the `White_Space`
/// or `Default_Ignorable_Code_Point` property removed, Unicode NFKC, lower case with
/// Unicode's default full mapping (no locale), invisible characters removed again (NFKC
/// can make spaces, e.g. of `¨`), then one leading `số` removed. `None` when what is left
/// holds no letter or digit (no character that is `Alphabetic` or `Numeric`).
///
/// Invisible characters go first as well as after NFKC, so that one typed between a letter
/// and its accent does not split a house in two. The prefix goes last, so `"Số 12"`,
/// `"SỐ12"` and `"số\u{a0}12"` all lose it.
///
/// ```
/// use sync_protocol::normalize_house_number;
///
/// assert_eq!(normalize_house_number(" Số 12/5a ").as_deref(), Some("12/5a"));
/// assert_eq!(normalize_house_number("１２/5A").as_deref(), Some("12/5a"));
/// assert_eq!(normalize_house_number("12\u{200b}/5A\u{feff}").as_deref(), Some("12/5a"));
/// assert_eq!(normalize_house_number("số số 7").as_deref(), Some("số7"));
/// assert_eq!(normalize_house_number(" Số "), None);
/// assert_eq!(normalize_house_number("-/-"), None, "no letter or digit");
/// ```
pub fn normalize_house_number(house_number: &str) -> Option<String> {
    let visible: String = house_number.chars().filter(|c| !is_invisible(c)).collect();
    let folded = visible.nfkc().collect::<String>().to_lowercase();
    let compact: String = folded.chars().filter(|c| !is_invisible(c)).collect();
    let normalized = compact.strip_prefix(NUMBER_PREFIX).unwrap_or(&compact);
    if normalized.chars().any(char::is_alphanumeric) {
        Some(normalized.to_owned())
    } else {
        None
    }
}

/// The id of the household at `house_number` on `street_id`: UUIDv5 with the street id as
/// namespace and the UTF-8 bytes of [`normalize_house_number`] as name. `None` when the
/// house number holds no letter or digit once normalized (the server answers such a house
/// number with `validation`).
///
/// ```
/// use sync_protocol::household_id;
///
/// let street = "ca41459a-228f-4513-b479-e934348a81aa".parse()?;
/// let id = household_id(street, "12/5A").ok_or("no letter or digit")?;
/// assert_eq!(id.to_string(), "cd204d15-0527-5827-9e6d-6bff87ec69dd");
/// assert_eq!(household_id(street, " Số 12/5a "), Some(id));
/// assert_eq!(household_id(street, "12\u{ad}/5A"), Some(id), "a soft hyphen is invisible");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn household_id(street_id: Uuid, house_number: &str) -> Option<Uuid> {
    normalize_house_number(house_number).map(|name| Uuid::new_v5(&street_id, name.as_bytes()))
}
