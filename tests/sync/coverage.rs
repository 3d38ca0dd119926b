//! Coverage and `coverage.csv` (contract §9, §12): ward counters, roll-ups as ratios of
//! sums, scopes, deleted households and `last_visit_at`; and `canvass verify`.

use serde_json::{json, Value};

use crate::common::{run_cli, TestApp, World};
use crate::support::*;

/// One house with one visit; returns (house, visit).
fn knock_at(
    app: &TestApp,
    token: &str,
    campaign: &str,
    street: &str,
    number: &str,
    fields: &[(&str, Value)],
) -> (String, String) {
    let house = house_id(street, number);
    let v = new_id();
    let mut clock = Ticker::new("phone-x");
    let changes = [
        household(
            &house,
            street,
            &[("house_number", json!(number))],
            &clock.next(),
        ),
        visit(&v, street, &house, fields, &clock.next()),
    ];
    let results = push(app, token, campaign, "phone-x", &changes);
    assert_eq!(results[1], "applied", "{results:?}");
    (house, v)
}

fn parents_sum_their_children_and_take_the_ratio_of_the_sums(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let admin = &world.admin;
    knock_at(
        &app,
        admin,
        c,
        &world.street1,
        "1",
        &knock("installed_now", "2026-11-20T09:00:00+07:00", 10, 1),
    );
    knock_at(
        &app,
        admin,
        c,
        &world.street2,
        "1",
        &knock("not_home", "2026-11-21T09:00:00+07:00", 0, 0)[..2],
    );
    knock_at(
        &app,
        admin,
        c,
        &world.street3,
        "1",
        &knock("already_installed", "2026-11-22T09:00:00+07:00", 1, 1),
    );
    // app_users is capped at smartphone_users when an edit lowers the phones alone.
    let (house, v) = knock_at(
        &app,
        admin,
        c,
        &world.street3,
        "2",
        &knock("no_smartphone", "2026-11-19T09:00:00+07:00", 0, 0)[..2],
    );
    let _ = (house, v);

    let province = coverage(&app, admin, c, &world.province);
    // Ward 1: 1/10; ward 2: 1/1. Mean of ratios 0.55, ratio of sums 2/11.
    assert_eq!(figures(&province), [4, 4, 3, 11, 2]);
    assert_eq!(province["coverage"], json!(2.0 / 11.0));
    assert_eq!(province["target_met"], json!(false));
    assert_eq!(province["level"], "province");
    assert_eq!(province["code"], "74");
    assert_eq!(province["last_visit_at"], "2026-11-22T09:00:00+07:00");
    let children: Vec<&str> = province["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["718", "721"]);
    let d1 = &province["children"][0];
    assert_eq!(figures(d1), [4, 4, 3, 11, 2]);
    assert!(
        d1.get("children").is_none(),
        "children carry no children: {d1}"
    );
    let d2 = &province["children"][1];
    assert_eq!(
        *d2,
        json!({"area_id": world.district2, "code": "721", "name": "Thị xã Bến Cát", "level": "district",
               "households_total": 0, "households_attempted": 0, "households_reached": 0,
               "smartphone_users": 0, "app_users": 0, "coverage": null, "target_ratio": 0.6,
               "target_met": false, "last_visit_at": null})
    );
    let district = coverage(&app, admin, c, &world.district1);
    let wards: Vec<(String, [i64; 5], Value)> = district["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["code"].as_str().unwrap().to_owned(),
                figures(w),
                w["coverage"].clone(),
            )
        })
        .collect();
    assert_eq!(
        wards,
        [
            ("25741".to_owned(), [2, 2, 1, 10, 1], json!(0.1)),
            ("25744".to_owned(), [2, 2, 2, 1, 1], json!(1.0)),
        ]
    );
    let ward2 = coverage(&app, admin, c, &world.ward2);
    assert_eq!(ward2["target_met"], json!(true));
    assert_eq!(ward2["children"], json!([]));
    // Without area_id: the campaign's own area.
    let default = app
        .get(&format!("/api/v1/campaigns/{c}/coverage"), admin)
        .expect(200)
        .body;
    assert_eq!(default, province);

    // CSV: one row per child.
    let csv = app
        .get(
            &format!(
                "/api/v1/campaigns/{c}/coverage.csv?area_id={}",
                world.province
            ),
            admin,
        )
        .expect(200);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert_eq!(
        csv.text,
        format!(
            "\u{feff}code,name,level,households_total,households_attempted,households_reached,smartphone_users,app_users,coverage,target_met\r\n\
             718,Thành phố Thủ Dầu Một,district,4,4,3,11,2,{},false\r\n\
             721,Thị xã Bến Cát,district,0,0,0,0,0,,false\r\n",
            2.0 / 11.0
        )
    );
    let csv = app
        .get(
            &format!(
                "/api/v1/campaigns/{c}/coverage.csv?area_id={}",
                world.district1
            ),
            admin,
        )
        .expect(200);
    assert_eq!(
        csv.text,
        "\u{feff}code,name,level,households_total,households_attempted,households_reached,smartphone_users,app_users,coverage,target_met\r\n\
         25741,Phường Hiệp Thành,ward,2,2,1,10,1,0.1,false\r\n\
         25744,Phường Phú Lợi,ward,2,2,2,1,1,1,true\r\n"
    );
    let csv = app
        .get(
            &format!("/api/v1/campaigns/{c}/coverage.csv?area_id={}", world.ward1),
            admin,
        )
        .expect(200);
    assert_eq!(
        csv.text.lines().count(),
        1,
        "a ward has no children: {}",
        csv.text
    );
    let default = app
        .get(&format!("/api/v1/campaigns/{c}/coverage.csv"), admin)
        .expect(200);
    assert_eq!(default.text.lines().count(), 3);
    assert_verified(&app);
}

