//! Contract section 4, streets and households: create, list a ward's streets, the street
//! and household CSV imports.

use serde_json::json;

use crate::common::{Resp, TestApp, World};
use crate::support::{field_set, items, set, text};

fn streets_of(app: &TestApp, area: &str) -> Resp {
    app.get(&format!("/api/v1/areas/{area}/streets"), &app.admin)
        .expect(200)
}

#[track_caller]
fn assert_detail_names_line(resp: &Resp, line: u32) {
    let detail = resp.body["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains(&format!("line {line}")),
        "detail should name line {line}: {detail}"
    );
}

fn an_admin_creates_a_street_in_a_ward_and_gets_201(app: TestApp) {
    let world = World::build(&app);
    let resp = app
        .post(
            "/api/v1/streets",
            &app.admin,
            &json!({"ward_id": world.ward3, "code": "25813-N5", "name": "Ngõ 5 Đường 7A"}),
        )
        .expect(201);
    let street = &resp.body;
    assert!(uuid::Uuid::parse_str(&text(street, "id")).is_ok());
    assert_eq!(street["ward_id"], json!(world.ward3));
    assert_eq!(street["code"], "25813-N5");
    assert_eq!(street["name"], "Ngõ 5 Đường 7A");
    let listed = streets_of(&app, &world.ward3);
    assert!(items(&listed).contains(street), "{}", listed.text);
}

fn a_street_code_taken_in_any_ward_is_409(app: TestApp) {
    let world = World::build(&app);
    for ward in [&world.ward1, &world.ward3] {
        app.post(
            "/api/v1/streets",
            &app.admin,
            &json!({"ward_id": ward, "code": "25741-H12", "name": "Trùng"}),
        )
        .expect_problem(409, "conflict");
    }
    assert_eq!(
        field_set(&streets_of(&app, &world.ward3), "code"),
        set(&["25813-H1"])
    );
}

fn a_street_outside_a_ward_or_with_bad_fields_is_422(app: TestApp) {
    let world = World::build(&app);
    let unknown = uuid::Uuid::new_v4().to_string();
    for (ward, code, name) in [
        (world.district1.as_str(), "D-1", "Đường ở quận"),
        (world.province.as_str(), "P-1", "Đường ở tỉnh"),
        (unknown.as_str(), "U-1", "Đường lạ"),
        (world.ward1.as_str(), "", "Không mã"),
        (world.ward1.as_str(), "has space", "Mã có khoảng trắng"),
        (world.ward1.as_str(), "N-1", ""),
    ] {
        let resp = app.post(
            "/api/v1/streets",
            &app.admin,
            &json!({"ward_id": ward, "code": code, "name": name}),
        );
        assert_eq!(resp.status, 422, "{code:?} {name:?}: {}", resp.text);
        resp.expect_problem(422, "validation");
    }
}

fn a_wards_street_list_holds_exactly_its_streets(app: TestApp) {
    let world = World::build(&app);
    let ward1 = streets_of(&app, &world.ward1);
    assert_eq!(
        crate::support::ids(&ward1),
        set(&[&world.street1, &world.street2])
    );
    assert!(items(&ward1)
        .iter()
        .all(|s| s["ward_id"] == json!(world.ward1)));
    assert_eq!(
        crate::support::ids(&streets_of(&app, &world.ward2)),
        set(&[&world.street3])
    );
    let province = app.post(
        "/api/v1/areas",
        &app.admin,
        &json!({"code": "75", "name": "Đồng Nai", "level": "province"}),
    );
    let province = text(&province.expect(201).body, "id");
    let empty_ward = app
        .post(
            "/api/v1/areas",
            &app.admin,
            &json!({"code": "26000", "name": "Xã Trống", "level": "ward", "parent_id": province}),
        )
        .expect(201);
    assert!(items(&streets_of(&app, &text(&empty_ward.body, "id"))).is_empty());
}

