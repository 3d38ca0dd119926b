//! The visit list (contract §8, §12): filters, order, pages, scopes and `conflict`.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

struct Seeded {
    /// (visit id, street, volunteer id, visited_at, outcome)
    visits: Vec<(String, String, String, String, String)>,
}

/// Visits by several people on every street; two share one instant written two ways.
fn seed(app: &TestApp, world: &World) -> Seeded {
    let mut seeded = Seeded { visits: Vec::new() };
    let mut put = |token: &str,
                   user: &str,
                   device: &str,
                   street: &str,
                   number: &str,
                   outcome: &str,
                   at: &str| {
        let house = house_id(street, number);
        let v = new_id();
        let mut clock = Ticker::new(device);
        let mut fields = knock(outcome, at, 2, 1);
        if outcome == "not_home" {
            fields.truncate(2);
        }
        let changes = [
            household(
                &house,
                street,
                &[("house_number", json!(number))],
                &clock.next(),
            ),
            visit(&v, street, &house, &fields, &clock.next()),
        ];
        let results = push(app, token, &world.campaign, device, &changes);
        assert_eq!(results[1], "applied", "{results:?}");
        seeded.visits.push((
            v,
            street.to_owned(),
            user.to_owned(),
            at.to_owned(),
            outcome.to_owned(),
        ));
    };
    let (v1, v2, v3) = (&world.volunteer1, &world.volunteer2, &world.volunteer3);
    put(
        &v1.1,
        &v1.0,
        "phone-lan",
        &world.street1,
        "1",
        "installed_now",
        "2026-11-20T09:00:00+07:00",
    );
    put(
        &v1.1,
        &v1.0,
        "phone-lan",
        &world.street1,
        "2",
        "declined",
        "2026-11-21T09:00:00+07:00",
    );
    put(
        &v1.1,
        &v1.0,
        "phone-lan",
        &world.street1,
        "3",
        "not_home",
        "2026-11-22T09:00:00+07:00",
    );
    put(
        &v2.1,
        &v2.0,
        "phone-minh",
        &world.street1,
        "4",
        "declined",
        "2026-11-22T02:00:00Z",
    );
    put(
        &v2.1,
        &v2.0,
        "phone-minh",
        &world.street1,
        "5",
        "already_installed",
        "2026-11-19T09:00:00+07:00",
    );
    put(
        &world.leader1.1,
        &world.leader1.0,
        "phone-hoa",
        &world.street2,
        "1",
        "installed_now",
        "2026-11-23T09:00:00+07:00",
    );
    put(
        &v3.1,
        &v3.0,
        "phone-3",
        &world.street3,
        "1",
        "declined",
        "2026-11-24T09:00:00+07:00",
    );
    put(
        &world.admin,
        "",
        "admin-pc",
        &world.street4,
        "1",
        "declined",
        "2026-11-25T09:00:00+07:00",
    );
    seeded
}

fn instant(at: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .timestamp_micros()
}

/// Ids of `seeded` visits that `keep`, newest first, ties by the larger id first.
fn expected(
    seeded: &Seeded,
    keep: impl Fn(&(String, String, String, String, String)) -> bool,
) -> Vec<String> {
    let mut chosen: Vec<&(String, String, String, String, String)> =
        seeded.visits.iter().filter(|v| keep(v)).collect();
    chosen.sort_by(|a, b| (instant(&b.3), &b.0).cmp(&(instant(&a.3), &a.0)));
    chosen.into_iter().map(|v| v.0.clone()).collect()
}

