//! The in-memory client replica, against the test server.

use serde_json::json;
use sync_protocol::{
    Change, FieldName, Kind, NewVisit, Outcome, PushResult, Rejection, RejectionCode, Replica,
    Review, Role,
};

use crate::support::{hlc, TestServer, HOUSE, LAN, MINH, SKEW_MS, STREET, VISIT};

/// 2020-08-18 09:20:00 +07:00.
const T0: u64 = 1_597_717_200_000;
const HOA: uuid::Uuid = uuid::uuid!("3c6d2b1a-0f9e-4d8c-b7a6-5e4f3a2b1c0d");

/// Pushes a replica's outbox as `user` and acknowledges the results.
fn sync_push(
    replica: &mut Replica,
    server: &mut TestServer,
    user: uuid::Uuid,
    role: Role,
) -> Vec<PushResult> {
    let batch = replica.take_outbox();
    let results: Vec<PushResult> = batch
        .iter()
        .map(|change| server.push(user, role, change))
        .collect();
    replica.acknowledge(&batch, &results);
    results
}

/// Pulls everything after `cursor` into a replica; returns the new cursor.
fn sync_pull(replica: &mut Replica, server: &TestServer, cursor: i64, now_ms: u64) -> i64 {
    for record in server.pull(cursor) {
        replica.apply_pulled(&record, now_ms);
    }
    server.seq()
}

fn new_visit() -> NewVisit {
    NewVisit {
        outcome: Outcome::Declined,
        visited_at: "2020-08-18T09:20:00+07:00".to_owned(),
        smartphone_users: Some(3),
        app_users: Some(0),
    }
}

#[test]
fn an_edit_stamps_every_field_with_one_hlc_applies_it_locally_and_queues_it() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let change = phone.edit(
        Kind::Visit,
        VISIT,
        STREET,
        Some(HOUSE),
        vec![(FieldName::Note, json!("x")), (FieldName::Lat, json!(10.0))],
        T0,
    );
    let stamp = format!("{T0}-0000-phone-lan");
    assert_eq!(change.fields["note"]["hlc"], json!(stamp));
    assert_eq!(
        change.fields["lat"],
        json!({"value": 10, "hlc": stamp}),
        "numbers go canonical"
    );
    assert_eq!(phone.outbox(), [change]);
    let record = phone.record(VISIT).unwrap();
    assert_eq!(
        (record.kind, record.street_id, record.household_id),
        (Kind::Visit, STREET, Some(HOUSE))
    );
    assert_eq!(record.state.note(), Some("x"));
}

#[test]
fn adding_a_household_uses_its_deterministic_id() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    assert_eq!(phone.add_household(STREET, " Số 12/5a ", T0), Some(HOUSE));
    assert_eq!(phone.add_household(STREET, " số ", T0), None);
    assert_eq!(phone.outbox().len(), 1);
    assert_eq!(
        phone.record(HOUSE).unwrap().state.house_number(),
        Some(" Số 12/5a ")
    );
}

#[test]
fn recorded_visits_get_distinct_ids_and_are_accepted_by_the_server() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 60_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    let first = phone.record_visit(STREET, house, new_visit(), T0);
    let second = phone.record_visit(STREET, house, new_visit(), T0);
    assert_ne!(first, second);
    let results = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert!(
        results
            .iter()
            .all(|r| r == &PushResult::applied(r.id.clone())),
        "{results:?}"
    );
    assert!(phone.outbox().is_empty());
}

#[test]
fn acknowledge_keeps_only_retryable_rejections_in_order_at_the_front() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let edit = |phone: &mut Replica, note: &str| {
        phone.edit(
            Kind::Visit,
            VISIT,
            STREET,
            Some(HOUSE),
            vec![(FieldName::Note, json!(note))],
            T0,
        )
    };
    let pushed: Vec<Change> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|note| edit(&mut phone, note))
        .collect();
    let taken = phone.take_outbox();
    assert_eq!(taken, pushed);
    let later = edit(&mut phone, "f");
    let reject = |code| PushResult::rejected(json!(VISIT), &Rejection::new(code, "x"));
    let results = [
        PushResult::applied(json!(VISIT)),
        reject(RejectionCode::UnknownRecord),
        reject(RejectionCode::Validation),
        reject(RejectionCode::ClockSkew),
        PushResult::unchanged(json!(VISIT)),
    ];
    phone.acknowledge(&pushed, &results);
    assert_eq!(
        phone.outbox(),
        [pushed[1].clone(), pushed[3].clone(), later.clone()]
    );

    // Acknowledging without taking the outbox first works the same.
    let outbox = phone.outbox().to_vec();
    phone.acknowledge(
        &outbox,
        &[
            reject(RejectionCode::UnknownHousehold),
            PushResult::applied(json!(VISIT)),
            reject(RejectionCode::ForbiddenField),
        ],
    );
    assert_eq!(phone.outbox(), [pushed[1].clone()]);
}

