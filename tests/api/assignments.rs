//! Contract section 5, assignments: create, the rules on who may be assigned where, list
//! with filters, delete, and the unassigned streets.

use serde_json::{json, Value};

use crate::common::{Resp, TestApp, World};
use crate::support::{create_user, ids, set, text};

fn assignments_path(world: &World) -> String {
    format!("/api/v1/campaigns/{}/assignments", world.campaign)
}

fn assign(app: &TestApp, world: &World, token: &str, street: &str, volunteer: &str) -> Resp {
    app.post(
        &assignments_path(world),
        token,
        &json!({"street_id": street, "volunteer_id": volunteer}),
    )
}

fn list(app: &TestApp, world: &World, token: &str, query: &str) -> Resp {
    app.get(&format!("{}{query}", assignments_path(world)), token)
        .expect(200)
}

fn unassigned(app: &TestApp, world: &World, token: &str, query: &str) -> Resp {
    let path = format!(
        "/api/v1/campaigns/{}/streets/unassigned{query}",
        world.campaign
    );
    app.get(&path, token).expect(200)
}

/// The (street, volunteer) pairs of an assignment list.
fn pairs(resp: &Resp) -> std::collections::BTreeSet<(String, String)> {
    crate::support::items(resp)
        .iter()
        .map(|a| (text(a, "street_id"), text(a, "volunteer_id")))
        .collect()
}

fn pair(street: &str, volunteer: &str) -> (String, String) {
    (street.to_owned(), volunteer.to_owned())
}

fn an_admin_assigns_a_volunteer_to_a_street_and_gets_201(app: TestApp) {
    let world = World::build(&app);
    let resp = assign(
        &app,
        &world,
        &app.admin,
        &world.street2,
        &world.volunteer1.0,
    )
    .expect(201);
    let assignment = &resp.body;
    assert!(uuid::Uuid::parse_str(&text(assignment, "id")).is_ok());
    assert_eq!(assignment["campaign_id"], json!(world.campaign));
    assert_eq!(assignment["street_id"], json!(world.street2));
    assert_eq!(assignment["volunteer_id"], json!(world.volunteer1.0));
    let created_at = text(assignment, "created_at");
    let when = chrono::DateTime::parse_from_rfc3339(&created_at)
        .unwrap_or_else(|e| panic!("{created_at}: {e}"));
    let age = chrono::Utc::now().signed_duration_since(when);
    assert!(
        age.num_minutes().abs() < 10,
        "created_at {created_at} is not about now"
    );
    let listed = list(&app, &world, &app.admin, "");
    assert!(crate::support::items(&listed).contains(assignment));
}

fn a_street_takes_several_volunteers_and_a_volunteer_several_streets(app: TestApp) {
    let world = World::build(&app);
    assign(
        &app,
        &world,
        &app.admin,
        &world.street2,
        &world.volunteer1.0,
    )
    .expect(201);
    assign(
        &app,
        &world,
        &app.admin,
        &world.street2,
        &world.volunteer2.0,
    )
    .expect(201);
    let all = list(&app, &world, &app.admin, "");
    assert_eq!(
        pairs(&all),
        [
            pair(&world.street1, &world.volunteer1.0),
            pair(&world.street1, &world.volunteer2.0),
            pair(&world.street2, &world.volunteer1.0),
            pair(&world.street2, &world.volunteer2.0),
            pair(&world.street3, &world.volunteer3.0),
        ]
        .into_iter()
        .collect()
    );
}

fn assigning_the_same_volunteer_to_the_same_street_twice_is_409(app: TestApp) {
    let world = World::build(&app);
    assign(
        &app,
        &world,
        &app.admin,
        &world.street1,
        &world.volunteer1.0,
    )
    .expect_problem(409, "conflict");
    assert_eq!(
        crate::support::items(&list(&app, &world, &app.admin, "")).len(),
        3
    );
}