fn filters_order_and_pages(app: TestApp) {
    let world = World::build(&app);
    let seeded = seed(&app, &world);
    let c = &world.campaign;
    let all = visits(&app, &world.admin, c, "");
    assert_eq!(ids(&all), expected(&seeded, |_| true));
    assert_eq!(all["next_page_token"], Value::Null);
    let first = &all["items"].as_array().unwrap()[0];
    let keys: BTreeSet<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let want: BTreeSet<&str> = [
        "id",
        "street_id",
        "household_id",
        "house_number",
        "volunteer_id",
        "outcome",
        "smartphone_users",
        "app_users",
        "visited_at",
        "note",
        "review",
        "review_note",
        "deleted",
        "conflict",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, want);
    let nh = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["outcome"] == "not_home")
        .unwrap();
    // Contract v1.1 §8: counts never written are null in a Visit (v1 showed 0).
    assert_eq!(
        (nh["smartphone_users"].clone(), nh["app_users"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(nh["house_number"], "3");
    assert_eq!(nh["visited_at"], "2026-11-22T09:00:00+07:00");

    let w1 = [world.street1.clone(), world.street2.clone()];
    assert_eq!(
        ids(&visits(
            &app,
            &world.admin,
            c,
            &format!("ward_id={}", world.ward1)
        )),
        expected(&seeded, |v| w1.contains(&v.1))
    );
    assert_eq!(
        ids(&visits(
            &app,
            &world.admin,
            c,
            &format!("ward_id={}", world.district1)
        ))
        .len(),
        7,
        "a district filters its wards"
    );
    assert_eq!(
        ids(&visits(
            &app,
            &world.admin,
            c,
            &format!("street_id={}", world.street2)
        )),
        expected(&seeded, |v| v.1 == world.street2)
    );
    assert_eq!(
        ids(&visits(
            &app,
            &world.admin,
            c,
            &format!("volunteer_id={}", world.volunteer2.0)
        )),
        expected(&seeded, |v| v.2 == world.volunteer2.0)
    );
    assert_eq!(
        ids(&visits(&app, &world.admin, c, "outcome=declined")),
        expected(&seeded, |v| v.4 == "declined")
    );
    assert_eq!(
        ids(&visits(
            &app,
            &world.admin,
            c,
            &format!("outcome=declined&street_id={}", world.street1)
        )),
        expected(&seeded, |v| v.4 == "declined" && v.1 == world.street1)
    );

    // review=pending matches visits never reviewed.
    let reviewed = &seeded.visits[0].0;
    app.post(
        &format!("/api/v1/campaigns/{c}/visits/{reviewed}/review"),
        &world.admin,
        &json!({"review": "verified"}),
    )
    .expect(200);
    assert_eq!(
        ids(&visits(&app, &world.admin, c, "review=pending")),
        expected(&seeded, |v| v.0 != *reviewed)
    );
    assert_eq!(
        ids(&visits(&app, &world.admin, c, "review=verified")),
        std::slice::from_ref(reviewed)
    );
    assert!(ids(&visits(&app, &world.admin, c, "review=rejected")).is_empty());

    // Deleted visits only with include_deleted=true.
    let (gone, street, _, _, _) = seeded.visits[1].clone();
    let house = house_id(&street, "2");
    let mut clock = Ticker::new("phone-lan");
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            c,
            "phone-lan",
            &[visit(
                &gone,
                &street,
                &house,
                &[("deleted", json!(true))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(
        ids(&visits(&app, &world.admin, c, "")),
        expected(&seeded, |v| v.0 != gone)
    );
    let with = visits(&app, &world.admin, c, "include_deleted=true");
    assert_eq!(ids(&with), expected(&seeded, |_| true));
    let deleted = with["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == json!(gone))
        .unwrap();
    assert_eq!(deleted["deleted"], json!(true));

    // Pages of 3, then 1: the same list, each visit once.
    let everything = expected(&seeded, |_| true);
    for size in [1, 3, 7, 8, 1000] {
        let mut got = Vec::new();
        let mut query = format!("include_deleted=true&page_size={size}");
        let mut pages = 0;
        loop {
            let page = visits(&app, &world.admin, c, &query);
            let page_ids = ids(&page);
            assert!(page_ids.len() <= size);
            got.extend(page_ids);
            pages += 1;
            match page["next_page_token"].as_str() {
                Some(token) => {
                    query = format!("include_deleted=true&page_size={size}&page_token={token}")
                }
                None => break,
            }
            assert!(pages < 100);
        }
        assert_eq!(got, everything, "page_size {size}");
        assert_eq!(
            pages,
            everything.len().div_ceil(size).max(1),
            "page_size {size}"
        );
    }
    for bad in [
        "page_size=0",
        "page_size=1001",
        "page_size=x",
        "page_token=garbage",
        "outcome=maybe",
        "review=done",
        "include_deleted=yes",
        "ward_id=nope",
    ] {
        app.get(&format!("/api/v1/campaigns/{c}/visits?{bad}"), &world.admin)
            .expect_problem(422, "validation");
    }
    app.get(
        &format!("/api/v1/campaigns/{c}/visits?ward_id={}", new_id()),
        &world.admin,
    )
    .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/campaigns/{}/visits", new_id()),
        &world.admin,
    )
    .expect_problem(404, "not_found");
    assert_verified(&app);
}

fn each_role_sees_its_own_visits(app: TestApp) {
    let world = World::build(&app);
    let seeded = seed(&app, &world);
    let c = &world.campaign;
    let (v1, v2) = (&world.volunteer1, &world.volunteer2);
    assert_eq!(
        ids(&visits(&app, &v1.1, c, "")),
        expected(&seeded, |v| v.2 == v1.0)
    );
    assert_eq!(
        ids(&visits(&app, &v1.1, c, &format!("volunteer_id={}", v1.0))),
        expected(&seeded, |v| v.2 == v1.0)
    );
    assert_eq!(
        ids(&visits(
            &app,
            &v1.1,
            c,
            &format!("street_id={}", world.street1)
        )),
        expected(&seeded, |v| v.2 == v1.0)
    );
    app.get(
        &format!("/api/v1/campaigns/{c}/visits?volunteer_id={}", v2.0),
        &v1.1,
    )
    .expect_problem(403, "forbidden");
    // …and its own history only.
    let mates = seeded
        .visits
        .iter()
        .find(|v| v.2 == v2.0)
        .unwrap()
        .0
        .clone();
    let own = seeded
        .visits
        .iter()
        .find(|v| v.2 == v1.0)
        .unwrap()
        .0
        .clone();
    app.get(
        &format!("/api/v1/campaigns/{c}/visits/{mates}/history"),
        &v1.1,
    )
    .expect_problem(403, "forbidden");
    history(&app, &v1.1, c, &own);

    let ward1 = [world.street1.clone(), world.street2.clone()];
    assert_eq!(
        ids(&visits(&app, &world.leader1.1, c, "")),
        expected(&seeded, |v| ward1.contains(&v.1))
    );
    app.get(
        &format!("/api/v1/campaigns/{c}/visits?ward_id={}", world.ward2),
        &world.leader1.1,
    )
    .expect_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/campaigns/{c}/visits?street_id={}", world.street3),
        &world.leader1.1,
    )
    .expect_problem(403, "forbidden");
    let elsewhere = seeded
        .visits
        .iter()
        .find(|v| v.1 == world.street3)
        .unwrap()
        .0
        .clone();
    app.get(
        &format!("/api/v1/campaigns/{c}/visits/{elsewhere}/history"),
        &world.leader1.1,
    )
    .expect_problem(403, "forbidden");

    let district1 = [
        world.street1.clone(),
        world.street2.clone(),
        world.street3.clone(),
    ];
    assert_eq!(
        ids(&visits(&app, &world.supervisor_d1.1, c, "")),
        expected(&seeded, |v| district1.contains(&v.1))
    );
    assert_eq!(
        ids(&visits(&app, &world.supervisor_d2.1, c, "")),
        expected(&seeded, |v| v.1 == world.street4)
    );
    assert_eq!(
        ids(&visits(&app, &world.supervisor_p.1, c, "")),
        expected(&seeded, |_| true)
    );
    app.get(
        &format!("/api/v1/campaigns/{c}/visits?ward_id={}", world.ward1),
        &world.supervisor_d2.1,
    )
    .expect_problem(403, "forbidden");
    assert_eq!(
        ids(&visits(
            &app,
            &world.supervisor_d1.1,
            c,
            &format!("ward_id={}", world.ward2)
        )),
        expected(&seeded, |v| v.1 == world.street3)
    );
    assert_verified(&app);
}

fn conflict_counts_devices_writing_fields_other_than_review(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let house = house_id(&world.street1, "1");
    let (a, b, r) = (new_id(), new_id(), new_id());
    let mut lan = Ticker::new("phone-lan");
    let mut tablet = Ticker::new("tablet-lan");
    let mut hoa = Ticker::new("phone-hoa");
    let new = |id: &str, hlc: &str| {
        visit(
            id,
            &world.street1,
            &house,
            &knock("declined", "2026-11-28T09:00:00+07:00", 1, 0),
            hlc,
        )
    };
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            c,
            "phone-lan",
            &[
                household(
                    &house,
                    &world.street1,
                    &[("house_number", json!("1"))],
                    &lan.next()
                ),
                new(&a, &lan.next()),
                new(&b, &lan.next()),
                new(&r, &lan.next()),
            ]
        ),
        ["applied"; 4]
    );
    let conflict = |id: &str| -> Value {
        let list = visits(&app, &world.admin, c, "");
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == json!(id))
            .unwrap()["conflict"]
            .clone()
    };
    // The same volunteer from a second device: a conflict.
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            c,
            "tablet-lan",
            &[visit(
                &a,
                &world.street1,
                &house,
                &[("note", json!("x"))],
                &tablet.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(conflict(&a), json!(true));
    // Even a write that lost counts: it was a write by a second device.
    let old = hlc(now_ms() - 3_600_000, 0, "old-phone");
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            c,
            "old-phone",
            &[visit(
                &b,
                &world.street1,
                &house,
                &[("outcome", json!("not_home"))],
                &old
            )]
        ),
        ["unchanged"]
    );
    assert_eq!(conflict(&b), json!(true));
    // The ward leader's review through push or the endpoint is no conflict.
    assert_eq!(
        push(
            &app,
            &world.leader1.1,
            c,
            "phone-hoa",
            &[visit(
                &r,
                &world.street1,
                &house,
                &[("review", json!("verified")), ("review_note", json!("ok"))],
                &hoa.next()
            )]
        ),
        ["applied"]
    );
    app.post(
        &format!("/api/v1/campaigns/{c}/visits/{r}/review"),
        &world.leader1.1,
        &json!({"review": "rejected"}),
    )
    .expect(200);
    assert_eq!(conflict(&r), json!(false));
    // The same device re-sending is no conflict either; the leader editing the note is.
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            c,
            "phone-lan",
            &[visit(
                &r,
                &world.street1,
                &house,
                &[("note", json!("y"))],
                &lan.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(conflict(&r), json!(false));
    assert_eq!(
        push(
            &app,
            &world.leader1.1,
            c,
            "phone-hoa",
            &[visit(
                &r,
                &world.street1,
                &house,
                &[("note", json!("z"))],
                &hlc(now_ms(), 0, "phone-hoa")
            )]
        ),
        ["applied"]
    );
    assert_eq!(conflict(&r), json!(true));
    assert_verified(&app);
}

crate::both_backends!(
    filters_order_and_pages,
    each_role_sees_its_own_visits,
    conflict_counts_devices_writing_fields_other_than_review,
);
