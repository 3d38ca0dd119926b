//! Contract section 11 for the endpoints of sections 3–5: what each role may call, and the
//! 403 for a known id outside the caller's area.

use serde_json::json;

use crate::common::{Resp, TestApp, World};
use crate::support::{create_user, field_set, items, set, text};

/// The four roles' tokens, named for messages.
fn roles(world: &World) -> [(&'static str, String); 4] {
    [
        ("admin", world.admin.clone()),
        ("supervisor", world.supervisor_p.1.clone()),
        ("ward_leader", world.leader1.1.clone()),
        ("volunteer", world.volunteer1.1.clone()),
    ]
}

#[track_caller]
fn expect_status(resp: Resp, status: u16, what: &str) {
    assert_eq!(resp.status, status, "{what}: {}", resp.text);
    if status == 403 {
        resp.expect_problem(403, "forbidden");
    }
}

fn every_role_reads_itself_the_areas_their_streets_and_the_campaigns(app: TestApp) {
    let world = World::build(&app);
    let paths = [
        "/api/v1/me".to_owned(),
        "/api/v1/areas".to_owned(),
        format!("/api/v1/areas/{}", world.ward3),
        format!("/api/v1/areas?parent_id={}", world.district2),
        format!("/api/v1/areas/{}/streets", world.ward3),
        format!("/api/v1/areas/{}/streets", world.district2),
        "/api/v1/campaigns".to_owned(),
        format!("/api/v1/campaigns/{}", world.campaign),
    ];
    for (role, token) in roles(&world).iter().chain(
        [(
            "supervisor of another district",
            world.supervisor_d2.1.clone(),
        )]
        .iter(),
    ) {
        for path in &paths {
            expect_status(app.get(path, token), 200, &format!("{role} GET {path}"));
        }
    }
    let streets = app
        .get(
            &format!("/api/v1/areas/{}/streets", world.ward3),
            &world.volunteer1.1,
        )
        .expect(200);
    assert_eq!(
        crate::support::ids(&streets),
        set(&[&world.street4]),
        "the catalogue is not scoped"
    );
}

fn every_role_logs_in_refreshes_and_logs_out(app: TestApp) {
    let _world = World::build(&app);
    for username in ["gs.tinh", "to.truong.1", "tnv.lan"] {
        let login = app
            .login_resp(username, crate::common::world::PASSWORD)
            .expect(200)
            .body;
        let refreshed = crate::support::refresh(&app, &text(&login, "refresh_token"))
            .expect(200)
            .body;
        let access = text(&refreshed, "access_token");
        assert_eq!(
            app.get("/api/v1/me", &access).expect(200).body["username"],
            username
        );
        let token = text(&refreshed, "refresh_token");
        app.post(
            "/api/v1/auth/logout",
            &access,
            &json!({"refresh_token": token}),
        )
        .expect(204);
        crate::support::refresh(&app, &token).expect_problem(401, "unauthorized");
    }
}

fn only_an_admin_writes_areas_and_campaigns(app: TestApp) {
    let world = World::build(&app);
    for (role, token) in &roles(&world)[1..] {
        let area = json!({"code": "75", "name": "Đồng Nai", "level": "province"});
        expect_status(
            app.post("/api/v1/areas", token, &area),
            403,
            &format!("{role} POST /areas"),
        );
        let csv = "code,name,level,parent_code\n75,Đồng Nai,province,\n";
        expect_status(
            app.post_csv("/api/v1/areas/import", token, csv),
            403,
            &format!("{role} area import"),
        );
        let campaign = json!({"name": "x", "area_id": world.ward1, "target_ratio": 0.5,
                              "starts_on": "2020-08-17", "deadline": "2020-08-20"});
        expect_status(
            app.post("/api/v1/campaigns", token, &campaign),
            403,
            &format!("{role} POST /campaigns"),
        );
    }
    assert_eq!(
        field_set(&app.get("/api/v1/areas", &app.admin).expect(200), "code"),
        set(&["74"])
    );
    assert_eq!(
        items(&app.get("/api/v1/campaigns", &app.admin).expect(200)).len(),
        1
    );
    app.post(
        "/api/v1/areas",
        &app.admin,
        &json!({"code": "75", "name": "Đồng Nai", "level": "province"}),
    )
    .expect(201);
}

fn a_ward_leader_creates_volunteers_of_its_ward_only(app: TestApp) {
    let world = World::build(&app);
    let leader = &world.leader1.1;
    let created = create_user(&app, leader, "tnv.moi", "volunteer", Some(&world.ward1)).expect(201);
    assert_eq!(created.body["area_id"], json!(world.ward1));
    expect_status(
        create_user(&app, leader, "tnv.x", "volunteer", Some(&world.ward2)),
        403,
        "volunteer of another ward",
    );
    expect_status(
        create_user(&app, leader, "tnv.x", "ward_leader", Some(&world.ward1)),
        403,
        "a ward leader",
    );
    expect_status(
        create_user(&app, leader, "tnv.x", "supervisor", Some(&world.district1)),
        403,
        "a supervisor",
    );
    expect_status(
        create_user(&app, leader, "tnv.x", "admin", None),
        403,
        "an admin",
    );
    expect_status(
        create_user(&app, leader, "tnv.x", "volunteer", None),
        403,
        "a volunteer without a ward",
    );
}

fn supervisors_and_volunteers_create_no_users(app: TestApp) {
    let world = World::build(&app);
    for token in [
        &world.supervisor_p.1,
        &world.supervisor_d1.1,
        &world.volunteer1.1,
    ] {
        expect_status(
            create_user(&app, token, "tnv.x", "volunteer", Some(&world.ward1)),
            403,
            "create user",
        );
    }
    let users = app.get("/api/v1/users", &app.admin).expect(200);
    assert!(!field_set(&users, "username").contains("tnv.x"));
}

fn the_user_list_is_scoped_to_the_callers_area(app: TestApp) {
    let world = World::build(&app);
    let names = |token: &str, query: &str| {
        field_set(
            &app.get(&format!("/api/v1/users{query}"), token).expect(200),
            "username",
        )
    };
    assert_eq!(
        names(&world.supervisor_d1.1, ""),
        set(&[
            "gs.tdm",
            "tnv.hoa",
            "tnv.lan",
            "tnv.minh",
            "to.truong.1",
            "to.truong.2"
        ])
    );
    assert_eq!(names(&world.supervisor_d2.1, ""), set(&["gs.bc"]));
    assert_eq!(
        names(&world.supervisor_p.1, ""),
        set(&[
            "gs.bc",
            "gs.tdm",
            "gs.tinh",
            "tnv.hoa",
            "tnv.lan",
            "tnv.minh",
            "to.truong.1",
            "to.truong.2"
        ])
    );
    assert_eq!(
        names(&world.leader1.1, ""),
        set(&["tnv.lan", "tnv.minh", "to.truong.1"])
    );
    assert_eq!(
        names(&world.leader1.1, "?role=volunteer"),
        set(&["tnv.lan", "tnv.minh"])
    );
    assert_eq!(
        names(&world.supervisor_d1.1, &format!("?area_id={}", world.ward2)),
        set(&["tnv.hoa", "to.truong.2"])
    );

    for (token, area, who) in [
        (
            &world.supervisor_d1.1,
            &world.ward3,
            "a district supervisor asking for another district's ward",
        ),
        (
            &world.supervisor_d1.1,
            &world.province,
            "a district supervisor asking for its province",
        ),
        (
            &world.leader1.1,
            &world.ward2,
            "a ward leader asking for another ward",
        ),
    ] {
        expect_status(
            app.get(&format!("/api/v1/users?area_id={area}"), token),
            403,
            who,
        );
    }
    expect_status(
        app.get("/api/v1/users", &world.volunteer1.1),
        403,
        "a volunteer listing users",
    );
}

fn users_are_changed_by_admins_by_ward_leaders_for_their_volunteers_and_by_volunteers_themselves(
    app: TestApp,
) {
    let world = World::build(&app);
    let patch = |token: &str, id: &str, body: serde_json::Value| {
        app.patch(&format!("/api/v1/users/{id}"), token, &body)
    };

    // A ward leader: the volunteers of its ward, all three fields.
    let resp = patch(
        &world.leader1.1,
        &world.volunteer2.0,
        json!({"display_name": "Anh Minh"}),
    )
    .expect(200);
    assert_eq!(resp.body["display_name"], "Anh Minh");
    patch(
        &world.leader1.1,
        &world.volunteer2.0,
        json!({"disabled": true}),
    )
    .expect(200);
    patch(
        &world.leader1.1,
        &world.volunteer2.0,
        json!({"disabled": false, "password": "mat-khau-moi-1"}),
    )
    .expect(200);
    app.login("tnv.minh", "mat-khau-moi-1");
    for (id, who) in [
        (&world.volunteer3.0, "a volunteer of another ward"),
        (&world.leader2.0, "another ward leader"),
        (&world.leader1.0, "itself"),
        (&world.supervisor_d1.0, "a supervisor"),
    ] {
        expect_status(
            patch(&world.leader1.1, id, json!({"display_name": "x"})),
            403,
            &format!("ward leader patching {who}"),
        );
    }

    // A volunteer: itself, name and password only.
    let resp = patch(
        &world.volunteer1.1,
        &world.volunteer1.0,
        json!({"display_name": "Lan"}),
    )
    .expect(200);
    assert_eq!(resp.body["display_name"], "Lan");
    patch(
        &world.volunteer1.1,
        &world.volunteer1.0,
        json!({"password": "mat-khau-lan-2", "current_password": crate::common::world::PASSWORD}),
    )
    .expect(200);
    app.login("tnv.lan", "mat-khau-lan-2");
    expect_status(
        patch(
            &world.volunteer1.1,
            &world.volunteer1.0,
            json!({"disabled": false}),
        ),
        403,
        "volunteer un/disabling itself",
    );
    expect_status(
        patch(
            &world.volunteer1.1,
            &world.volunteer2.0,
            json!({"display_name": "x"}),
        ),
        403,
        "volunteer patching another",
    );

    // A supervisor: nobody, not even itself.
    for id in [&world.volunteer1.0, &world.supervisor_p.0] {
        expect_status(
            patch(&world.supervisor_p.1, id, json!({"display_name": "x"})),
            403,
            "supervisor patching",
        );
    }
    let me = app.get("/api/v1/me", &world.supervisor_p.1).expect(200);
    assert_eq!(me.body["display_name"], "gs.tinh");
}

fn streets_and_households_are_written_by_admins_and_by_ward_leaders_in_their_ward(app: TestApp) {
    let world = World::build(&app);
    let leader = &world.leader1.1;
    app.post(
        "/api/v1/streets",
        leader,
        &json!({"ward_id": world.ward1, "code": "25741-N1", "name": "Ngõ 1"}),
    )
    .expect(201);
    expect_status(
        app.post(
            "/api/v1/streets",
            leader,
            &json!({"ward_id": world.ward2, "code": "25744-N1", "name": "Ngõ 1"}),
        ),
        403,
        "ward leader creating a street in another ward",
    );
    let own = "ward_code,code,name\n25741,25741-N2,Ngõ 2\n";
    assert_eq!(
        app.post_csv("/api/v1/streets/import", leader, own)
            .expect(200)
            .body["created"],
        json!(1)
    );
    let mixed = "ward_code,code,name\n25741,25741-N3,Ngõ 3\n25744,25744-N3,Ngõ 3\n";
    expect_status(
        app.post_csv("/api/v1/streets/import", leader, mixed),
        403,
        "street import into another ward",
    );
    let houses = "street_code,house_number\n25741-H12,1\n";
    assert_eq!(
        app.post_csv("/api/v1/households/import", leader, houses)
            .expect(200)
            .body["created"],
        json!(1)
    );
    let foreign = "street_code,house_number\n25741-H12,2\n25744-H1,2\n";
    expect_status(
        app.post_csv("/api/v1/households/import", leader, foreign),
        403,
        "household import in another ward",
    );

    for token in [&world.supervisor_p.1, &world.volunteer1.1] {
        let street = json!({"ward_id": world.ward1, "code": "25741-N9", "name": "Ngõ 9"});
        expect_status(
            app.post("/api/v1/streets", token, &street),
            403,
            "POST /streets",
        );
        let csv = "ward_code,code,name\n25741,25741-N9,Ngõ 9\n";
        expect_status(
            app.post_csv("/api/v1/streets/import", token, csv),
            403,
            "street import",
        );
        expect_status(
            app.post_csv("/api/v1/households/import", token, houses),
            403,
            "household import",
        );
    }
    let ward1 = app
        .get(
            &format!("/api/v1/areas/{}/streets", world.ward1),
            &app.admin,
        )
        .expect(200);
    assert_eq!(
        field_set(&ward1, "code"),
        set(&["25741-H12", "25741-H14", "25741-N1", "25741-N2"])
    );
    let ward2 = app
        .get(
            &format!("/api/v1/areas/{}/streets", world.ward2),
            &app.admin,
        )
        .expect(200);
    assert_eq!(field_set(&ward2, "code"), set(&["25744-H1"]));
}

fn supervisors_and_volunteers_neither_make_nor_delete_assignments(app: TestApp) {
    let world = World::build(&app);
    let path = format!("/api/v1/campaigns/{}/assignments", world.campaign);
    let existing = text(&items(&app.get(&path, &app.admin).expect(200))[0], "id");
    let unassigned = format!("/api/v1/campaigns/{}/streets/unassigned", world.campaign);
    for (role, token) in [
        ("supervisor", &world.supervisor_p.1),
        ("volunteer", &world.volunteer1.1),
    ] {
        let body = json!({"street_id": world.street2, "volunteer_id": world.volunteer1.0});
        expect_status(
            app.post(&path, token, &body),
            403,
            &format!("{role} assigning"),
        );
        expect_status(
            app.delete(&format!("{path}/{existing}"), token),
            403,
            &format!("{role} deleting"),
        );
        expect_status(
            app.get(&unassigned, token),
            403,
            &format!("{role} listing unassigned streets"),
        );
    }
    assert_eq!(items(&app.get(&path, &app.admin).expect(200)).len(), 3);
}

fn assignment_lists_are_scoped_to_the_callers_area_or_to_the_volunteer_itself(app: TestApp) {
    let world = World::build(&app);
    let path = format!("/api/v1/campaigns/{}/assignments", world.campaign);
    let streets = |token: &str, query: &str| -> Vec<String> {
        let resp = app.get(&format!("{path}{query}"), token).expect(200);
        let mut streets: Vec<String> = items(&resp).iter().map(|a| text(a, "street_id")).collect();
        streets.sort();
        streets
    };
    let sorted = |mut v: Vec<&String>| -> Vec<String> {
        v.sort();
        v.into_iter().cloned().collect()
    };
    assert_eq!(
        streets(&world.supervisor_p.1, ""),
        sorted(vec![&world.street1, &world.street1, &world.street3])
    );
    assert_eq!(
        streets(&world.supervisor_d1.1, ""),
        sorted(vec![&world.street1, &world.street1, &world.street3])
    );
    assert!(streets(&world.supervisor_d2.1, "").is_empty());
    assert_eq!(
        streets(&world.leader1.1, ""),
        sorted(vec![&world.street1, &world.street1])
    );
    assert_eq!(streets(&world.leader2.1, ""), sorted(vec![&world.street3]));
    let own = app.get(&path, &world.volunteer1.1).expect(200);
    assert_eq!(items(&own).len(), 1);
    assert_eq!(items(&own)[0]["volunteer_id"], json!(world.volunteer1.0));
    assert_eq!(
        streets(
            &world.volunteer1.1,
            &format!("?volunteer_id={}", world.volunteer1.0)
        ),
        vec![world.street1.clone()]
    );

    for (token, query, who) in [
        (
            &world.supervisor_d2.1,
            format!("?ward_id={}", world.ward1),
            "a supervisor asking for another district's ward",
        ),
        (
            &world.leader1.1,
            format!("?ward_id={}", world.ward2),
            "a ward leader asking for another ward",
        ),
        (
            &world.volunteer1.1,
            format!("?volunteer_id={}", world.volunteer2.0),
            "a volunteer asking for another's",
        ),
    ] {
        expect_status(app.get(&format!("{path}{query}"), token), 403, who);
    }
}

crate::both_backends!(
    every_role_reads_itself_the_areas_their_streets_and_the_campaigns,
    every_role_logs_in_refreshes_and_logs_out,
    only_an_admin_writes_areas_and_campaigns,
    a_ward_leader_creates_volunteers_of_its_ward_only,
    supervisors_and_volunteers_create_no_users,
    the_user_list_is_scoped_to_the_callers_area,
    users_are_changed_by_admins_by_ward_leaders_for_their_volunteers_and_by_volunteers_themselves,
    streets_and_households_are_written_by_admins_and_by_ward_leaders_in_their_ward,
    supervisors_and_volunteers_neither_make_nor_delete_assignments,
    assignment_lists_are_scoped_to_the_callers_area_or_to_the_volunteer_itself,
);