fn coverage_is_read_within_scope_and_the_campaigns_area(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let path = |area: &str| format!("/api/v1/campaigns/{c}/coverage?area_id={area}");
    let csv = |area: &str| format!("/api/v1/campaigns/{c}/coverage.csv?area_id={area}");
    let ok: [(&str, &str); 9] = [
        (&world.volunteer1.1, &world.ward1),
        (&world.leader1.1, &world.ward1),
        (&world.supervisor_d1.1, &world.district1),
        (&world.supervisor_d1.1, &world.ward2),
        (&world.supervisor_d2.1, &world.ward3),
        (&world.supervisor_p.1, &world.province),
        (&world.admin, &world.ward3),
        (&world.volunteer3.1, &world.ward2),
        (&world.leader2.1, &world.ward2),
    ];
    for (token, area) in ok {
        app.get(&path(area), token).expect(200);
        app.get(&csv(area), token).expect(200);
    }
    let denied: [(&str, &str); 7] = [
        (&world.volunteer1.1, &world.ward2),
        (&world.volunteer1.1, &world.district1),
        (&world.volunteer1.1, &world.province),
        (&world.leader1.1, &world.district1),
        (&world.leader1.1, &world.ward3),
        (&world.supervisor_d1.1, &world.province),
        (&world.supervisor_d2.1, &world.ward1),
    ];
    for (token, area) in denied {
        app.get(&path(area), token).expect_problem(403, "forbidden");
        app.get(&csv(area), token).expect_problem(403, "forbidden");
    }
    // Without area_id, a volunteer asks for the campaign's area: outside its scope.
    app.get(
        &format!("/api/v1/campaigns/{c}/coverage"),
        &world.volunteer1.1,
    )
    .expect_problem(403, "forbidden");
    app.get(&path(&new_id()), &world.admin)
        .expect_problem(404, "not_found");
    app.get(&csv(&new_id()), &world.admin)
        .expect_problem(404, "not_found");
    // A malformed query id is a bad parameter, as in every list filter of the API.
    app.get(&path("nope"), &world.admin)
        .expect_problem(422, "validation");
    app.get(
        &format!("/api/v1/campaigns/{}/coverage", new_id()),
        &world.admin,
    )
    .expect_problem(404, "not_found");
    // An area outside the campaign's: 422.
    let d1 = campaign(
        &app,
        &world,
        &world.district1,
        "2026-11-01",
        "2026-12-31",
        0.5,
    );
    let outside = |area: &str| format!("/api/v1/campaigns/{d1}/coverage?area_id={area}");
    app.get(&outside(&world.ward3), &world.admin)
        .expect_problem(422, "validation");
    app.get(&outside(&world.province), &world.admin)
        .expect_problem(422, "validation");
    let own = app
        .get(&format!("/api/v1/campaigns/{d1}/coverage"), &world.admin)
        .expect(200)
        .body;
    assert_eq!(own["area_id"], json!(world.district1));
    assert_eq!(own["target_ratio"], json!(0.5));
}

