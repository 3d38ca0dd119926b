//! Usernames (contract section 4): 1–64 characters without white space, control or format
//! characters, unique and matched at login after Unicode NFKC and lower-casing.

use unicode_normalization::UnicodeNormalization;

use crate::error::{ApiError, ApiResult};

/// Longest username, in characters, as given and after normalization.
pub const MAX_USERNAME_CHARS: usize = 64;

/// The characters of Unicode general category Cf (format) as of Unicode 15.1, as ranges.
/// Rust's standard library knows White_Space and Cc but not Cf; these are the zero-width
/// spaces and joiners, bidi controls, the byte-order mark and the tags that make two names
/// look alike.
const FORMAT_CHARS: [(char, char); 21] = [
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

fn is_format(c: char) -> bool {
    FORMAT_CHARS
        .iter()
        .any(|&(first, last)| first <= c && c <= last)
}

/// White space (Zs, Zl, Zp and every White_Space character), control (Cc) or format (Cf).
fn is_forbidden(c: char) -> bool {
    c.is_whitespace() || c.is_control() || is_format(c)
}

/// The form under which usernames are unique and matched: NFKC, then lower case
/// (Unicode's default full mapping, no locale). `Admin` and `ａｄｍｉｎ` are `admin`.
pub fn key(username: &str) -> String {
    username.nfkc().collect::<String>().to_lowercase()
}

/// Checks a new username; both the name as given and its [`key`] must have 1 to 64
/// characters and none that is white space, a control or a format character (NFKC turns
/// some characters into white space, e.g. U+00A8 into a space and a combining diaeresis).
pub fn check_new(username: &str) -> ApiResult<()> {
    let normalized = key(username);
    let fits = |text: &str| {
        let chars = text.chars().count();
        (1..=MAX_USERNAME_CHARS).contains(&chars) && !text.chars().any(is_forbidden)
    };
    if fits(username) && fits(&normalized) {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "username must have 1 to {MAX_USERNAME_CHARS} characters and no white space, \
             control or format character"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_compatibility_forms_share_one_key() {
        assert_eq!(key("Admin"), "admin");
        assert_eq!(key("ＡＤＭＩＮ"), "admin");
        assert_eq!(key("ａｄｍｉｎ"), "admin");
        assert_eq!(key("\u{212A}elvin"), "kelvin", "the Kelvin sign is a K");
        assert_eq!(key("Nguyễn"), key("Nguye\u{0302}\u{0303}n"));
        assert_eq!(key("ĐỨC"), "đức");
    }

    #[test]
    fn white_space_control_and_format_characters_are_refused() {
        for bad in [
            "",
            "v1a\u{200B}",
            "a b",
            "a\u{00A0}b",
            "a\u{3000}b",
            "a\u{2028}b",
            "a\tb",
            "a\u{0}b",
            "\u{FEFF}admin",
            "ad\u{00AD}min",
            "ad\u{202E}nim",
            "a\u{E0041}",
            "\u{00A8}x",
        ] {
            assert!(check_new(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(check_new(&"x".repeat(65)).is_err());
        // 64 characters, but NFKC makes it longer.
        assert!(check_new(&"\u{FDFA}".repeat(4)).is_err());
    }

    #[test]
    fn ordinary_names_are_accepted() {
        for good in [
            "admin",
            "tnv.lan",
            "Nguyễn-Văn-An",
            "a",
            &"x".repeat(64),
            "用户",
        ] {
            assert!(check_new(good).is_ok(), "{good:?} must be accepted");
        }
    }

    #[test]
    fn the_format_table_is_sorted_and_matches_the_zero_width_space() {
        assert!(FORMAT_CHARS.iter().all(|(a, b)| a <= b));
        assert!(FORMAT_CHARS.windows(2).all(|w| w[0].1 < w[1].0));
        assert!(is_format('\u{200B}') && is_format('\u{E007F}') && !is_format('a'));
    }
}
