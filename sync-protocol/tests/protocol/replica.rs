//! The phone replica against the test server: local edits, the safe push cycle, pulled
//! records.

use serde_json::json;
use sync_protocol::{
    AckError, EditError, FieldName, Kind, NewVisit, Outcome, PushResponse, PushResult, Replica,
    Review, Role, MAX_PUSH_BYTES, MAX_PUSH_CHANGES,
};
use uuid::Uuid;

use crate::support::{hlc, TestServer, CAMPAIGN, HOUSE, LAN, SKEW_MS, STREET};

/// 2020-08-18 09:20:00 +07:00.
pub const T0: u64 = 1_597_717_200_000;
const HOA: Uuid = uuid::uuid!("3c6d2b1a-0f9e-4d8c-b7a6-5e4f3a2b1c0d");

/// One push of `campaign` and its acknowledgement.
pub fn sync_push(
    replica: &mut Replica,
    server: &mut TestServer,
    user: Uuid,
    role: Role,
) -> (PushResponse, sync_protocol::PushReport) {
    let batch = replica.prepare_push(CAMPAIGN);
    let response = server.push_request(user, role, batch.request());
    let report = replica.acknowledge(&batch, &response).unwrap();
    (response, report)
}

/// Pulls [`CAMPAIGN`] until nothing more waits.
pub fn sync_pull(replica: &mut Replica, server: &mut TestServer, user: Uuid) {
    loop {
        let request = replica.pull_request(CAMPAIGN, Some(3));
        let response = server.pull_request(user, &request);
        if !replica.apply_pull(&request, &response).has_more {
            break;
        }
    }
}

pub fn new_visit() -> NewVisit {
    NewVisit {
        outcome: Outcome::Declined,
        visited_at: "2020-08-18T09:20:00+07:00".to_owned(),
        smartphone_users: Some(3),
        app_users: Some(0),
    }
}

pub fn statuses(response: &PushResponse) -> Vec<String> {
    response
        .results
        .iter()
        .map(|r| match r.code {
            Some(code) => format!("rejected:{code}"),
            None => serde_json::to_value(r.status)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
        })
        .collect()
}

#[test]
fn an_edit_stamps_every_field_with_one_hlc_applies_it_locally_and_queues_it() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    let change = phone
        .edit(
            house,
            vec![(FieldName::Note, json!("x")), (FieldName::Lat, json!(10.0))],
            T0,
        )
        .unwrap();
    let stamp = format!("{T0}-0001-phone-lan");
    assert_eq!(change.fields["note"]["hlc"], json!(stamp));
    assert_eq!(
        change.fields["lat"],
        json!({"value": 10, "hlc": stamp}),
        "numbers go canonical"
    );
    assert_eq!(phone.outbox().len(), 2);
    assert_eq!(phone.outbox()[1].change(), change);
    assert_eq!(
        phone.outbox()[1].campaign_id,
        None,
        "a household belongs to every campaign"
    );
    let record = phone.record(house).unwrap();
    assert_eq!(
        (record.kind, record.street_id, record.on_server),
        (Kind::Household, STREET, false)
    );
    assert_eq!(record.state.note(), Some("x"));
}

#[test]
fn editing_a_record_the_replica_does_not_hold_is_refused_and_writes_nothing() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let unknown = Uuid::from_u128(5);
    assert_eq!(
        phone.edit(unknown, vec![(FieldName::Note, json!("x"))], T0),
        Err(EditError::UnknownRecord(unknown))
    );
    assert!(phone.outbox().is_empty());
}

#[test]
fn adding_a_household_uses_its_deterministic_id_and_needs_a_letter_or_digit() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    assert_eq!(phone.add_household(STREET, " Số 12/5a ", T0), Ok(HOUSE));
    assert_eq!(
        phone.add_household(STREET, " số ", T0),
        Err(EditError::NoLetterOrDigit)
    );
    assert_eq!(
        phone.add_household(STREET, "\u{200b}-/", T0),
        Err(EditError::NoLetterOrDigit)
    );
    assert_eq!(phone.outbox().len(), 1);
    assert_eq!(
        phone.record(HOUSE).unwrap().state.house_number(),
        Some(" Số 12/5a ")
    );
}