fn deleted_households_count_nowhere_until_undeleted(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let token = &world.volunteer1.1;
    let (house, _) = knock_at(
        &app,
        token,
        c,
        &world.street1,
        "1",
        &knock("installed_now", "2026-11-20T09:00:00+07:00", 4, 2),
    );
    knock_at(
        &app,
        token,
        c,
        &world.street1,
        "2",
        &knock("declined", "2026-11-18T09:00:00+07:00", 2, 0),
    );
    let before = coverage(&app, token, c, &world.ward1);
    assert_eq!(figures(&before), [2, 2, 2, 6, 2]);
    assert_eq!(before["last_visit_at"], "2026-11-20T09:00:00+07:00");
    let mut clock = Ticker::new("phone-y");
    clock.next();
    let deleted = clock.next();
    assert_eq!(
        push(
            &app,
            token,
            c,
            "phone-y",
            &[household(
                &house,
                &world.street1,
                &[("deleted", json!(true))],
                &deleted
            )]
        ),
        ["applied"]
    );
    let after = coverage(&app, token, c, &world.ward1);
    assert_eq!(figures(&after), [1, 1, 1, 2, 0]);
    assert_eq!(after["last_visit_at"], "2026-11-18T09:00:00+07:00");
    assert_verified(&app);
    // A visit pushed onto the deleted house is accepted and waits with it.
    let waiting = new_id();
    assert_eq!(
        push(
            &app,
            token,
            c,
            "phone-y",
            &[visit(
                &waiting,
                &world.street1,
                &house,
                &knock("installed_now", "2026-11-25T09:00:00+07:00", 5, 5),
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(
        figures(&coverage(&app, token, c, &world.ward1)),
        [1, 1, 1, 2, 0]
    );
    assert_verified(&app);
    // Un-deleted with a newer HLC: back, with every visit.
    assert_eq!(
        push(
            &app,
            token,
            c,
            "phone-y",
            &[household(
                &house,
                &world.street1,
                &[("deleted", json!(false))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    let back = coverage(&app, token, c, &world.ward1);
    assert_eq!(figures(&back), [2, 2, 2, 7, 5]);
    assert_eq!(back["last_visit_at"], "2026-11-25T09:00:00+07:00");
    // Households count in every campaign, their visits only in their own.
    let other = campaign(
        &app,
        &world,
        &world.province,
        "2026-11-01",
        "2026-12-31",
        0.5,
    );
    assert_eq!(
        figures(&coverage(&app, &world.admin, &other, &world.ward1)),
        [2, 0, 0, 0, 0]
    );
    // Deleting a house through one campaign takes it out of every campaign.
    assign(&app, &world, &other, &world.street1, &world.volunteer1.0);
    let theirs = new_id();
    assert_eq!(
        push(
            &app,
            token,
            &other,
            "phone-y",
            &[visit(
                &theirs,
                &world.street1,
                &house,
                &knock("already_installed", "2026-11-26T09:00:00+07:00", 3, 3),
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(
        figures(&coverage(&app, &world.admin, &other, &world.ward1)),
        [2, 1, 1, 3, 3]
    );
    assert_eq!(
        push(
            &app,
            token,
            c,
            "phone-y",
            &[household(
                &house,
                &world.street1,
                &[("deleted", json!(true))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(
        figures(&coverage(&app, &world.admin, &other, &world.ward1)),
        [1, 0, 0, 0, 0]
    );
    assert_eq!(
        figures(&coverage(&app, &world.admin, c, &world.ward1)),
        [1, 1, 1, 2, 0]
    );
    assert_verified(&app);
    assert_eq!(
        push(
            &app,
            token,
            &other,
            "phone-y",
            &[household(
                &house,
                &world.street1,
                &[("deleted", json!(false))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(
        figures(&coverage(&app, &world.admin, &other, &world.ward1)),
        [2, 1, 1, 3, 3]
    );
    assert_eq!(
        figures(&coverage(&app, &world.admin, c, &world.ward1)),
        [2, 2, 2, 7, 5]
    );
    assert_verified(&app);
}

fn last_visit_at_goes_back_when_the_latest_visit_goes(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let leader = &world.leader1.1;
    let (h1, v1) = knock_at(
        &app,
        leader,
        c,
        &world.street1,
        "1",
        &knock("declined", "2026-11-20T09:00:00+07:00", 1, 0),
    );
    let (h2, v2) = knock_at(
        &app,
        leader,
        c,
        &world.street2,
        "1",
        &knock("declined", "2026-11-22T09:00:00+07:00", 1, 0),
    );
    let (h3, v3) = knock_at(
        &app,
        leader,
        c,
        &world.street2,
        "2",
        &knock("not_home", "2026-11-24T01:00:00Z", 0, 0)[..2],
    );
    let last = |app: &TestApp| coverage(app, leader, c, &world.ward1)["last_visit_at"].clone();
    assert_eq!(last(&app), "2026-11-24T01:00:00Z");
    let mut clock = Ticker::new("phone-z");
    clock.next();
    // The latest visit deleted: back to the one before (on another street).
    assert_eq!(
        push(
            &app,
            leader,
            c,
            "phone-z",
            &[visit(
                &v3,
                &world.street2,
                &h3,
                &[("deleted", json!(true))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(last(&app), "2026-11-22T09:00:00+07:00");
    assert_verified(&app);
    // The latest visit moved earlier.
    assert_eq!(
        push(
            &app,
            leader,
            c,
            "phone-z",
            &[visit(
                &v2,
                &world.street2,
                &h2,
                &[("visited_at", json!("2026-11-19T09:00:00+07:00"))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(last(&app), "2026-11-20T09:00:00+07:00");
    assert_verified(&app);
    // The latest visit's household deleted.
    assert_eq!(
        push(
            &app,
            leader,
            c,
            "phone-z",
            &[household(
                &h1,
                &world.street1,
                &[("deleted", json!(true))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(last(&app), "2026-11-19T09:00:00+07:00");
    assert_verified(&app);
    // Every visit gone: null.
    assert_eq!(
        push(
            &app,
            leader,
            c,
            "phone-z",
            &[visit(
                &v2,
                &world.street2,
                &h2,
                &[("deleted", json!(true))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(last(&app), Value::Null);
    assert_eq!(
        figures(&coverage(&app, leader, c, &world.ward1)),
        [2, 0, 0, 0, 0]
    );
    assert_verified(&app);
    // Back again with an un-delete; a rejected review keeps the visit's date.
    assert_eq!(
        push(
            &app,
            leader,
            c,
            "phone-z",
            &[visit(
                &v3,
                &world.street2,
                &h3,
                &[("deleted", json!(false))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(last(&app), "2026-11-24T01:00:00Z");
    app.post(
        &format!("/api/v1/campaigns/{c}/visits/{v3}/review"),
        leader,
        &json!({"review": "rejected"}),
    )
    .expect(200);
    assert_eq!(last(&app), "2026-11-24T01:00:00Z");
    let _ = v1;
    assert_verified(&app);
}

fn imported_households_count_in_the_totals(app: TestApp) {
    let world = World::build(&app);
    let csv = "street_code,house_number\n25741-H12,1\n25741-H12,2\n25741-H14,1\n";
    app.post_csv("/api/v1/households/import", &world.leader1.1, csv)
        .expect(200);
    let cover = coverage(&app, &world.admin, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [3, 0, 0, 0, 0]);
    // A phone adding the same house merges into the imported record.
    let house = house_id(&world.street1, "Số 1");
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "p",
            &[
                household(
                    &house,
                    &world.street1,
                    &[("house_number", json!("Số 1"))],
                    &Ticker::new("p").next()
                ),
                visit(
                    &new_id(),
                    &world.street1,
                    &house,
                    &knock("declined", "2026-11-20T09:00:00+07:00", 2, 0),
                    &Ticker::new("p").next()
                ),
            ]
        )[1],
        "applied"
    );
    assert_eq!(
        figures(&coverage(&app, &world.admin, &world.campaign, &world.ward1)),
        [3, 1, 1, 2, 0]
    );
    let pulled = pull_all(&app, &world.volunteer1.1, &world.campaign, "p", 100);
    assert_eq!(pulled.records.len(), 3);
    assert_verified(&app);
}

fn verify_fails_and_names_the_ward_when_a_counter_is_tampered_with(app: TestApp) {
    let world = World::build(&app);
    knock_at(
        &app,
        &world.volunteer1.1,
        &world.campaign,
        &world.street1,
        "1",
        &knock("installed_now", "2026-11-20T09:00:00+07:00", 3, 2),
    );
    let (ok, stdout, _) = run_cli(&app.db, &["verify"]);
    assert!(ok, "{stdout}");
    sql(
        &app,
        &format!(
            "UPDATE ward_coverage SET app_users = app_users + 1 WHERE ward_id = '{}'",
            world.ward1
        ),
    );
    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    assert!(!ok, "verify passed a tampered counter: {stdout}");
    assert!(
        stdout.contains(&world.ward1) || stderr.contains(&world.ward1),
        "{stdout}\n{stderr}"
    );
    sql(
        &app,
        &format!(
            "UPDATE ward_coverage SET app_users = app_users - 1 WHERE ward_id = '{}'",
            world.ward1
        ),
    );
    assert_verified(&app);
    sql(
        &app,
        &format!(
            "UPDATE ward_totals SET households_total = 7 WHERE ward_id = '{}'",
            world.ward1
        ),
    );
    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    assert!(!ok);
    assert!(
        stdout.contains(&world.ward1) || stderr.contains(&world.ward1),
        "{stdout}\n{stderr}"
    );
    sql(
        &app,
        &format!(
            "UPDATE ward_totals SET households_total = 1 WHERE ward_id = '{}'",
            world.ward1
        ),
    );
    sql(&app, &format!("UPDATE ward_coverage SET last_visit_at = NULL, last_visit_at_us = NULL WHERE ward_id = '{}'", world.ward1));
    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    assert!(!ok, "a lost last_visit_at goes unnoticed");
    assert!(
        stdout.contains(&world.ward1) || stderr.contains(&world.ward1),
        "{stdout}\n{stderr}"
    );
}

fn a_household_counts_by_its_latest_conclusive_visit(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let token = &world.volunteer1.1;
    let s = &world.street1;
    let (house, first) = knock_at(
        &app,
        token,
        c,
        s,
        "1",
        &knock("declined", "2026-11-20T09:00:00+07:00", 4, 1),
    );
    let mut clock = Ticker::new("phone-q");
    clock.next();
    let mut put = |id: &str, fields: &[(&str, Value)]| {
        let results = push(
            &app,
            token,
            c,
            "phone-q",
            &[visit(id, s, &house, fields, &clock.next())],
        );
        assert_eq!(results, ["applied"]);
    };
    let ward = |app: &TestApp| figures(&coverage(app, token, c, &world.ward1));
    assert_eq!(ward(&app), [1, 1, 1, 4, 1]);
    // A later not_home changes nothing but the attempt's date.
    let not_home = new_id();
    put(
        &not_home,
        &knock("not_home", "2026-11-21T09:00:00+07:00", 0, 0)[..2],
    );
    assert_eq!(ward(&app), [1, 1, 1, 4, 1]);
    // A later no_smartphone counts 0 and 0, whatever counts it carries.
    let none = new_id();
    put(
        &none,
        &knock("no_smartphone", "2026-11-22T09:00:00+07:00", 3, 3),
    );
    assert_eq!(ward(&app), [1, 1, 1, 0, 0]);
    // Two visits at one instant written two ways: the larger id is the latest.
    let (a, b) = {
        let mut ids = [new_id(), new_id()];
        ids.sort();
        (ids[0].clone(), ids[1].clone())
    };
    put(&b, &knock("installed_now", "2026-11-23T02:00:00Z", 5, 4));
    put(
        &a,
        &knock("already_installed", "2026-11-23T09:00:00+07:00", 6, 6),
    );
    assert_eq!(ward(&app), [1, 1, 1, 5, 4]);
    // app_users above smartphone_users after an edit of app_users alone: capped.
    put(&b, &[("app_users", json!(9))]);
    assert_eq!(ward(&app), [1, 1, 1, 5, 5]);
    put(&b, &[("smartphone_users", json!(2))]);
    assert_eq!(ward(&app), [1, 1, 1, 2, 2]);
    // The latest deleted: the one at the same instant with the smaller id takes over.
    put(&b, &[("deleted", json!(true))]);
    assert_eq!(ward(&app), [1, 1, 1, 6, 6]);
    // Every conclusive visit gone: attempted, not reached.
    put(&a, &[("deleted", json!(true))]);
    put(&none, &[("deleted", json!(true))]);
    put(&first, &[("outcome", json!("not_home"))]);
    assert_eq!(ward(&app), [1, 1, 0, 0, 0]);
    put(&not_home, &[("deleted", json!(true))]);
    put(&first, &[("deleted", json!(true))]);
    let cover = coverage(&app, token, c, &world.ward1);
    assert_eq!(figures(&cover), [1, 0, 0, 0, 0]);
    assert_eq!(cover["last_visit_at"], Value::Null);
    assert_verified(&app);
}

fn roll_ups_follow_the_tree_that_was_loaded(app: TestApp) {
    let world = World::build(&app);
    // A province without districts (Vietnam since July 2025): wards hang off it directly.
    let csv = "code,name,level,parent_code\n01,Thành phố Hà Nội,province,\n00004,Phường Ba Đình,ward,01\n00008,Phường Ngọc Hà,ward,01\n";
    app.post_csv("/api/v1/areas/import", &world.admin, csv)
        .expect(200);
    let roots = app.get("/api/v1/areas", &world.admin).expect(200).body;
    let hanoi = roots["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "01")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let wards = app
        .get(&format!("/api/v1/areas?parent_id={hanoi}"), &world.admin)
        .expect(200)
        .body;
    let ward = |code: &str| {
        wards["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ba_dinh, ngoc_ha) = (ward("00004"), ward("00008"));
    let street = app
        .post(
            "/api/v1/streets",
            &world.admin,
            &json!({"ward_id": ba_dinh, "code": "00004-N1", "name": "Ngõ 1"}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = campaign(&app, &world, &hanoi, "2026-11-01", "2026-12-31", 0.5);
    knock_at(
        &app,
        &world.admin,
        &c,
        &street,
        "1",
        &knock("installed_now", "2026-11-20T09:00:00+07:00", 2, 1),
    );
    let top = app
        .get(&format!("/api/v1/campaigns/{c}/coverage"), &world.admin)
        .expect(200)
        .body;
    assert_eq!(top["level"], "province");
    assert_eq!(figures(&top), [1, 1, 1, 2, 1]);
    let children: Vec<(&str, [i64; 5])> = top["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["code"].as_str().unwrap(), figures(w)))
        .collect();
    assert_eq!(
        children,
        [("00004", [1, 1, 1, 2, 1]), ("00008", [0, 0, 0, 0, 0])]
    );
    let _ = ngoc_ha;
    // A campaign over one ward: its own coverage, no children.
    let one = campaign(&app, &world, &ba_dinh, "2026-11-01", "2026-12-31", 0.5);
    let cover = app
        .get(&format!("/api/v1/campaigns/{one}/coverage"), &world.admin)
        .expect(200)
        .body;
    assert_eq!(
        figures(&cover),
        [1, 0, 0, 0, 0],
        "households are shared, visits are not"
    );
    assert_eq!(cover["children"], json!([]));
    // The first world's campaign does not reach Hà Nội.
    app.get(
        &format!(
            "/api/v1/campaigns/{}/coverage?area_id={hanoi}",
            world.campaign
        ),
        &world.admin,
    )
    .expect_problem(422, "validation");
    assert_verified(&app);
}

crate::both_backends!(
    parents_sum_their_children_and_take_the_ratio_of_the_sums,
    coverage_is_read_within_scope_and_the_campaigns_area,
    deleted_households_count_nowhere_until_undeleted,
    last_visit_at_goes_back_when_the_latest_visit_goes,
    imported_households_count_in_the_totals,
    verify_fails_and_names_the_ward_when_a_counter_is_tampered_with,
    a_household_counts_by_its_latest_conclusive_visit,
    roll_ups_follow_the_tree_that_was_loaded,
);
