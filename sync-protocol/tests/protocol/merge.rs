//! The field-level last-writer-wins merge.

use serde_json::{json, Value};
use sync_protocol::{
    join, merge, merge_field, FieldMerge, FieldName, PushContext, RecordState, Stamped,
};

use crate::support::{existing_visit, hlc, judge, permissive, visit_change, LAN};

fn stamped(value: Value, stamp: &str) -> Stamped {
    Stamped::new(value, hlc(stamp))
}

/// A valid edit of an existing visit with `fields`.
fn valid_edit(fields: Value) -> sync_protocol::ValidChange {
    let state = RecordState::new();
    let ctx = PushContext {
        existing: Some(existing_visit(LAN, &state)),
        ..permissive()
    };
    judge(visit_change(fields), &ctx).unwrap()
}

#[test]
fn the_larger_hlc_wins_whatever_the_values() {
    let old = stamped(json!("zzz"), "1597742400000-0000-b");
    let new = stamped(json!("aaa"), "1597742400000-0001-a");
    assert_eq!(merge_field(Some(&old), &new), FieldMerge::Won);
    assert_eq!(merge_field(Some(&new), &old), FieldMerge::Lost);
}

#[test]
fn the_node_breaks_a_tie_of_ms_and_counter() {
    let a = stamped(json!(1), "1597742400000-0000-phone-a");
    let b = stamped(json!(2), "1597742400000-0000-phone-b");
    assert_eq!(merge_field(Some(&a), &b), FieldMerge::Won);
    assert_eq!(merge_field(Some(&b), &a), FieldMerge::Lost);
}

#[test]
fn equal_hlcs_with_different_values_are_ordered_by_canonical_json_text() {
    let stamp = "1597742400000-0000-phone";
    // Byte-wise: "đ" (0xC4 0x91) is above "x" (0x78), and a string's quote (0x22) is below
    // any digit (0x30-0x39), and "null" (0x6E) above both.
    let ordered = [json!("nhà xanh"), json!("nhà đỏ"), json!(5), json!(null)];
    for pair in ordered.windows(2) {
        let (low, high) = (
            stamped(pair[0].clone(), stamp),
            stamped(pair[1].clone(), stamp),
        );
        assert_eq!(
            merge_field(Some(&low), &high),
            FieldMerge::Won,
            "{} < {}",
            pair[0],
            pair[1]
        );
        assert_eq!(merge_field(Some(&high), &low), FieldMerge::Lost);
    }
}

#[test]
fn the_same_value_and_hlc_is_same() {
    let a = stamped(json!("declined"), "1597742400000-0000-phone");
    assert_eq!(merge_field(Some(&a), &a.clone()), FieldMerge::Same);
}

#[test]
fn numbers_compare_as_numbers_so_10_and_10_point_0_are_the_same() {
    let int = stamped(json!(10), "1597742400000-0000-phone");
    let float = stamped(json!(10.0), "1597742400000-0000-phone");
    assert_eq!(merge_field(Some(&int), &float), FieldMerge::Same);
    assert_eq!(merge_field(Some(&float), &int), FieldMerge::Same);
}

#[test]
fn a_field_never_written_takes_any_incoming_value() {
    assert_eq!(
        merge_field(None, &stamped(json!(null), "0000000000000-0000-a")),
        FieldMerge::Won
    );
}

#[test]
fn merge_reports_won_lost_and_same_per_field() {
    let mut state = RecordState::new();
    let first = valid_edit(json!({
        "note": {"value": "a", "hlc": "1597742400000-0001-p"},
        "lat": {"value": 10.5, "hlc": "1597742400000-0001-p"}
    }));
    let outcome = merge(&mut state, &first);
    assert_eq!(outcome.won, vec![FieldName::Note, FieldName::Lat]);
    assert!(outcome.applied());

    let second = valid_edit(json!({
        "note": {"value": "old", "hlc": "1597742400000-0000-p"},
        "lat": {"value": 10.5, "hlc": "1597742400000-0001-p"},
        "lon": {"value": 106.6, "hlc": "1597742400000-0000-p"}
    }));
    let outcome = merge(&mut state, &second);
    assert_eq!(outcome.won, vec![FieldName::Lon]);
    assert_eq!(outcome.lost, vec![FieldName::Note]);
    assert_eq!(outcome.same, vec![FieldName::Lat]);
    assert!(outcome.applied());
    assert_eq!(state.note(), Some("a"));

    let outcome = merge(&mut state, &second);
    assert!(!outcome.applied(), "a re-send is unchanged");
}

