//! The phone replica across restarts, campaigns and a clock that ran ahead.

use std::collections::BTreeMap;

use serde_json::json;
use sync_protocol::{
    Bucket, FieldName, Hlc, PullResponse, PushStatus, Replica, Role, RESTAMP_MARGIN_MS,
};
use uuid::Uuid;

use crate::replica::{new_visit, sync_pull, sync_push, T0};
use crate::support::{TestServer, CAMPAIGN, LAN, MINH, OTHER_STREET, SKEW_MS, STREET};

const OTHER_CAMPAIGN: Uuid = uuid::uuid!("2b7e1a3c-5d4f-4e6a-8b9c-0d1e2f3a4b5c");
const HOUR: u64 = 3_600_000;

/// A replica with something of everything: pulled and local records, an outbox, cursors
/// and buckets of two campaigns, a clock that has seen the server.
fn busy_replica(server: &mut TestServer) -> Replica {
    let mut minh = Replica::new("phone-minh", SKEW_MS).unwrap();
    let house = minh.add_household(STREET, "12/5A", T0).unwrap();
    minh.record_visit(CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    sync_push(&mut minh, server, MINH, Role::Volunteer);

    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    sync_pull(&mut phone, server, LAN);
    let request = phone.pull_request(OTHER_CAMPAIGN, None);
    let response = server.pull_request(LAN, &request);
    phone.apply_pull(&request, &response);
    let mine = phone.add_household(OTHER_STREET, "7", T0 + 5).unwrap();
    phone
        .record_visit(OTHER_CAMPAIGN, OTHER_STREET, mine, new_visit(), T0 + 6)
        .unwrap();
    phone
        .edit(
            house,
            vec![
                (FieldName::Lat, json!(10.5)),
                (FieldName::Note, json!("cổng xanh")),
            ],
            T0 + 7,
        )
        .unwrap();
    phone
}

#[test]
fn a_saved_replica_restores_equal_and_carries_on_where_it_was() {
    let mut server = TestServer::new(T0 + 60_000, &[STREET, OTHER_STREET]);
    let phone = busy_replica(&mut server);
    assert_eq!(phone.outbox().len(), 3);
    assert_eq!(phone.campaign(CAMPAIGN).unwrap().cursors.len(), 2);
    assert!(phone.records().count() >= 4);

    let saved = phone.save().unwrap();
    let mut restored = Replica::restore(&saved).unwrap();
    assert_eq!(restored, phone);
    assert_eq!(restored.save().unwrap(), saved, "the saved form is stable");
    // It carries on: the next stamp is above everything before the restart.
    let last = phone.clock().last();
    let change = restored
        .edit(
            phone.outbox()[0].id,
            vec![(FieldName::Note, json!(null))],
            T0,
        )
        .unwrap();
    let stamp: Hlc = change.fields["note"]["hlc"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(stamp > last);
    // And its pushes are the ones it would have made.
    assert_eq!(
        Replica::restore(&saved).unwrap().prepare_push(CAMPAIGN),
        phone.prepare_push(CAMPAIGN)
    );
}

#[test]
fn the_saved_form_is_versioned_json_with_every_part_named() {
    let mut server = TestServer::new(T0 + 60_000, &[STREET, OTHER_STREET]);
    let saved: serde_json::Value =
        serde_json::from_str(&busy_replica(&mut server).save().unwrap()).unwrap();
    assert_eq!(saved["format"], "canvass-replica");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["device_id"], "phone-lan");
    assert_eq!(saved["max_drift_ms"], SKEW_MS);
    for key in [
        "clock",
        "settled",
        "next_entry",
        "records",
        "outbox",
        "campaigns",
    ] {
        assert!(saved.get(key).is_some(), "{key} missing");
    }
    let entry = &saved["outbox"][1];
    assert_eq!(entry["campaign_id"], json!(OTHER_CAMPAIGN));
    assert_eq!(entry["kind"], "visit");
    let record = &saved["records"][STREET.to_string().as_str()];
    assert!(
        record.is_null(),
        "records are keyed by record id, not street"
    );
    let cursors = &saved["campaigns"][CAMPAIGN.to_string()]["cursors"];
    assert!(cursors[STREET.to_string()].as_i64().unwrap() > 0);
}

#[test]
fn a_saved_form_that_does_not_hold_together_is_refused() {
    let mut server = TestServer::new(T0 + 60_000, &[STREET, OTHER_STREET]);
    let saved: serde_json::Value =
        serde_json::from_str(&busy_replica(&mut server).save().unwrap()).unwrap();
    let broken = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut copy = saved.clone();
        edit(&mut copy);
        Replica::restore(&copy.to_string())
    };
    assert!(broken(&|s| s["format"] = json!("something-else")).is_err());
    assert!(broken(&|s| s["version"] = json!(2)).is_err());
    assert!(broken(&|s| s["device_id"] = json!("server")).is_err());
    assert!(broken(&|s| s["clock"] = json!("1597717200000-0000-phone-minh")).is_err());
    assert!(broken(&|s| s["next_entry"] = json!(0)).is_err());
    assert!(broken(&|s| s["outbox"].as_array_mut().unwrap().reverse()).is_err());
    assert!(Replica::restore("{").is_err());
    assert!(broken(&|_| ()).is_ok());
}