#[test]
fn a_finally_rejected_edit_is_rolled_back_and_a_full_pull_restores_the_server_value() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 600_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    let note = |phone: &mut Replica, text: String| {
        phone.edit(
            Kind::Household,
            house,
            STREET,
            None,
            vec![(FieldName::Note, json!(text))],
            T0 + 1,
        )
    };
    note(&mut phone, "corner house".to_owned());
    sync_push(&mut phone, &mut server, LAN, Role::Volunteer);

    let too_long = note(&mut phone, "x".repeat(501));
    let batch = phone.take_outbox();
    let results: Vec<PushResult> = batch
        .iter()
        .map(|c| server.push(LAN, Role::Volunteer, c))
        .collect();
    assert_eq!(results[0].code, Some(RejectionCode::Validation));
    assert_eq!(phone.acknowledge(&batch, &results), vec![house]);
    assert_eq!(batch, [too_long]);
    assert!(phone.outbox().is_empty());
    let record = phone.record(house).unwrap();
    assert_eq!(record.state.note(), None, "the rejected note is forgotten");
    assert_eq!(record.state.house_number(), Some("12/5A"));

    sync_pull(&mut phone, &server, 0, T0 + 2);
    assert_eq!(
        phone.record(house).unwrap().state.note(),
        Some("corner house")
    );
}

#[test]
fn rolling_back_a_rejected_creation_forgets_the_record() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 600_000, &[STREET]);
    let elsewhere = uuid::Uuid::from_u128(404);
    let house = phone.add_household(elsewhere, "9", T0).unwrap();
    let results = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(results[0].code, Some(RejectionCode::UnknownStreet));
    assert!(phone.record(house).is_none());
}

#[test]
fn a_pulled_record_merges_field_by_field_and_keeps_newer_local_edits() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 600_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    let visit = phone.record_visit(STREET, house, new_visit(), T0 + 1);
    sync_push(&mut phone, &mut server, LAN, Role::Volunteer);

    let mut leader = Replica::new("phone-hoa", SKEW_MS).unwrap();
    sync_pull(&mut leader, &server, 0, T0 + 10);
    leader.edit(
        Kind::Visit,
        visit,
        STREET,
        Some(house),
        vec![
            (FieldName::Review, json!("verified")),
            (FieldName::Note, json!("leader")),
        ],
        T0 + 20,
    );
    sync_push(&mut leader, &mut server, HOA, Role::WardLeader);

    phone.edit(
        Kind::Visit,
        visit,
        STREET,
        Some(house),
        vec![(FieldName::Note, json!("lan"))],
        T0 + 30,
    );
    sync_pull(&mut phone, &server, 0, T0 + 40);
    let record = phone.record(visit).unwrap();
    assert_eq!(record.state.review(), Review::Verified);
    assert_eq!(
        record.state.note(),
        Some("lan"),
        "the newer local note survives the pull"
    );
    assert_eq!(record.volunteer_id, Some(LAN));
}

#[test]
fn pulling_raises_the_clock_above_every_pulled_hlc_even_beyond_the_drift() {
    let mut phone = Replica::new("phone-lan", 1_000).unwrap();
    let mut server = TestServer::new(T0 + 600_000, &[STREET]);
    let mut other = Replica::new("phone-minh", SKEW_MS).unwrap();
    other.add_household(STREET, "12/5A", T0 + 500_000).unwrap();
    sync_push(&mut other, &mut server, MINH, Role::Volunteer);
    sync_pull(&mut phone, &server, 0, T0);
    let next = phone.edit(
        Kind::Household,
        HOUSE,
        STREET,
        None,
        vec![(FieldName::Note, json!("x"))],
        T0,
    );
    let stamp = hlc(next.fields["note"]["hlc"].as_str().unwrap());
    assert!(
        stamp > hlc(&format!("{}-0000-phone-minh", T0 + 500_000)),
        "{stamp}"
    );
}