fn the_street_import_counts_created_and_updated_rows(app: TestApp) {
    let world = World::build(&app);
    let csv = "ward_code,code,name\n\
               25741,25741-H12,Hẻm 12 Cách Mạng Tháng Tám\n\
               25741,25741-H16,Hẻm 16\n\
               25813,25813-N2,Ngõ 2\n";
    let resp = app
        .post_csv("/api/v1/streets/import", &app.admin, csv)
        .expect(200);
    assert_eq!(resp.body, json!({"created": 2, "updated": 1}));
    let ward1 = streets_of(&app, &world.ward1);
    assert_eq!(
        field_set(&ward1, "code"),
        set(&["25741-H12", "25741-H14", "25741-H16"])
    );
    let renamed = items(&ward1)
        .into_iter()
        .find(|s| s["code"] == "25741-H12")
        .unwrap();
    assert_eq!(renamed["name"], "Hẻm 12 Cách Mạng Tháng Tám");
    assert_eq!(
        renamed["id"],
        json!(world.street1),
        "an update keeps the street's id"
    );
    assert_eq!(
        field_set(&streets_of(&app, &world.ward3), "code"),
        set(&["25813-H1", "25813-N2"])
    );

    let again = app
        .post_csv("/api/v1/streets/import", &app.admin, csv)
        .expect(200);
    assert_eq!(again.body["created"], json!(0));
}

fn a_street_import_row_moving_a_street_to_another_ward_is_refused_naming_its_line(app: TestApp) {
    let world = World::build(&app);
    let csv = "ward_code,code,name\n\
               25741,25741-H20,Hẻm 20\n\
               25744,25741-H12,Hẻm 12\n";
    let resp = app
        .post_csv("/api/v1/streets/import", &app.admin, csv)
        .expect_problem(422, "validation");
    assert_detail_names_line(&resp, 3);
    let ward1 = streets_of(&app, &world.ward1);
    assert_eq!(
        field_set(&ward1, "code"),
        set(&["25741-H12", "25741-H14"]),
        "all or nothing"
    );
    assert_eq!(
        field_set(&streets_of(&app, &world.ward2), "code"),
        set(&["25744-H1"])
    );
}

fn a_bad_street_import_row_refuses_the_whole_file_naming_its_line(app: TestApp) {
    let world = World::build(&app);
    for (csv, line) in [
        ("ward_code,code,name\n25741,N-1,Ngõ 1\n99999,N-2,Ngõ 2\n", 3),
        (
            "ward_code,code,name\n25741,N-1,Ngõ 1\n718,N-2,Ngõ ở quận\n",
            3,
        ),
        (
            "ward_code,code,name\n25741,N-1,Ngõ 1\n25744,N-1,Ngõ 1 lần nữa\n",
            3,
        ),
        ("ward_code,code,name\n25741,N-1,Ngõ 1\n25741,N-2,\n", 3),
        ("ward_code,code,name\n25741,N-1,Ngõ 1\n25741,N-2\n", 3),
    ] {
        let resp = app
            .post_csv("/api/v1/streets/import", &app.admin, csv)
            .expect_problem(422, "validation");
        assert_detail_names_line(&resp, line);
    }
    app.post_csv(
        "/api/v1/streets/import",
        &app.admin,
        "ward,code,name\n25741,N-1,Ngõ 1\n",
    )
    .expect_problem(422, "validation");
    assert_eq!(
        field_set(&streets_of(&app, &world.ward1), "code"),
        set(&["25741-H12", "25741-H14"])
    );
}

fn households_import_counts_created_and_existing(app: TestApp) {
    let _world = World::build(&app);
    let csv = "street_code,house_number\n\
               25741-H12,12/5A\n\
               25741-H12,14\n\
               25744-H1,3B\n";
    let resp = app
        .post_csv("/api/v1/households/import", &app.admin, csv)
        .expect(200);
    assert_eq!(resp.body, json!({"created": 3, "existing": 0}));

    let again = app
        .post_csv("/api/v1/households/import", &app.admin, csv)
        .expect(200);
    assert_eq!(
        again.body,
        json!({"created": 0, "existing": 3}),
        "a re-import creates nothing"
    );

    let more = "street_code,house_number\n25741-H12,14\n25741-H14,14\n";
    let resp = app
        .post_csv("/api/v1/households/import", &app.admin, more)
        .expect(200);
    assert_eq!(
        resp.body,
        json!({"created": 1, "existing": 1}),
        "the same number on another street is another house"
    );
}