#[test]
fn each_campaign_keeps_its_own_cursors_so_no_visit_is_skipped() {
    let mut server = TestServer::new(T0 + 60_000, &[STREET]);
    let mut minh = Replica::new("phone-minh", SKEW_MS).unwrap();
    let house = minh.add_household(STREET, "12/5A", T0).unwrap();
    // A visit of the other campaign, then more of this one after it on the same street.
    let theirs = minh
        .record_visit(OTHER_CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    let batch = minh.prepare_push(OTHER_CAMPAIGN);
    let response = server.push_request(MINH, Role::Volunteer, batch.request());
    minh.acknowledge(&batch, &response).unwrap();
    let ours = minh
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0 + 1)
        .unwrap();
    sync_push(&mut minh, &mut server, MINH, Role::Volunteer);

    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    sync_pull(&mut phone, &mut server, LAN);
    assert!(phone.record(ours).is_some());
    assert!(
        phone.record(theirs).is_none(),
        "a pull brings only its campaign's visits"
    );
    let request = phone.pull_request(OTHER_CAMPAIGN, None);
    assert!(
        request.cursors.is_empty(),
        "the other campaign starts from 0"
    );
    let response = server.pull_request(LAN, &request);
    phone.apply_pull(&request, &response);
    let record = phone.record(theirs).expect("not skipped");
    assert_eq!(record.campaign_id, Some(OTHER_CAMPAIGN));
    assert_eq!(phone.record(ours).unwrap().campaign_id, Some(CAMPAIGN));
}

#[test]
fn a_dropped_street_loses_its_cursor_and_is_reported() {
    let mut server = TestServer::new(T0 + 60_000, &[STREET, OTHER_STREET]);
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    phone.add_household(OTHER_STREET, "7", T0).unwrap();
    sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    sync_pull(&mut phone, &mut server, LAN);
    assert!(phone
        .campaign(CAMPAIGN)
        .unwrap()
        .cursors
        .contains_key(&OTHER_STREET));
    server.denied.insert((LAN, OTHER_STREET));
    let request = phone.pull_request(CAMPAIGN, None);
    let response = server.pull_request(LAN, &request);
    let report = phone.apply_pull(&request, &response);
    assert_eq!(report.dropped, [OTHER_STREET]);
    let sync = phone.campaign(CAMPAIGN).unwrap();
    assert_eq!(sync.cursors.keys().collect::<Vec<_>>(), [&STREET]);
    let buckets: Vec<Uuid> = sync
        .buckets
        .as_ref()
        .unwrap()
        .iter()
        .map(|b| b.street_id)
        .collect();
    assert_eq!(buckets, [STREET]);
}

#[test]
fn a_household_change_goes_with_a_campaign_whose_buckets_hold_its_street() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let answer = |street: Uuid| PullResponse {
        buckets: vec![Bucket {
            street_id: street,
            ward_id: Uuid::nil(),
            code: "c".into(),
            name: "n".into(),
        }],
        dropped: vec![],
        changes: vec![],
        cursors: BTreeMap::from([(street, 0)]),
        has_more: false,
        remaining: 0,
        server_hlc: format!("{T0}-0000-server").parse().unwrap(),
    };
    for (campaign, street) in [(CAMPAIGN, STREET), (OTHER_CAMPAIGN, OTHER_STREET)] {
        let request = phone.pull_request(campaign, None);
        phone.apply_pull(&request, &answer(street));
    }
    let here = phone.add_household(STREET, "1", T0).unwrap();
    let nowhere = phone.add_household(Uuid::from_u128(3), "2", T0).unwrap();
    let ids = |campaign| -> Vec<Uuid> {
        phone
            .prepare_push(campaign)
            .pending()
            .iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(ids(CAMPAIGN), [here, nowhere]);
    assert_eq!(
        ids(OTHER_CAMPAIGN),
        [nowhere],
        "no campaign lists that street: any may carry it"
    );
    assert_eq!(
        ids(Uuid::from_u128(9)),
        [here, nowhere],
        "a campaign never pulled carries all"
    );
}

