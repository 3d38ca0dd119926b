//! Deterministic household ids (contract §7 and §12).

use sync_protocol::{household_id, normalize_house_number};

use crate::support::{HOUSE, OTHER_STREET, STREET};

fn norm(text: &str) -> Option<String> {
    normalize_house_number(text)
}

#[test]
fn the_contract_example_house_gets_the_id_of_the_examples() {
    assert_eq!(household_id(STREET, "12/5A"), Some(HOUSE));
}

#[test]
fn spacing_case_and_a_leading_so_do_not_change_the_id_on_one_street() {
    assert_eq!(household_id(STREET, " Số 12/5a "), Some(HOUSE));
    assert_eq!(household_id(STREET, "SỐ 12 / 5 A"), Some(HOUSE));
}

#[test]
fn the_same_house_number_on_two_streets_gets_two_ids() {
    let other = household_id(OTHER_STREET, "12/5A").unwrap();
    assert_ne!(other, HOUSE);
    // Computed independently (Python uuid.uuid5) as a cross-check.
    assert_eq!(other.to_string(), "724a87d7-fd70-5a34-bd0f-9408cd456ba1");
}

#[test]
fn full_width_digits_are_folded_by_nfkc() {
    assert_eq!(norm("１２/5A").as_deref(), Some("12/5a"));
    assert_eq!(household_id(STREET, "１２/５Ａ"), Some(HOUSE));
}

#[test]
fn a_decomposed_so_is_composed_by_nfkc_before_it_is_removed() {
    // "so" + combining circumflex + combining acute.
    assert_eq!(norm("So\u{302}\u{301} 12/5A").as_deref(), Some("12/5a"));
}

#[test]
fn every_white_space_character_is_removed_not_only_ascii_spaces() {
    for space in [
        '\u{a0}', '\u{2003}', '\u{2009}', '\u{202f}', '\u{3000}', '\u{85}', '\u{2028}', '\t', '\n',
    ] {
        let text = format!("{space}Số{space}12/5A{space}");
        assert_eq!(
            norm(&text).as_deref(),
            Some("12/5a"),
            "U+{:04X}",
            u32::from(space)
        );
    }
}

#[test]
fn invisible_characters_are_removed_zero_width_soft_hyphen_bom_and_bidi_controls() {
    for invisible in [
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{2060}',
        '\u{ad}',
        '\u{feff}',
        '\u{200e}',
        '\u{200f}',
        '\u{202a}',
        '\u{202e}',
        '\u{2066}',
        '\u{2069}',
        '\u{61c}',
        '\u{180e}',
        '\u{fe0f}',
        '\u{34f}',
        '\u{e0001}',
        '\u{e0100}',
        '\u{3164}',
        '\u{ffa0}',
    ] {
        let text = format!("{invisible}Số{invisible}12/5A{invisible}");
        assert_eq!(
            norm(&text).as_deref(),
            Some("12/5a"),
            "U+{:04X}",
            u32::from(invisible)
        );
        assert_eq!(household_id(STREET, &text), Some(HOUSE));
    }
}

#[test]
fn an_invisible_character_between_a_letter_and_its_accents_does_not_split_the_house() {
    assert_eq!(
        norm("So\u{200b}\u{302}\u{301} 12/5A").as_deref(),
        Some("12/5a")
    );
    assert_eq!(norm("Sơ\u{ad}n 7"), norm("Sơn 7"));
}

#[test]
fn the_default_ignorable_table_matches_unicode_at_every_edge() {
    // The ranges of DerivedCoreProperties.txt, adjacent ones merged.
    let ranges: [(u32, u32); 17] = [
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x061C, 0x061C),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180F),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x206F),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF),
        (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFF8),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0000, 0xE0FFF),
    ];
    let is = |c: u32| sync_protocol::is_default_ignorable(char::from_u32(c).unwrap());
    for (low, high) in ranges {
        assert!(
            is(low) && is(high) && is((low + high) / 2),
            "{low:X}..{high:X}"
        );
        assert!(!is(low - 1), "{:X}", low - 1);
        assert!(!is(high + 1), "{:X}", high + 1);
    }
    // Some that look invisible but are not Default_Ignorable: spaces are White_Space.
    for c in [' ', '\u{a0}', '\u{3000}', 'a', '0', '\u{10ffff}', '\u{0}'] {
        assert!(
            !sync_protocol::is_default_ignorable(c),
            "U+{:04X}",
            u32::from(c)
        );
    }
}

#[test]
fn a_house_number_without_a_letter_or_digit_has_no_id() {
    for text in ["-", "/", "số", " Số -", "\u{200b}", "#/.", "\u{ad}"] {
        assert_eq!(household_id(STREET, text), None, "{text:?}");
    }
    assert!(household_id(STREET, "A").is_some());
    assert!(household_id(STREET, "½").is_some(), "NFKC makes 1⁄2");
    assert!(household_id(STREET, "một").is_some());
}

#[test]
fn so_is_removed_only_once() {
    assert_eq!(norm("Số số 7").as_deref(), Some("số7"));
    assert_eq!(norm("sốsố7").as_deref(), Some("số7"));
}

#[test]
fn so_is_removed_only_at_the_start() {
    assert_eq!(norm("7 số").as_deref(), Some("7số"));
    assert_eq!(norm("12 Số 5").as_deref(), Some("12số5"));
}

#[test]
fn words_that_merely_start_like_so_are_left_alone() {
    assert_eq!(norm("So 7").as_deref(), Some("so7"));
    assert_eq!(norm("Sơn 7").as_deref(), Some("sơn7"));
    assert_eq!(norm("Sổ 7").as_deref(), Some("sổ7"));
}

#[test]
fn lower_casing_uses_the_full_unicode_mapping() {
    assert_eq!(norm("ĐƯỜNG 3").as_deref(), Some("đường3"));
    // U+0130 lower-cases to two characters without a locale: "i" and U+0307.
    assert_eq!(norm("İ1").as_deref(), Some("i\u{307}1"));
}

#[test]
fn a_house_number_that_normalizes_to_nothing_has_no_id() {
    for empty in ["", " ", "\u{a0}\u{3000}", "số", " SỐ ", "Số\u{a0}"] {
        assert_eq!(norm(empty), None, "{empty:?}");
        assert_eq!(household_id(STREET, empty), None, "{empty:?}");
    }
}