#[test]
fn observing_a_server_hlc_too_far_ahead_is_refused() {
    let mut phone = Replica::new("phone-lan", 1_000).unwrap();
    assert!(phone
        .observe(&hlc("0000000005000-0000-server"), 3_000)
        .is_err());
    assert!(phone
        .observe(&hlc("0000000004000-0000-server"), 3_000)
        .is_ok());
    assert_eq!(phone.device_id(), "phone-lan");
}

/// The worked example of `docs/sync-protocol.md`: Lan's phone and her ward leader Hoa's
/// phone edit one visit offline; every replica ends with the same fields.
#[test]
fn two_phones_editing_the_same_visit_offline_converge_field_by_field() {
    let mut server = TestServer::new(1_597_750_000_000, &[STREET]);
    let mut lan = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut hoa = Replica::new("phone-hoa", SKEW_MS).unwrap();

    // 09:20: Lan adds the house and logs a decline.
    let house = lan
        .add_household(STREET, "12/5A", 1_597_717_200_000)
        .unwrap();
    let visit = lan.edit(
        Kind::Visit,
        VISIT,
        STREET,
        Some(house),
        vec![
            (FieldName::Outcome, json!("declined")),
            (FieldName::VisitedAt, json!("2020-08-18T09:20:00+07:00")),
            (FieldName::SmartphoneUsers, json!(3)),
            (FieldName::AppUsers, json!(0)),
        ],
        1_597_717_200_000,
    );
    assert_eq!(
        visit.fields["outcome"]["hlc"],
        json!("1597717200000-0001-phone-lan")
    );
    sync_push(&mut lan, &mut server, LAN, Role::Volunteer);
    let cursor = sync_pull(&mut hoa, &server, 0, 1_597_717_300_000);

    // Offline. 10:10: Lan comes back, the family installs the app.
    let back = lan.edit(
        Kind::Visit,
        VISIT,
        STREET,
        Some(house),
        vec![
            (FieldName::Outcome, json!("installed_now")),
            (FieldName::AppUsers, json!(2)),
            (FieldName::Note, json!("came back after lunch")),
        ],
        1_597_720_200_000,
    );
    assert_eq!(
        back.fields["note"]["hlc"],
        json!("1597720200000-0000-phone-lan")
    );
    // 10:30: Hoa verifies the visit and rewrites the note.
    let review = hoa.edit(
        Kind::Visit,
        VISIT,
        STREET,
        Some(house),
        vec![
            (FieldName::Review, json!("verified")),
            (FieldName::Note, json!("installed on the second knock")),
        ],
        1_597_721_400_000,
    );
    assert_eq!(
        review.fields["note"]["hlc"],
        json!("1597721400000-0000-phone-hoa")
    );

    // Hoa syncs first, Lan last: arrival order does not matter.
    sync_push(&mut hoa, &mut server, HOA, Role::WardLeader);
    let results = sync_push(&mut lan, &mut server, LAN, Role::Volunteer);
    assert_eq!(
        results[0].status,
        sync_protocol::PushStatus::Applied,
        "outcome and app_users win"
    );
    sync_pull(&mut lan, &server, 0, 1_597_722_000_000);
    sync_pull(&mut hoa, &server, cursor, 1_597_722_000_000);

    let expected = json!({
        "outcome": {"value": "installed_now", "hlc": "1597720200000-0000-phone-lan"},
        "visited_at": {"value": "2020-08-18T09:20:00+07:00", "hlc": "1597717200000-0001-phone-lan"},
        "smartphone_users": {"value": 3, "hlc": "1597717200000-0001-phone-lan"},
        "app_users": {"value": 2, "hlc": "1597720200000-0000-phone-lan"},
        "note": {"value": "installed on the second knock", "hlc": "1597721400000-0000-phone-hoa"},
        "review": {"value": "verified", "hlc": "1597721400000-0000-phone-hoa"}
    });
    for state in [
        &server.records[&VISIT].state,
        &lan.record(VISIT).unwrap().state,
        &hoa.record(VISIT).unwrap().state,
    ] {
        assert_eq!(serde_json::to_value(state).unwrap(), expected);
    }
}