#[test]
fn a_clock_that_ran_ahead_is_stamped_again_against_the_server_clock() {
    let now = T0;
    let mut server = TestServer::new(now, &[STREET]);
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    // Four minutes ahead: accepted.
    let house = phone.add_household(STREET, "12/5A", now + 240_000).unwrap();
    let (response, _) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(response.results[0].status, PushStatus::Applied);
    let accepted = phone
        .record(house)
        .unwrap()
        .state
        .get(FieldName::HouseNumber)
        .unwrap()
        .clone();

    // Then three hours ahead: refused.
    phone
        .edit(
            house,
            vec![(FieldName::Note, json!("cổng xanh"))],
            now + 3 * HOUR,
        )
        .unwrap();
    let visit = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), now + 3 * HOUR + 1)
        .unwrap();
    let far = phone.outbox()[1].hlc().unwrap().clone();
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert!(response
        .results
        .iter()
        .all(|r| r.code == Some(sync_protocol::RejectionCode::ClockSkew)));
    assert_eq!((report.waiting, report.restamped), (2, 2));
    assert!(report.refused.is_empty());

    // The outbox and the local state hold the new stamps, in the order written, above
    // everything kept and within the server's reach.
    let stamps: Vec<Hlc> = phone
        .outbox()
        .iter()
        .map(|p| p.hlc().unwrap().clone())
        .collect();
    assert!(stamps[0] < stamps[1] && stamps[1] < far);
    assert!(stamps[0] > accepted.hlc, "above what the server accepted");
    assert!(stamps[1].ms() <= response.server_hlc.ms() + SKEW_MS);
    let record = phone.record(house).unwrap();
    assert_eq!(record.state.get(FieldName::Note).unwrap().hlc, stamps[0]);
    assert_eq!(
        record.state.get(FieldName::HouseNumber),
        Some(&accepted),
        "not stamped again"
    );
    assert_eq!(
        phone
            .record(visit)
            .unwrap()
            .state
            .get(FieldName::Outcome)
            .unwrap()
            .hlc,
        stamps[1]
    );
    assert!(
        phone.clock().last().ms() < now + HOUR,
        "the clock went back"
    );

    // The phone's clock is right again: a later edit wins over the re-stamped one and
    // over the value the server accepted four minutes ahead.
    phone
        .edit(
            house,
            vec![
                (FieldName::Note, json!("cổng đỏ")),
                (FieldName::HouseNumber, json!("12/5 A")),
            ],
            now + 1_000,
        )
        .unwrap();
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert!(
        response
            .results
            .iter()
            .all(|r| r.status == PushStatus::Applied),
        "{response:?}"
    );
    assert_eq!(report.restamped, 0);
    let stored = server.records[&house].state.clone();
    assert_eq!(stored.note(), Some("cổng đỏ"));
    assert_eq!(stored.house_number(), Some("12/5 A"));
    sync_pull(&mut phone, &mut server, LAN);
    assert_eq!(phone.record(house).unwrap().state, stored);
}

