//! Visits for the dashboard to show, pushed through the real sync endpoint.
#![allow(dead_code)]

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::{house_id, household, knock, new_id, push, visit, Ticker};

/// One knock: the street, the house number, the outcome, phones, app users, when.
pub type Knock<'a> = (&'a str, &'a str, &'a str, u32, u32, &'a str);

/// Pushes each knock as a new household and visit; returns the visit ids in order.
pub fn knock_all(
    app: &TestApp,
    token: &str,
    campaign: &str,
    device: &str,
    knocks: &[Knock<'_>],
) -> Vec<String> {
    let mut ticker = Ticker::new(device);
    let mut changes: Vec<Value> = Vec::new();
    let mut ids = Vec::new();
    for (street, number, outcome, phones, apps, at) in knocks {
        let house = house_id(street, number);
        changes.push(household(
            &house,
            street,
            &[("house_number", json!(number))],
            &ticker.next(),
        ));
        let id = new_id();
        changes.push(visit(
            &id,
            street,
            &house,
            &knock(outcome, at, *phones, *apps),
            &ticker.next(),
        ));
        ids.push(id);
    }
    let statuses = push(app, token, campaign, device, &changes);
    assert!(statuses.iter().all(|s| s == "applied"), "{statuses:?}");
    ids
}

/// Three visits on street 1 of ward 1 by volunteer 1: 2 of 2, 1 of 3, 0 of 2.
pub fn ward1_visits(app: &TestApp, world: &World) -> Vec<String> {
    knock_all(
        app,
        &world.volunteer1.1,
        &world.campaign,
        "phone-lan",
        &[
            (
                &world.street1,
                "12",
                "installed_now",
                2,
                2,
                "2020-08-17T09:00:00+07:00",
            ),
            (
                &world.street1,
                "14",
                "already_installed",
                3,
                1,
                "2020-08-18T10:00:00+07:00",
            ),
            (
                &world.street1,
                "16",
                "declined",
                2,
                0,
                "2020-08-19T11:00:00+07:00",
            ),
        ],
    )
}