#[test]
fn a_null_clears_a_field_and_keeps_its_hlc_so_older_values_stay_out() {
    let mut state = RecordState::new();
    merge(
        &mut state,
        &valid_edit(json!({"note": {"value": "gate is blue", "hlc": "1597742400000-0000-p"}})),
    );
    merge(
        &mut state,
        &valid_edit(json!({"note": {"value": null, "hlc": "1597742400000-0002-p"}})),
    );
    assert_eq!(state.note(), None);
    let outcome = merge(
        &mut state,
        &valid_edit(json!({"note": {"value": "gate is red", "hlc": "1597742400000-0001-q"}})),
    );
    assert!(!outcome.applied());
    assert_eq!(state.note(), None);
    assert_eq!(
        state.get(FieldName::Note).unwrap().hlc,
        hlc("1597742400000-0002-p")
    );
}

#[test]
fn defaults_are_not_writes_and_are_absent_from_the_state() {
    let mut state = RecordState::new();
    merge(
        &mut state,
        &valid_edit(json!({"note": {"value": "x", "hlc": "1597742400000-0000-p"}})),
    );
    assert!(state.get(FieldName::Deleted).is_none());
    assert!(state.get(FieldName::Review).is_none());
    assert!(!state.deleted());
    assert_eq!(state.review(), sync_protocol::Review::Pending);
    let text = serde_json::to_string(&state).unwrap();
    assert!(
        !text.contains("deleted") && !text.contains("review"),
        "{text}"
    );
}

#[test]
fn an_explicit_write_of_a_default_value_is_a_write_with_an_hlc() {
    let mut state = RecordState::new();
    merge(
        &mut state,
        &valid_edit(json!({"deleted": {"value": true, "hlc": "1597742400000-0000-p"}})),
    );
    merge(
        &mut state,
        &valid_edit(json!({"deleted": {"value": false, "hlc": "1597742400000-0001-p"}})),
    );
    assert!(!state.deleted());
    assert_eq!(state.get(FieldName::Deleted).unwrap().value, json!(false));
}

#[test]
fn join_takes_the_newer_of_each_field_from_either_side() {
    let a: RecordState = serde_json::from_value(json!({
        "note": {"value": "a", "hlc": "1597742400000-0002-p"},
        "lat": {"value": 1, "hlc": "1597742400000-0000-p"}
    }))
    .unwrap();
    let b: RecordState = serde_json::from_value(json!({
        "note": {"value": "b", "hlc": "1597742400000-0001-q"},
        "lat": {"value": 2, "hlc": "1597742400000-0001-q"},
        "lon": {"value": 3, "hlc": "1597742400000-0000-q"}
    }))
    .unwrap();
    let joined = join(&a, &b);
    assert_eq!(joined, join(&b, &a));
    assert_eq!(joined.note(), Some("a"));
    assert_eq!(joined.lat(), Some(2.0));
    assert_eq!(joined.lon(), Some(3.0));
    assert_eq!(join(&joined, &a), joined);
}

#[test]
fn a_record_state_serializes_as_the_contracts_fields_map() {
    let state: RecordState = serde_json::from_value(json!({
        "outcome": {"value": "installed_now", "hlc": "1597742400000-0000-phone-7"},
        "app_users": {"value": 2, "hlc": "1597742400000-0000-phone-7"}
    }))
    .unwrap();
    assert_eq!(
        serde_json::to_value(&state).unwrap(),
        json!({
            "outcome": {"value": "installed_now", "hlc": "1597742400000-0000-phone-7"},
            "app_users": {"value": 2, "hlc": "1597742400000-0000-phone-7"}
        })
    );
    assert!(serde_json::from_value::<RecordState>(
        json!({"bogus": {"value": 1, "hlc": "1597742400000-0000-p"}})
    )
    .is_err());
}
