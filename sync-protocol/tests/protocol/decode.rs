//! Decoding the wire change: the first `validation` step of contract §12.

use serde_json::{json, Value};
use sync_protocol::{decode, Change, FieldName, Kind, RejectionCode};

use crate::support::{change, hlc, visit_change, HOUSE, STREET, VISIT};

const STAMP: &str = "1597742400000-0000-phone-7";

fn rejection_message(value: Value) -> String {
    let rejection = decode(&change(value)).unwrap_err();
    assert_eq!(rejection.code, RejectionCode::Validation);
    rejection.message
}

fn note() -> Value {
    json!({"note": {"value": "x", "hlc": STAMP}})
}

#[test]
fn a_well_formed_visit_change_decodes_with_parsed_ids_and_hlcs() {
    let decoded = decode(&change(visit_change(note()))).unwrap();
    assert_eq!(decoded.kind, Kind::Visit);
    assert_eq!(
        (decoded.id, decoded.street_id, decoded.household_id),
        (VISIT, STREET, Some(HOUSE))
    );
    assert_eq!(decoded.fields[&FieldName::Note].hlc, hlc(STAMP));
    assert_eq!(decoded.fields[&FieldName::Note].value, json!("x"));
}

#[test]
fn unknown_top_level_keys_such_as_seq_and_volunteer_id_are_ignored() {
    let mut value = visit_change(note());
    value["seq"] = json!(12);
    value["volunteer_id"] = json!("02844af9-f51b-4b5d-9eb8-ce1cdf6715d9");
    value["anything"] = json!({"nested": true});
    assert!(decode(&change(value)).is_ok());
}

#[test]
fn only_a_json_object_deserializes_into_a_change() {
    let as_array = json!(["visit", VISIT, STREET, HOUSE, note()]);
    assert!(serde_json::from_value::<Change>(as_array).is_err());
    assert!(serde_json::from_value::<Change>(json!("visit")).is_err());
    assert!(serde_json::from_value::<Change>(json!(null)).is_err());
    let empty: Change = serde_json::from_value(json!({})).unwrap();
    assert_eq!(empty, Change::default());
}

#[test]
fn uppercase_uuids_are_accepted_and_parsed() {
    let mut value = visit_change(note());
    value["id"] = json!(VISIT.to_string().to_uppercase());
    assert_eq!(decode(&change(value)).unwrap().id, VISIT);
}

#[test]
fn ids_must_be_uuids_in_hyphenated_text() {
    for bad in [
        json!(null),
        json!(""),
        json!(42),
        json!("not-a-uuid"),
        json!(VISIT.simple().to_string()),
        json!(VISIT.braced().to_string()),
        json!(VISIT.urn().to_string()),
        json!("01890a5d-ac96-774b-bcce-b302099a805"),
        json!("01890a5d-ac96-774b-bcce-b302099a805g"),
    ] {
        for key in ["id", "street_id", "household_id"] {
            let mut value = visit_change(note());
            value[key] = bad.clone();
            let message = rejection_message(value);
            let expected = if key == "household_id" && bad.is_null() {
                "a visit needs household_id".to_owned()
            } else {
                format!("{key} must be a UUID in hyphenated text")
            };
            assert_eq!(message, expected, "{key} = {bad}");
        }
    }
}

#[test]
fn missing_keys_are_null_and_rejected_precisely() {
    let message = rejection_message(json!({"id": VISIT, "street_id": STREET, "fields": note()}));
    assert!(message.contains("kind"), "{message}");
    let message = rejection_message(
        json!({"kind": "visit", "street_id": STREET, "household_id": HOUSE, "fields": note()}),
    );
    assert!(message.starts_with("id "), "{message}");
}

#[test]
fn kind_must_be_household_or_visit() {
    for bad in [
        json!("Visit"),
        json!("street"),
        json!(1),
        json!(null),
        json!(["visit"]),
    ] {
        let mut value = visit_change(note());
        value["kind"] = bad;
        assert!(rejection_message(value).contains("kind"));
    }
}

#[test]
fn a_visit_needs_a_household_id() {
    let mut value = visit_change(note());
    value.as_object_mut().unwrap().remove("household_id");
    assert_eq!(rejection_message(value), "a visit needs household_id");
}

#[test]
fn a_household_carries_no_household_id() {
    let value = json!({"kind": "household", "id": HOUSE, "street_id": STREET, "household_id": HOUSE,
                       "fields": {"house_number": {"value": "12/5A", "hlc": STAMP}}});
    assert_eq!(rejection_message(value), "a household has no household_id");
}

#[test]
fn fields_must_be_a_non_empty_object() {
    for bad in [json!(null), json!([]), json!("x"), json!({})] {
        let message = rejection_message(visit_change(bad));
        assert!(message.starts_with("fields must"), "{message}");
    }
}

#[test]
fn a_field_name_unknown_for_the_kind_is_rejected() {
    let message = rejection_message(visit_change(
        json!({"house_number": {"value": "1", "hlc": STAMP}}),
    ));
    assert_eq!(message, "unknown field \"house_number\" for a visit");
    let household = json!({"kind": "household", "id": HOUSE, "street_id": STREET,
                           "fields": {"outcome": {"value": "declined", "hlc": STAMP}}});
    assert_eq!(
        rejection_message(household),
        "unknown field \"outcome\" for a household"
    );
    let message = rejection_message(visit_change(json!({"Note": {"value": "x", "hlc": STAMP}})));
    assert!(message.contains("\"Note\""));
}

#[test]
fn each_field_must_be_an_object_with_value_and_hlc() {
    for bad in [
        json!("x"),
        json!(null),
        json!({"value": "x"}),
        json!({"hlc": STAMP}),
        json!({"value": "x", "hlc": null}),
        json!([{"value": "x", "hlc": STAMP}]),
    ] {
        let message = rejection_message(visit_change(json!({"note": bad})));
        assert!(message.starts_with("fields.note"), "{message}");
    }
}

#[test]
fn an_explicit_null_value_is_kept_for_validation_to_judge() {
    let decoded = decode(&change(visit_change(
        json!({"note": {"value": null, "hlc": STAMP}}),
    )))
    .unwrap();
    assert_eq!(decoded.fields[&FieldName::Note].value, Value::Null);
}

#[test]
fn a_change_round_trips_through_its_wire_form() {
    let original = change(visit_change(note()));
    let decoded = decode(&original).unwrap();
    let rebuilt = Change::new(
        decoded.kind,
        decoded.id,
        decoded.street_id,
        decoded.household_id,
        &decoded.fields,
    );
    assert_eq!(decode(&rebuilt).unwrap(), decoded);
    let household = Change::new(Kind::Household, HOUSE, STREET, None, &decoded.fields);
    let text = serde_json::to_string(&household).unwrap();
    assert!(!text.contains("household_id"), "{text}");
}