fn assigning_a_volunteer_of_another_ward_is_422(app: TestApp) {
    let world = World::build(&app);
    assign(
        &app,
        &world,
        &app.admin,
        &world.street3,
        &world.volunteer1.0,
    )
    .expect_problem(422, "validation");
    assign(
        &app,
        &world,
        &world.leader1.1,
        &world.street2,
        &world.volunteer3.0,
    )
    .expect_problem(422, "validation");
}

fn assigning_someone_who_is_not_a_volunteer_is_422(app: TestApp) {
    let world = World::build(&app);
    let admin_id = text(&app.get("/api/v1/me", &app.admin).expect(200).body, "id");
    for who in [&world.leader1.0, &world.supervisor_d1.0, &admin_id] {
        assign(&app, &world, &app.admin, &world.street1, who).expect_problem(422, "validation");
    }
    let nobody = uuid::Uuid::new_v4().to_string();
    assign(&app, &world, &app.admin, &world.street1, &nobody).expect_problem(422, "validation");
    assign(&app, &world, &app.admin, &nobody, &world.volunteer1.0)
        .expect_problem(422, "validation");
}

fn assigning_a_street_outside_the_campaigns_area_is_422(app: TestApp) {
    let world = World::build(&app);
    let campaign = app
        .post(
            "/api/v1/campaigns",
            &app.admin,
            &json!({"name": "Bến Cát", "area_id": world.district2, "target_ratio": 0.5,
                    "starts_on": "2020-08-17", "deadline": "2020-08-20"}),
        )
        .expect(201);
    let path = format!(
        "/api/v1/campaigns/{}/assignments",
        text(&campaign.body, "id")
    );
    app.post(
        &path,
        &app.admin,
        &json!({"street_id": world.street2, "volunteer_id": world.volunteer1.0}),
    )
    .expect_problem(422, "validation");
    let in_area = create_user(
        &app,
        &app.admin,
        "tnv.my.phuoc",
        "volunteer",
        Some(&world.ward3),
    )
    .expect(201);
    app.post(
        &path,
        &app.admin,
        &json!({"street_id": world.street4, "volunteer_id": text(&in_area.body, "id")}),
    )
    .expect(201);
}

fn a_ward_leader_assigns_its_wards_streets(app: TestApp) {
    let world = World::build(&app);
    assign(
        &app,
        &world,
        &world.leader1.1,
        &world.street2,
        &world.volunteer2.0,
    )
    .expect(201);
    assert!(pairs(&list(&app, &world, &app.admin, ""))
        .contains(&pair(&world.street2, &world.volunteer2.0)));
}

fn a_ward_leader_cannot_assign_a_street_outside_its_ward(app: TestApp) {
    let world = World::build(&app);
    assign(
        &app,
        &world,
        &world.leader1.1,
        &world.street3,
        &world.volunteer3.0,
    )
    .expect_problem(403, "forbidden");
    assign(
        &app,
        &world,
        &world.leader1.1,
        &world.street4,
        &world.volunteer1.0,
    )
    .expect_problem(403, "forbidden");
    assert_eq!(
        crate::support::items(&list(&app, &world, &app.admin, "")).len(),
        3
    );
}

fn the_assignment_list_filters_by_volunteer_and_by_ward(app: TestApp) {
    let world = World::build(&app);
    assign(
        &app,
        &world,
        &app.admin,
        &world.street2,
        &world.volunteer1.0,
    )
    .expect(201);
    let mine = list(
        &app,
        &world,
        &app.admin,
        &format!("?volunteer_id={}", world.volunteer1.0),
    );
    assert_eq!(
        pairs(&mine),
        [
            pair(&world.street1, &world.volunteer1.0),
            pair(&world.street2, &world.volunteer1.0)
        ]
        .into()
    );
    let ward2 = list(
        &app,
        &world,
        &app.admin,
        &format!("?ward_id={}", world.ward2),
    );
    assert_eq!(
        pairs(&ward2),
        [pair(&world.street3, &world.volunteer3.0)].into()
    );
    let both = list(
        &app,
        &world,
        &app.admin,
        &format!(
            "?ward_id={}&volunteer_id={}",
            world.ward1, world.volunteer2.0
        ),
    );
    assert_eq!(
        pairs(&both),
        [pair(&world.street1, &world.volunteer2.0)].into()
    );
    let none = list(
        &app,
        &world,
        &app.admin,
        &format!(
            "?ward_id={}&volunteer_id={}",
            world.ward2, world.volunteer2.0
        ),
    );
    assert!(crate::support::items(&none).is_empty());
    let district = list(
        &app,
        &world,
        &app.admin,
        &format!("?ward_id={}", world.ward3),
    );
    assert!(crate::support::items(&district).is_empty());
    app.get(
        &format!("{}?volunteer_id=nobody", assignments_path(&world)),
        &app.admin,
    )
    .expect_problem(422, "validation");
}