fn house_numbers_that_normalise_alike_on_one_street_are_one_household(app: TestApp) {
    let _world = World::build(&app);
    let csv = "street_code,house_number\n\
               25741-H12,12/5A\n\
               25741-H12,\" Số 12/5a \"\n";
    let resp = app
        .post_csv("/api/v1/households/import", &app.admin, csv)
        .expect(200);
    assert_eq!(resp.body, json!({"created": 1, "existing": 1}));
    let later = "street_code,house_number\n25741-H12,số 12/5 A\n";
    let resp = app
        .post_csv("/api/v1/households/import", &app.admin, later)
        .expect(200);
    assert_eq!(resp.body, json!({"created": 0, "existing": 1}));
}

fn imported_households_carry_the_deterministic_id_and_reach_the_phones(app: TestApp) {
    let world = World::build(&app);
    let csv = "street_code,house_number\n25741-H12,12/5A\n25741-H12,Số 12/5a\n25741-H14,7\n";
    app.post_csv("/api/v1/households/import", &app.admin, csv)
        .expect(200);
    let street1 = uuid::Uuid::parse_str(&world.street1).unwrap();
    let expected = sync_protocol::household_id(street1, "12/5A")
        .unwrap()
        .to_string();
    let pulled = app
        .pull(
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &json!({}),
            500,
        )
        .expect(200);
    let households: Vec<_> = pulled.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "household")
        .cloned()
        .collect();
    assert_eq!(
        households.len(),
        1,
        "street 1 holds one imported house: {}",
        pulled.text
    );
    assert_eq!(households[0]["id"], json!(expected));
    assert_eq!(households[0]["street_id"], json!(world.street1));
    assert_eq!(
        households[0]["fields"]["house_number"]["value"], "12/5A",
        "the first spelling is kept"
    );
}

fn a_bad_household_import_row_refuses_the_whole_file_naming_its_line(app: TestApp) {
    let _world = World::build(&app);
    for (csv, line) in [
        ("street_code,house_number\n25741-H12,1\nNO-SUCH-STREET,2\n", 3),
        ("street_code,house_number\n25741-H12,1\n25741-H12,\n", 3),
        ("street_code,house_number\n25741-H12,1\n25741-H12,Số\n", 3),
        ("street_code,house_number\n25741-H12,1\n25741-H12,2\n25741-H12,3\n25741-H12,4\n25741-H12,5\n25741-H14,5,6\n", 7),
    ] {
        let resp = app.post_csv("/api/v1/households/import", &app.admin, csv).expect_problem(422, "validation");
        assert_detail_names_line(&resp, line);
    }
    let long = format!("street_code,house_number\n25741-H12,{}\n", "9".repeat(41));
    let resp = app
        .post_csv("/api/v1/households/import", &app.admin, &long)
        .expect_problem(422, "validation");
    assert_detail_names_line(&resp, 2);
    // Nothing of the refused files was stored: house 1 is new now.
    let resp = app
        .post_csv(
            "/api/v1/households/import",
            &app.admin,
            "street_code,house_number\n25741-H12,1\n",
        )
        .expect(200);
    assert_eq!(resp.body, json!({"created": 1, "existing": 0}));
}

crate::both_backends!(
    an_admin_creates_a_street_in_a_ward_and_gets_201,
    a_street_code_taken_in_any_ward_is_409,
    a_street_outside_a_ward_or_with_bad_fields_is_422,
    a_wards_street_list_holds_exactly_its_streets,
    the_street_import_counts_created_and_updated_rows,
    a_street_import_row_moving_a_street_to_another_ward_is_refused_naming_its_line,
    a_bad_street_import_row_refuses_the_whole_file_naming_its_line,
    households_import_counts_created_and_existing,
    house_numbers_that_normalise_alike_on_one_street_are_one_household,
    imported_households_carry_the_deterministic_id_and_reach_the_phones,
    a_bad_household_import_row_refuses_the_whole_file_naming_its_line,
);