#[test]
fn a_change_just_past_the_skew_limit_is_sent_again_as_it_is() {
    let mut server = TestServer::new(T0, &[STREET]);
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    phone
        .add_household(STREET, "12/5A", T0 + SKEW_MS + RESTAMP_MARGIN_MS / 2)
        .unwrap();
    let before = phone.outbox().to_vec();
    let (_, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!((report.waiting, report.restamped), (1, 0));
    assert_eq!(phone.outbox(), before.as_slice());
    server.now_ms += RESTAMP_MARGIN_MS;
    let (response, _) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(response.results[0].status, PushStatus::Applied);
}

#[test]
fn a_clock_ahead_is_also_set_back_by_a_pull_answer() {
    let mut server = TestServer::new(T0, &[STREET]);
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    phone.add_household(STREET, "12/5A", T0 + 5 * HOUR).unwrap();
    let request = phone.pull_request(CAMPAIGN, None);
    let response = server.pull_request(LAN, &request);
    assert_eq!(phone.apply_pull(&request, &response).restamped, 1);
    let (response, _) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(response.results[0].status, PushStatus::Applied);
}

/// The worked example of `docs/sync-protocol.md`: Lan's phone and her ward leader Hoa's
/// phone edit one visit offline; every replica ends with the same fields.
#[test]
fn two_phones_editing_the_same_visit_offline_converge_field_by_field() {
    let hoa_id = uuid::uuid!("3c6d2b1a-0f9e-4d8c-b7a6-5e4f3a2b1c0d");
    // The server's clock moves with the story: 09:21 for the first push.
    let mut server = TestServer::new(1_597_717_260_000, &[STREET]);
    let mut lan = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut hoa = Replica::new("phone-hoa", SKEW_MS).unwrap();

    // 09:20: Lan adds the house and logs a decline.
    let house = lan
        .add_household(STREET, "12/5A", 1_597_717_200_000)
        .unwrap();
    let visit = lan
        .record_visit(CAMPAIGN, STREET, house, new_visit(), 1_597_717_200_000)
        .unwrap();
    assert_eq!(
        lan.outbox()[1].hlc().unwrap().to_string(),
        "1597717200000-0001-phone-lan"
    );
    // A UUIDv7 with the HLC's time whose other bits are the UUIDv5 of the house id and
    // the HLC with its outbox entry (bytes 9 to 15 carry neither version nor variant).
    let hashed = Uuid::new_v5(&house, b"1597717200000-0001-phone-lan/1");
    assert_eq!(visit.get_version_num(), 7);
    assert_eq!(
        visit.get_timestamp().unwrap().to_unix(),
        (1_597_717_200, 0),
        "the visit id carries its HLC's time"
    );
    assert_eq!(
        visit.as_bytes()[9..],
        hashed.as_bytes()[9..],
        "the visit id derives from its HLC and its outbox entry"
    );
    sync_push(&mut lan, &mut server, LAN, Role::Volunteer);
    sync_pull(&mut hoa, &mut server, hoa_id);

    // Offline. 10:10: Lan comes back, the family installs the app.
    let back = lan
        .edit(
            visit,
            vec![
                (FieldName::Outcome, json!("installed_now")),
                (FieldName::AppUsers, json!(2)),
                (FieldName::Note, json!("came back after lunch")),
            ],
            1_597_720_200_000,
        )
        .unwrap();
    assert_eq!(
        back.fields["note"]["hlc"],
        json!("1597720200000-0000-phone-lan")
    );
    // 10:30: Hoa verifies the visit and rewrites the note.
    let review = hoa
        .edit(
            visit,
            vec![
                (FieldName::Review, json!("verified")),
                (FieldName::Note, json!("installed on the second knock")),
            ],
            1_597_721_400_000,
        )
        .unwrap();
    assert_eq!(
        review.fields["note"]["hlc"],
        json!("1597721400000-0000-phone-hoa")
    );

    // 10:31: Hoa syncs first, Lan last: arrival order does not matter.
    server.now_ms = 1_597_721_460_000;
    sync_push(&mut hoa, &mut server, hoa_id, Role::WardLeader);
    let (response, _) = sync_push(&mut lan, &mut server, LAN, Role::Volunteer);
    assert_eq!(
        response.results[0].status,
        PushStatus::Applied,
        "outcome and app_users win"
    );
    sync_pull(&mut lan, &mut server, LAN);
    sync_pull(&mut hoa, &mut server, hoa_id);

    let expected = json!({
        "outcome": {"value": "installed_now", "hlc": "1597720200000-0000-phone-lan"},
        "visited_at": {"value": "2020-08-18T09:20:00+07:00", "hlc": "1597717200000-0001-phone-lan"},
        "smartphone_users": {"value": 3, "hlc": "1597717200000-0001-phone-lan"},
        "app_users": {"value": 2, "hlc": "1597720200000-0000-phone-lan"},
        "note": {"value": "installed on the second knock", "hlc": "1597721400000-0000-phone-hoa"},
        "review": {"value": "verified", "hlc": "1597721400000-0000-phone-hoa"}
    });
    for state in [
        &server.records[&visit].state,
        &lan.record(visit).unwrap().state,
        &hoa.record(visit).unwrap().state,
    ] {
        assert_eq!(serde_json::to_value(state).unwrap(), expected);
    }
}

#[test]
fn a_visit_recorded_after_the_clock_was_set_back_never_takes_a_dropped_visits_id() {
    let mut server = TestServer::new(T0, &[STREET]);
    server.visits_from_ms = Some(i64::try_from(T0).unwrap());
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let ahead = T0 + 2 * HOUR;
    let house = phone.add_household(STREET, "12/5A", ahead).unwrap();
    let early = sync_protocol::NewVisit {
        visited_at: "2020-08-17T09:00:00+07:00".to_owned(),
        ..new_visit()
    };
    let dropped = phone
        .record_visit(CAMPAIGN, STREET, house, early, ahead + 1)
        .unwrap();
    let (_, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(report.restamped, 2);
    let (_, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(report.refused[0].record_id, dropped);
    // The wall clock is still ahead: the clock gives the same HLC as before again.
    let again = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), ahead + 1)
        .unwrap();
    assert_ne!(again, dropped);
}