fn assignments_of_one_campaign_stay_out_of_another(app: TestApp) {
    let world = World::build(&app);
    let other = app
        .post(
            "/api/v1/campaigns",
            &app.admin,
            &json!({"name": "Đợt 2", "area_id": world.province, "target_ratio": 0.7,
                    "starts_on": "2020-09-01", "deadline": "2020-09-30"}),
        )
        .expect(201);
    let path = format!("/api/v1/campaigns/{}/assignments", text(&other.body, "id"));
    assert!(crate::support::items(&app.get(&path, &app.admin).expect(200)).is_empty());
    // The same pair in another campaign is no duplicate.
    app.post(
        &path,
        &app.admin,
        &json!({"street_id": world.street1, "volunteer_id": world.volunteer1.0}),
    )
    .expect(201);
    assert_eq!(
        crate::support::items(&list(&app, &world, &app.admin, "")).len(),
        3
    );
}

fn deleting_an_assignment_answers_204_and_takes_it_off_the_list(app: TestApp) {
    let world = World::build(&app);
    let created = assign(
        &app,
        &world,
        &app.admin,
        &world.street2,
        &world.volunteer2.0,
    )
    .expect(201);
    let path = format!("{}/{}", assignments_path(&world), text(&created.body, "id"));
    let resp = app.delete(&path, &app.admin).expect(204);
    assert!(resp.text.is_empty());
    assert!(!pairs(&list(&app, &world, &app.admin, ""))
        .contains(&pair(&world.street2, &world.volunteer2.0)));
    app.delete(&path, &app.admin)
        .expect_problem(404, "not_found");
    // Once deleted, the same assignment may be made again.
    assign(
        &app,
        &world,
        &app.admin,
        &world.street2,
        &world.volunteer2.0,
    )
    .expect(201);
}

fn a_ward_leader_deletes_assignments_of_its_ward_only(app: TestApp) {
    let world = World::build(&app);
    let all = list(&app, &world, &app.admin, "");
    let id_of = |street: &str| -> String {
        let found = crate::support::items(&all)
            .into_iter()
            .find(|a| a["street_id"] == json!(street));
        text(&found.unwrap(), "id")
    };
    let other_ward = format!("{}/{}", assignments_path(&world), id_of(&world.street3));
    app.delete(&other_ward, &world.leader1.1)
        .expect_problem(403, "forbidden");
    let own_ward = format!("{}/{}", assignments_path(&world), id_of(&world.street1));
    app.delete(&own_ward, &world.leader1.1).expect(204);
    app.delete(&other_ward, &world.leader2.1).expect(204);
}

fn deleting_an_unknown_assignment_or_in_an_unknown_campaign_is_404(app: TestApp) {
    let world = World::build(&app);
    let existing = text(
        &crate::support::items(&list(&app, &world, &app.admin, ""))[0],
        "id",
    );
    let unknown = uuid::Uuid::new_v4();
    app.delete(
        &format!("{}/{unknown}", assignments_path(&world)),
        &app.admin,
    )
    .expect_problem(404, "not_found");
    app.delete(&format!("{}/nope", assignments_path(&world)), &app.admin)
        .expect_problem(404, "not_found");
    app.delete(
        &format!("/api/v1/campaigns/{unknown}/assignments/{existing}"),
        &app.admin,
    )
    .expect_problem(404, "not_found");
    app.delete(
        &format!("/api/v1/campaigns/nope/assignments/{existing}"),
        &app.admin,
    )
    .expect_problem(404, "not_found");
    assert_eq!(
        crate::support::items(&list(&app, &world, &app.admin, "")).len(),
        3
    );
}

