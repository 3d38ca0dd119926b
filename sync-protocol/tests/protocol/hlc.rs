//! HLC text form, order and parse errors.

use serde_json::json;
use sync_protocol::{decode, Hlc, HlcError, RejectionCode};

use crate::support::{change, hlc, visit_change};

#[test]
fn the_contract_example_parses_and_prints_back_identically() {
    let parsed = hlc("1597742400000-0000-phone-7");
    assert_eq!(parsed.ms(), 1_597_742_400_000);
    assert_eq!(parsed.counter(), 0);
    assert_eq!(parsed.node(), "phone-7");
    assert_eq!(parsed.to_string(), "1597742400000-0000-phone-7");
}

#[test]
fn display_pads_ms_to_13_digits_and_counter_to_4_lowercase_hex_digits() {
    let small = Hlc::new(42, 0xab, "n").unwrap();
    assert_eq!(small.to_string(), "0000000000042-00ab-n");
    assert_eq!(hlc("0000000000042-00ab-n"), small);
}

#[test]
fn a_node_may_contain_dashes_because_only_the_first_two_split() {
    let parsed = hlc("1597742400000-ffff-a-b--c-");
    assert_eq!(parsed.counter(), 0xffff);
    assert_eq!(parsed.node(), "a-b--c-");
}

#[test]
fn order_is_by_ms_then_counter_then_node_byte_wise() {
    let ordered = [
        "1597742400000-ffff-z",
        "1597742400001-0000-a",
        "1597742400001-0001-A",
        "1597742400001-0001-B",
        "1597742400001-0001-a",
        "1597742400001-0001-ab",
        "1597742400001-0001-b",
    ];
    for pair in ordered.windows(2) {
        assert!(hlc(pair[0]) < hlc(pair[1]), "{} < {}", pair[0], pair[1]);
    }
}

#[test]
fn an_hlc_serializes_as_its_text_and_deserializes_from_it() {
    let parsed = hlc("1597742400000-0001-server");
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        json!("1597742400000-0001-server")
    );
    let back: Hlc = serde_json::from_value(json!("1597742400000-0001-server")).unwrap();
    assert_eq!(back, parsed);
}

#[test]
fn deserializing_a_malformed_hlc_is_an_error_not_a_panic() {
    assert!(serde_json::from_value::<Hlc>(json!("1597742400000-0001")).is_err());
    assert!(serde_json::from_value::<Hlc>(json!(1597742400000u64)).is_err());
}

#[test]
fn every_malformed_text_is_a_typed_error() {
    let sixty_five = format!("1597742400000-0000-{}", "n".repeat(65));
    let cases: &[(&str, HlcError)] = &[
        ("", HlcError::MissingParts),
        ("1597742400000", HlcError::MissingParts),
        ("1597742400000-0000", HlcError::MissingParts),
        ("1597742400000-0000-", HlcError::BadNode),
        ("159774240000-0000-phone", HlcError::BadMs),
        ("15977424000000-0000-phone", HlcError::BadMs),
        ("99999999999999-0000-phone", HlcError::BadMs),
        ("+597742400000-0000-phone", HlcError::BadMs),
        ("159774240000x-0000-phone", HlcError::BadMs),
        ("١٥٩٧٧٤٢٤٠٠٠٠٠-0000-phone", HlcError::BadMs),
        ("1597742400000-00A0-phone", HlcError::BadCounter),
        ("1597742400000-FFFF-phone", HlcError::BadCounter),
        ("1597742400000-000-phone", HlcError::BadCounter),
        ("1597742400000-00000-phone", HlcError::BadCounter),
        ("1597742400000-+0ff-phone", HlcError::BadCounter),
        ("1597742400000-00g0-phone", HlcError::BadCounter),
        ("1597742400000-0000-phone 7", HlcError::BadNode),
        ("1597742400000-0000-phone\t7", HlcError::BadNode),
        ("1597742400000-0000-điện-thoại", HlcError::BadNode),
        ("1597742400000-0000-phone\u{7f}", HlcError::BadNode),
        (&sixty_five, HlcError::BadNode),
        ("-0000-phone", HlcError::BadMs),
        ("1597742400000--phone", HlcError::BadCounter),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<Hlc>().as_ref(), Err(expected), "{text:?}");
    }
}

#[test]
fn a_node_of_exactly_64_printable_characters_is_accepted() {
    let node = "~".repeat(64);
    let parsed = hlc(&format!("1597742400000-0000-{node}"));
    assert_eq!(parsed.node(), node);
}

#[test]
fn new_refuses_ms_beyond_13_digits_and_bad_nodes() {
    assert_eq!(
        Hlc::new(Hlc::MAX_MS, 0, "n").unwrap().to_string(),
        "9999999999999-0000-n"
    );
    assert_eq!(
        Hlc::new(Hlc::MAX_MS + 1, 0, "n"),
        Err(HlcError::MsOutOfRange)
    );
    assert_eq!(Hlc::new(u64::MAX, 0, "n"), Err(HlcError::MsOutOfRange));
    assert_eq!(Hlc::new(1, 0, ""), Err(HlcError::BadNode));
    assert_eq!(Hlc::new(1, 0, "a b"), Err(HlcError::BadNode));
}

#[test]
fn a_malformed_hlc_in_a_change_is_a_validation_rejection() {
    for bad in [
        json!(""),
        json!("159774240000-0000-phone"),
        json!("1597742400000-00A0-phone"),
        json!("1597742400000-000-phone"),
        json!("1597742400000-0000-phone 7"),
        json!(format!("1597742400000-0000-{}", "n".repeat(65))),
        json!("1597742400000-0000-máy"),
        json!("1597742400000-0000"),
        json!("99999999999999-0000-phone"),
        json!(1597742400000u64),
        json!(null),
    ] {
        let wire = change(visit_change(json!({"note": {"value": "x", "hlc": bad}})));
        let rejection = decode(&wire).unwrap_err();
        assert_eq!(rejection.code, RejectionCode::Validation, "{bad}");
        assert!(rejection.message.contains("note"), "{}", rejection.message);
    }
}