#[test]
fn a_change_too_large_for_any_push_is_refused_at_the_edit() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let house = phone.add_household(STREET, "1", T0).unwrap();
    let huge = "x".repeat(MAX_PUSH_BYTES);
    assert!(matches!(
        phone.edit(house, vec![(FieldName::Note, json!(huge))], T0),
        Err(EditError::TooLarge(_))
    ));
    assert_eq!(phone.outbox().len(), 1);
}

#[test]
fn the_device_id_server_is_reserved() {
    assert!(Replica::new("server", SKEW_MS).is_err());
    assert!(Replica::new("phone server", SKEW_MS).is_err());
}

#[test]
fn recorded_visits_carry_their_campaign_get_distinct_ids_and_are_accepted() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 60_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    let first = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    let second = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(phone.outbox()[1].campaign_id, Some(CAMPAIGN));
    assert_eq!(phone.record(first).unwrap().campaign_id, Some(CAMPAIGN));
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(statuses(&response), ["applied", "applied", "applied"]);
    assert_eq!(report.accepted, 3);
    assert!(phone.outbox().is_empty());
    assert!(phone.record(first).unwrap().on_server);
}

#[test]
fn visit_ids_are_uuidv7_in_the_order_the_visits_were_recorded() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut ids = Vec::new();
    for (n, house) in ["9", "3", "12/5A", "1", "7B"].into_iter().enumerate() {
        let house = phone.add_household(STREET, house, T0).unwrap();
        let at = T0 + 1_000 * n as u64;
        let id = phone
            .record_visit(CAMPAIGN, STREET, house, new_visit(), at)
            .unwrap();
        assert_eq!(id.get_version_num(), 7, "{id}");
        let (seconds, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(seconds * 1_000 + u64::from(nanos) / 1_000_000, at);
        ids.push(id);
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ids sort in the order of their visits");
}

#[test]
fn a_visit_may_carry_an_id_the_app_chose_but_not_one_the_replica_holds() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    let chosen = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    let id = phone
        .record_visit_with_id(chosen, CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    assert_eq!(id, chosen);
    assert_eq!(phone.record(chosen).unwrap().campaign_id, Some(CAMPAIGN));
    let queued = phone.outbox().len();
    for taken in [chosen, house] {
        let again = phone.record_visit_with_id(taken, CAMPAIGN, STREET, house, new_visit(), T0);
        assert!(matches!(again, Err(EditError::IdTaken(t)) if t == taken));
    }
    assert_eq!(
        phone.outbox().len(),
        queued,
        "a refused visit queues nothing"
    );
}

#[test]
fn preparing_a_push_takes_nothing_and_a_lost_answer_loses_nothing() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 60_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    let batch = phone.prepare_push(CAMPAIGN);
    assert_eq!(batch.len(), 2);
    assert_eq!(phone.outbox().len(), 2);
    // The server applies the push, and the answer is lost on the way back; the app dies.
    let _lost = server.push_request(LAN, Role::Volunteer, batch.request());
    let mut phone = Replica::restore(&phone.save().unwrap()).unwrap();
    // Pushed again: nothing is lost, and resending is harmless.
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(statuses(&response), ["unchanged", "unchanged"]);
    assert_eq!(report.accepted, 2);
    assert!(phone.outbox().is_empty());
}

#[test]
fn an_edit_made_while_a_push_is_on_its_way_stays_in_the_outbox() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 60_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    let batch = phone.prepare_push(CAMPAIGN);
    phone
        .edit(house, vec![(FieldName::Note, json!("later"))], T0 + 1)
        .unwrap();
    let response = server.push_request(LAN, Role::Volunteer, batch.request());
    phone.acknowledge(&batch, &response).unwrap();
    assert_eq!(phone.outbox().len(), 1);
    assert_eq!(
        phone.outbox()[0].fields[&FieldName::Note].value,
        json!("later")
    );
}

