//! The phone replica's final rejections: what depends on a refused creation goes with it,
//! what is rolled back, what waits.

use serde_json::json;
use sync_protocol::{FieldName, Kind, NewVisit, RejectionCode, Replica, Role};
use uuid::Uuid;

use crate::replica::{new_visit, statuses, sync_pull, sync_push, T0};
use crate::support::{TestServer, CAMPAIGN, HOUSE, LAN, SKEW_MS, STREET};

const HOA: Uuid = uuid::uuid!("3c6d2b1a-0f9e-4d8c-b7a6-5e4f3a2b1c0d");

#[test]
fn retryable_rejections_stay_in_the_outbox_in_their_order_until_they_go_through() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 60_000, &[STREET]);
    // A house another phone adds, and has not pushed yet.
    let house = sync_protocol::household_id(STREET, "5").unwrap();
    let visit = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    phone
        .edit(visit, vec![(FieldName::Note, json!("edit"))], T0)
        .unwrap();
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(
        statuses(&response),
        ["rejected:unknown_household", "rejected:unknown_record"]
    );
    assert_eq!((report.accepted, report.waiting), (0, 2));
    assert!(report.refused.is_empty());
    assert_eq!(phone.outbox().len(), 2);

    let mut minh = Replica::new("phone-minh", SKEW_MS).unwrap();
    minh.add_household(STREET, "5", T0).unwrap();
    sync_push(&mut minh, &mut server, Uuid::from_u128(9), Role::Volunteer);
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(statuses(&response), ["applied", "applied"]);
    assert_eq!(report.accepted, 2);
    assert!(phone.outbox().is_empty());
}

#[test]
fn a_refused_household_creation_drops_its_visits_and_their_edits_and_reports_them() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 60_000, &[STREET]);
    // 41 characters: the server refuses the creation for good.
    let house = phone.add_household(STREET, &"9".repeat(41), T0).unwrap();
    let visit = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    phone
        .edit(visit, vec![(FieldName::Note, json!("edit"))], T0)
        .unwrap();
    let kept = phone.add_household(STREET, "12/5A", T0).unwrap();
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    // Alone, the visit and its edit would wait for ever.
    assert_eq!(
        statuses(&response),
        [
            "rejected:validation",
            "rejected:unknown_household",
            "rejected:unknown_record",
            "applied"
        ]
    );
    assert_eq!(report.refused.len(), 2, "{:?}", report.refused);
    assert_eq!(report.refused[0].record_id, house);
    assert_eq!(report.refused[0].kind, Kind::Household);
    assert_eq!(report.refused[0].code, RejectionCode::Validation);
    assert_eq!(report.refused[0].because_of, None);
    assert!(
        report.refused[0].message.contains("house_number"),
        "{}",
        report.refused[0].message
    );
    assert_eq!(report.refused[1].record_id, visit);
    assert_eq!(report.refused[1].kind, Kind::Visit);
    assert_eq!(report.refused[1].code, RejectionCode::Validation);
    assert_eq!(report.refused[1].because_of, Some(house));
    assert_eq!((report.accepted, report.waiting), (1, 0));
    assert!(phone.outbox().is_empty());
    assert!(
        phone.record(house).is_none() && phone.record(visit).is_none(),
        "rolled back"
    );
    assert!(phone.record(kept).is_some());
}

#[test]
fn a_refused_visit_creation_drops_its_edits_but_not_the_household() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 60_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    server.visits_from_ms = Some(i64::try_from(T0).unwrap());
    let early = NewVisit {
        visited_at: "2020-08-17T09:20:00+07:00".to_owned(),
        ..new_visit()
    };
    let visit = phone
        .record_visit(CAMPAIGN, STREET, house, early, T0)
        .unwrap();
    phone
        .edit(visit, vec![(FieldName::Note, json!("edit"))], T0)
        .unwrap();
    let other = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0)
        .unwrap();
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(
        statuses(&response),
        ["rejected:validation", "rejected:unknown_record", "applied"]
    );
    assert_eq!(
        report.refused.len(),
        1,
        "the edit goes with its visit: {:?}",
        report.refused
    );
    assert_eq!(
        (report.refused[0].record_id, report.refused[0].code),
        (visit, RejectionCode::Validation)
    );
    assert_eq!(report.waiting, 0);
    assert!(phone.outbox().is_empty());
    assert!(phone.record(visit).is_none());
    assert!(phone.record(house).is_some() && phone.record(other).is_some());
}

#[test]
fn a_refused_edit_of_a_record_the_server_holds_is_rolled_back_and_pulled_again() {
    let mut phone = Replica::new("phone-lan", SKEW_MS).unwrap();
    let mut server = TestServer::new(T0 + 600_000, &[STREET]);
    let house = phone.add_household(STREET, "12/5A", T0).unwrap();
    phone
        .edit(
            house,
            vec![(FieldName::Note, json!("corner house"))],
            T0 + 1,
        )
        .unwrap();
    sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    sync_pull(&mut phone, &mut server, LAN);
    let cursor = phone.campaign(CAMPAIGN).unwrap().cursors[&STREET];
    assert!(cursor > 0);

    phone
        .edit(
            house,
            vec![(FieldName::Note, json!("x".repeat(501)))],
            T0 + 2,
        )
        .unwrap();
    let visit = phone
        .record_visit(CAMPAIGN, STREET, house, new_visit(), T0 + 3)
        .unwrap();
    let (response, report) = sync_push(&mut phone, &mut server, LAN, Role::Volunteer);
    assert_eq!(statuses(&response), ["rejected:validation", "applied"]);
    assert_eq!(
        report.refused.len(),
        1,
        "the household stays, so does its visit"
    );
    assert!(phone.outbox().is_empty());
    assert_eq!(
        phone.record(house).unwrap().state.note(),
        None,
        "the refused note is forgotten"
    );
    assert_eq!(
        phone.campaign(CAMPAIGN).unwrap().cursors[&STREET],
        0,
        "pulled again"
    );
    sync_pull(&mut phone, &mut server, LAN);
    assert_eq!(
        phone.record(house).unwrap().state.note(),
        Some("corner house")
    );
    assert!(phone.record(visit).unwrap().on_server);
}

#[test]
fn a_volunteer_deleting_a_household_it_did_not_create_is_told_and_rolled_back() {
    let mut server = TestServer::new(T0 + 600_000, &[STREET]);
    let mut hoa = Replica::new("phone-hoa", SKEW_MS).unwrap();
    hoa.add_household(STREET, "12/5A", T0).unwrap();
    sync_push(&mut hoa, &mut server, HOA, Role::Volunteer);
    let mut lan = Replica::new("phone-lan", SKEW_MS).unwrap();
    sync_pull(&mut lan, &mut server, LAN);
    assert_eq!(
        lan.record(HOUSE).unwrap().volunteer_id,
        None,
        "a pull does not show a household's creator"
    );
    lan.edit(HOUSE, vec![(FieldName::Deleted, json!(true))], T0 + 1)
        .unwrap();
    let (response, report) = sync_push(&mut lan, &mut server, LAN, Role::Volunteer);
    assert_eq!(statuses(&response), ["rejected:forbidden_field"]);
    assert_eq!(report.refused[0].code, RejectionCode::ForbiddenField);
    assert!(!lan.record(HOUSE).unwrap().state.deleted());
    // Hoa created it: Hoa may.
    hoa.edit(HOUSE, vec![(FieldName::Deleted, json!(true))], T0 + 2)
        .unwrap();
    let (response, _) = sync_push(&mut hoa, &mut server, HOA, Role::Volunteer);
    assert_eq!(statuses(&response), ["applied"]);
}