fn an_unknown_campaign_has_no_assignments_to_list_or_make(app: TestApp) {
    let world = World::build(&app);
    let unknown = uuid::Uuid::new_v4();
    let body = json!({"street_id": world.street2, "volunteer_id": world.volunteer1.0});
    app.post(
        &format!("/api/v1/campaigns/{unknown}/assignments"),
        &app.admin,
        &body,
    )
    .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/campaigns/{unknown}/assignments"),
        &app.admin,
    )
    .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/campaigns/{unknown}/streets/unassigned"),
        &app.admin,
    )
    .expect_problem(404, "not_found");
}

fn unassigned_streets_are_those_without_a_live_assignment(app: TestApp) {
    let world = World::build(&app);
    assert_eq!(
        ids(&unassigned(&app, &world, &app.admin, "")),
        set(&[&world.street2, &world.street4])
    );
    let ward1 = unassigned(
        &app,
        &world,
        &app.admin,
        &format!("?ward_id={}", world.ward1),
    );
    assert_eq!(ids(&ward1), set(&[&world.street2]));
    let street: &Value = &crate::support::items(&ward1)[0];
    assert_eq!(street["ward_id"], json!(world.ward1));
    assert_eq!(street["code"], "25741-H14");

    assign(
        &app,
        &world,
        &app.admin,
        &world.street2,
        &world.volunteer1.0,
    )
    .expect(201);
    assert!(crate::support::items(&unassigned(
        &app,
        &world,
        &app.admin,
        &format!("?ward_id={}", world.ward1)
    ))
    .is_empty());

    let all = list(
        &app,
        &world,
        &app.admin,
        &format!("?ward_id={}", world.ward2),
    );
    let only = text(&crate::support::items(&all)[0], "id");
    app.delete(&format!("{}/{only}", assignments_path(&world)), &app.admin)
        .expect(204);
    assert_eq!(
        ids(&unassigned(&app, &world, &app.admin, "")),
        set(&[&world.street3, &world.street4])
    );
}

fn a_ward_leader_sees_the_unassigned_streets_of_its_ward(app: TestApp) {
    let world = World::build(&app);
    assert_eq!(
        ids(&unassigned(&app, &world, &world.leader1.1, "")),
        set(&[&world.street2])
    );
    assert!(crate::support::items(&unassigned(&app, &world, &world.leader2.1, "")).is_empty());
    let path = format!(
        "/api/v1/campaigns/{}/streets/unassigned?ward_id={}",
        world.campaign, world.ward3
    );
    app.get(&path, &world.leader1.1)
        .expect_problem(403, "forbidden");
}

crate::both_backends!(
    an_admin_assigns_a_volunteer_to_a_street_and_gets_201,
    a_street_takes_several_volunteers_and_a_volunteer_several_streets,
    assigning_the_same_volunteer_to_the_same_street_twice_is_409,
    assigning_a_volunteer_of_another_ward_is_422,
    assigning_someone_who_is_not_a_volunteer_is_422,
    assigning_a_street_outside_the_campaigns_area_is_422,
    a_ward_leader_assigns_its_wards_streets,
    a_ward_leader_cannot_assign_a_street_outside_its_ward,
    the_assignment_list_filters_by_volunteer_and_by_ward,
    assignments_of_one_campaign_stay_out_of_another,
    deleting_an_assignment_answers_204_and_takes_it_off_the_list,
    a_ward_leader_deletes_assignments_of_its_ward_only,
    deleting_an_unknown_assignment_or_in_an_unknown_campaign_is_404,
    an_unknown_campaign_has_no_assignments_to_list_or_make,
    unassigned_streets_are_those_without_a_live_assignment,
    a_ward_leader_sees_the_unassigned_streets_of_its_ward,
);