#[test]
fn an_answer_that_does_not_fit_its_batch_changes_nothing() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    phone
        .edit(house, vec![(FieldName::Note, json!("n"))], T0)
        .unwrap();
    let batch = phone.prepare_push(CAMPAIGN);
    let before = phone.clone();
    let server_hlc = hlc(&format!("{T0}-0000-server"));
    let short = PushResponse {
        results: vec![PushResult::applied(json!(house))],
        server_hlc: server_hlc.clone(),
    };
    assert_eq!(
        phone.acknowledge(&batch, &short),
        Err(AckError::ResultCount {
            sent: 2,
            results: 1
        })
    );
    let wrong_id = PushResponse {
        results: vec![
            PushResult::applied(json!(house)),
            PushResult::applied(json!(Uuid::nil())),
        ],
        server_hlc,
    };
    assert_eq!(
        phone.acknowledge(&batch, &wrong_id),
        Err(AckError::Mismatch { index: 1 })
    );
    assert_eq!(phone, before);
}

#[test]
fn a_push_carries_at_most_a_thousand_changes() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let house = phone.add_household(STREET, "1", T0).unwrap();
    for i in 0..MAX_PUSH_CHANGES {
        phone
            .edit(house, vec![(FieldName::Note, json!(i))], T0)
            .unwrap();
    }
    let batch = phone.prepare_push(CAMPAIGN);
    assert_eq!(batch.len(), MAX_PUSH_CHANGES);
    assert_eq!(
        batch.pending(),
        &phone.outbox()[..MAX_PUSH_CHANGES],
        "the oldest first"
    );
}

#[test]
fn a_push_body_stays_within_two_mebibytes() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let house = phone.add_household(STREET, "1", T0).unwrap();
    // 500 four-byte characters: about 2.1 kB per change, so 1000 changes pass 2 MiB.
    let note = "\u{1d11e}".repeat(500);
    for _ in 0..MAX_PUSH_CHANGES {
        phone
            .edit(house, vec![(FieldName::Note, json!(note))], T0)
            .unwrap();
    }
    let batch = phone.prepare_push(CAMPAIGN);
    let body = serde_json::to_vec(batch.request()).unwrap();
    assert!(body.len() <= MAX_PUSH_BYTES, "{} bytes", body.len());
    assert!(batch.len() < MAX_PUSH_CHANGES);
    let next = serde_json::to_vec(&phone.outbox()[batch.len()].change()).unwrap();
    assert!(
        body.len() + 1 + next.len() > MAX_PUSH_BYTES,
        "one more would not fit"
    );
}

#[test]
fn a_pulled_record_merges_field_by_field_and_keeps_newer_local_edits() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 600_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    let visit = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0 + 1)
        .unwrap();
    sync_push(&mut phone, &mut server, LAN, Role::Volunteer);

    let mut leader = Replica::new("phone-hoa", SKEW_MS).unwrap();
    sync_pull(&mut leader, &mut server, HOA);
    leader
        .edit(
            visit,
            vec![
                (FieldName::Review, json!("verified")),
                (FieldName::Note, json!("leader")),
            ],
            T0 + 700_000,
        )
        .unwrap();
    sync_push(&mut leader, &mut server, HOA, Role::WardLeader);

    phone
        .edit(visit, vec![(FieldName::Note, json!("lan"))], T0 + 800_000)
        .unwrap();
    sync_pull(&mut phone, &mut server, LAN);
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
    sync_push(&mut other, &mut server, Uuid::from_u128(9), Role::Volunteer);
    sync_pull(&mut phone, &mut server, LAN);
    let next = phone
        .edit(HOUSE, vec![(FieldName::Note, json!("x"))], T0)
        .unwrap();
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
