//! Several `canvass serve` processes over one PostgreSQL database hold the contract as if
//! they were one server (contract §1, §12 "Several processes").

use serde_json::json;

use crate::common::{spawn_app, Backend, Server, World};
use crate::support::*;

#[test]
fn a_review_is_above_every_hlc_another_process_stored_on_the_visit() {
    let Some(mut app) = spawn_app(Backend::Postgres) else {
        return;
    };
    let world = World::build(&app);
    let first = app.base.clone();
    let second = Server::start(&app.db, &[]);

    let mut clock = Ticker::new("phone-lan");
    let house = house_id(&world.street1, "7");
    let v = new_id();
    let seeded = push(
        &app,
        &world.volunteer1.1,
        &world.campaign,
        "phone-lan",
        &[
            household(
                &house,
                &world.street1,
                &[("house_number", json!("7"))],
                &clock.next(),
            ),
            visit(
                &v,
                &world.street1,
                &house,
                &knock("installed_now", "2026-11-28T09:30:00+07:00", 2, 1),
                &clock.next(),
            ),
        ],
    );
    assert_eq!(seeded, ["applied", "applied"]);

    // Through the second process: an edit from a phone whose clock runs four minutes
    // ahead (within the five the contract tolerates). The first process never sees it.
    app.base = second.base.clone();
    let ahead = hlc(now_ms() + 4 * 60_000, 0, "phone-lan");
    let edited = push(
        &app,
        &world.volunteer1.1,
        &world.campaign,
        "phone-lan",
        &[visit(
            &v,
            &world.street1,
            &house,
            &[("note", json!("hẹn quay lại"))],
            &ahead,
        )],
    );
    assert_eq!(edited, ["applied"]);

    // The review through the first process is stamped above it.
    app.base = first;
    let reviewed = app
        .post(
            &format!("/api/v1/campaigns/{}/visits/{v}/review", world.campaign),
            &world.leader1.1,
            &json!({"review": "verified"}),
        )
        .expect(200);
    assert_eq!(reviewed.body["review"], "verified");

    let pulled = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100);
    let fields = &pulled.records[&v]["fields"];
    let review: sync_protocol::Hlc = fields["review"]["hlc"].as_str().unwrap().parse().unwrap();
    for (name, stamped) in fields.as_object().unwrap() {
        if name == "review" {
            continue;
        }
        let other: sync_protocol::Hlc = stamped["hlc"].as_str().unwrap().parse().unwrap();
        assert!(
            review > other,
            "the review's HLC {review} is not above {name}'s {other}"
        );
    }
}
