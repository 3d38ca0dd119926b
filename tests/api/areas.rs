//! Contract section 4, areas: create, read, list, level rules and the CSV import.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::common::world::AREAS_CSV;
use crate::common::{Resp, TestApp, World};
use crate::support::{field_set, items, set, text};

fn new_area(app: &TestApp, code: &str, level: &str, parent: Option<&str>) -> Resp {
    app.post(
        "/api/v1/areas",
        &app.admin,
        &json!({"code": code, "name": format!("Area {code}"), "level": level, "parent_id": parent}),
    )
}

fn roots(app: &TestApp) -> Resp {
    app.get("/api/v1/areas", &app.admin).expect(200)
}

fn children(app: &TestApp, parent: &str) -> Resp {
    app.get(&format!("/api/v1/areas?parent_id={parent}"), &app.admin)
        .expect(200)
}

fn import(app: &TestApp, csv: &str) -> Resp {
    app.post_csv("/api/v1/areas/import", &app.admin, csv)
}

/// The id of the area with `code` in a list answer.
#[track_caller]
fn id_of(list: &Resp, code: &str) -> String {
    let found = items(list).into_iter().find(|a| a["code"] == code);
    text(
        &found.unwrap_or_else(|| panic!("{code} not listed: {}", list.text)),
        "id",
    )
}

#[track_caller]
fn assert_detail_names_line(resp: &Resp, line: u32) {
    let detail = resp.body["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains(&format!("line {line}")),
        "detail should name line {line}: {detail}"
    );
}

fn an_admin_creates_a_province_a_district_and_a_ward_and_reads_them_back(app: TestApp) {
    let province = new_area(&app, "74", "province", None).expect(201).body;
    assert_eq!(province["code"], "74");
    assert_eq!(province["name"], "Area 74");
    assert_eq!(province["level"], "province");
    assert_eq!(province["parent_id"], json!(null));
    let province_id = text(&province, "id");
    let district = new_area(&app, "718", "district", Some(&province_id))
        .expect(201)
        .body;
    assert_eq!(district["parent_id"], json!(province_id));
    let ward = new_area(&app, "25741", "ward", Some(&text(&district, "id")))
        .expect(201)
        .body;
    assert_eq!(ward["level"], "ward");

    for area in [&province, &district, &ward] {
        let got = app
            .get(&format!("/api/v1/areas/{}", text(area, "id")), &app.admin)
            .expect(200);
        assert_eq!(got.body, *area);
    }
}

fn a_ward_may_hang_directly_under_a_province(app: TestApp) {
    let province = text(
        &new_area(&app, "79", "province", None).expect(201).body,
        "id",
    );
    let ward = new_area(&app, "26734", "ward", Some(&province))
        .expect(201)
        .body;
    assert_eq!(ward["parent_id"], json!(province));
    assert_eq!(
        field_set(&children(&app, &province), "code"),
        set(&["26734"])
    );
}

fn a_taken_area_code_is_409(app: TestApp) {
    let province = text(
        &new_area(&app, "74", "province", None).expect(201).body,
        "id",
    );
    new_area(&app, "74", "province", None).expect_problem(409, "conflict");
    new_area(&app, "74", "district", Some(&province)).expect_problem(409, "conflict");
    assert_eq!(items(&roots(&app)).len(), 1);
}

fn an_area_breaking_the_level_rules_is_422(app: TestApp) {
    let world = World::build(&app);
    let unknown = uuid::Uuid::new_v4().to_string();
    for (level, parent, why) in [
        (
            "province",
            Some(world.province.as_str()),
            "a province is a root",
        ),
        ("district", None, "a district needs a province"),
        (
            "district",
            Some(world.district1.as_str()),
            "a district under a district",
        ),
        (
            "district",
            Some(world.ward1.as_str()),
            "a district under a ward",
        ),
        ("ward", None, "a ward needs a parent"),
        ("ward", Some(world.ward1.as_str()), "a ward under a ward"),
        ("ward", Some(unknown.as_str()), "an unknown parent"),
        (
            "commune",
            Some(world.district1.as_str()),
            "an unknown level",
        ),
    ] {
        let resp = new_area(&app, "99999", level, parent);
        assert_eq!(resp.status, 422, "{why}: {}", resp.text);
        resp.expect_problem(422, "validation");
    }
    for (code, name) in [
        ("", "x"),
        ("has space", "x"),
        ("99999", ""),
        ("99999", "   "),
    ] {
        let resp = app.post(
            "/api/v1/areas",
            &app.admin,
            &json!({"code": code, "name": name, "level": "ward", "parent_id": world.district1}),
        );
        assert_eq!(
            resp.status, 422,
            "code {code:?} name {name:?}: {}",
            resp.text
        );
    }
    let all: usize = [&world.district1, &world.district2]
        .iter()
        .map(|d| items(&children(&app, d)).len())
        .sum();
    assert_eq!(all, 3, "no refused area was stored");
}

fn reading_an_unknown_or_malformed_area_is_404(app: TestApp) {
    let unknown = uuid::Uuid::new_v4();
    app.get(&format!("/api/v1/areas/{unknown}"), &app.admin)
        .expect_problem(404, "not_found");
    app.get("/api/v1/areas/25741", &app.admin)
        .expect_problem(404, "not_found");
    app.get(&format!("/api/v1/areas/{unknown}/streets"), &app.admin)
        .expect_problem(404, "not_found");
    app.get(&format!("/api/v1/areas?parent_id={unknown}"), &app.admin)
        .expect_problem(404, "not_found");
}

fn the_area_list_gives_the_roots_or_the_children_of_a_parent(app: TestApp) {
    let world = World::build(&app);
    let other = text(
        &new_area(&app, "75", "province", None).expect(201).body,
        "id",
    );
    assert_eq!(ids_of(&roots(&app)), set(&[&world.province, &other]));
    assert_eq!(
        ids_of(&children(&app, &world.province)),
        set(&[&world.district1, &world.district2])
    );
    assert_eq!(
        ids_of(&children(&app, &world.district1)),
        set(&[&world.ward1, &world.ward2])
    );
    assert_eq!(
        ids_of(&children(&app, &world.district2)),
        set(&[&world.ward3])
    );
    assert!(items(&children(&app, &world.ward1)).is_empty());
    assert!(items(&children(&app, &other)).is_empty());
    let district = &items(&children(&app, &world.province))[0];
    assert_eq!(district["parent_id"], json!(world.province));
    assert_eq!(district["level"], "district");
}

fn ids_of(resp: &Resp) -> BTreeSet<String> {
    crate::support::ids(resp)
}

fn the_import_counts_created_and_updated_rows(app: TestApp) {
    let first = import(&app, AREAS_CSV).expect(200);
    assert_eq!(first.body, json!({"created": 6, "updated": 0}));
    let province = id_of(&roots(&app), "74");
    let district = id_of(&children(&app, &province), "718");
    assert_eq!(
        field_set(&children(&app, &district), "code"),
        set(&["25741", "25744"])
    );

    let second = "code,name,level,parent_code\n\
                  25744,Phường Phú Lợi (mới),ward,718\n\
                  25747,Phường Phú Hòa,ward,718\n";
    let resp = import(&app, second).expect(200);
    assert_eq!(resp.body, json!({"created": 1, "updated": 1}));
    let wards = children(&app, &district);
    assert_eq!(field_set(&wards, "code"), set(&["25741", "25744", "25747"]));
    let renamed = items(&wards)
        .into_iter()
        .find(|w| w["code"] == "25744")
        .unwrap();
    assert_eq!(renamed["name"], "Phường Phú Lợi (mới)");
    assert_eq!(renamed["parent_id"], json!(district));
}

fn reimporting_the_same_file_creates_nothing(app: TestApp) {
    import(&app, AREAS_CSV).expect(200);
    let before = roots(&app).body;
    let resp = import(&app, AREAS_CSV).expect(200);
    assert_eq!(resp.body["created"], json!(0));
    assert_eq!(
        resp.body["updated"],
        json!(6),
        "every row named an existing area"
    );
    assert_eq!(roots(&app).body, before, "ids survive a re-import");
}

fn an_import_may_name_parents_later_in_the_file(app: TestApp) {
    let csv = "code,name,level,parent_code\n\
               25813,Phường Mỹ Phước,ward,721\n\
               721,Thị xã Bến Cát,district,74\n\
               26734,Phường Bến Nghé,ward,79\n\
               74,Tỉnh Bình Dương,province,\n\
               79,Thành phố Hồ Chí Minh,province,\n";
    import(&app, csv).expect(200);
    let roots = roots(&app);
    assert_eq!(field_set(&roots, "code"), set(&["74", "79"]));
    let district = id_of(&children(&app, &id_of(&roots, "74")), "721");
    assert_eq!(
        field_set(&children(&app, &district), "code"),
        set(&["25813"])
    );
    assert_eq!(
        field_set(&children(&app, &id_of(&roots, "79")), "code"),
        set(&["26734"])
    );
}

fn a_bad_import_row_refuses_the_whole_file_naming_its_line(app: TestApp) {
    import(&app, AREAS_CSV).expect(200);
    let cases: [(&str, u32); 7] = [
        ("code,name,level,parent_code\n75,Tỉnh Mới,province,\n751,Huyện\u{0}Mới,district,75\n", 3),
        ("code,name,level,parent_code\n75,Tỉnh Mới,province,\n751,Huyện Mới,district,75\n752,Huyện Lạ,commune,75\n", 4),
        ("code,name,level,parent_code\n75,Tỉnh Mới,province,\n751,Huyện Mới,district,75\n25900,Xã Mồ Côi,ward,999\n", 4),
        ("code,name,level,parent_code\n75,Tỉnh Mới,province,\n751,Huyện Mới,district,75\n7511,Xã Sai,ward,7512\n7512,Xã Cha,ward,751\n", 4),
        ("code,name,level,parent_code\n75,Tỉnh Mới,province,\n751,Huyện Mới,district,75\n751,Huyện Trùng,district,75\n", 4),
        ("code,name,level,parent_code\n75,Tỉnh Mới,province,\n\n751,Huyện Mới,district,\n", 4),
        ("code,name,level,parent_code\n75,Tỉnh Mới,province,\n751,,district,75\n", 3),
    ];
    for (csv, line) in cases {
        let resp = import(&app, csv).expect_problem(422, "validation");
        assert_detail_names_line(&resp, line);
    }
    import(&app, "code,name,level\n75,Tỉnh Mới,province\n").expect_problem(422, "validation");
    import(&app, "code,name,level,parent_code\n75,Tỉnh Mới,province\n")
        .expect_problem(422, "validation");
    assert_eq!(
        field_set(&roots(&app), "code"),
        set(&["74"]),
        "nothing of a refused file was stored"
    );
}

fn an_import_row_changing_an_areas_level_is_refused_naming_its_line(app: TestApp) {
    import(&app, AREAS_CSV).expect(200);
    let csv = "code,name,level,parent_code\n\
               25745,Phường Mới,ward,718\n\
               721,Thị xã Bến Cát,ward,74\n";
    let resp = import(&app, csv).expect_problem(422, "validation");
    assert_detail_names_line(&resp, 3);
    let province = id_of(&roots(&app), "74");
    let district = id_of(&children(&app, &province), "718");
    assert!(
        !field_set(&children(&app, &district), "code").contains("25745"),
        "all or nothing"
    );
    let districts = children(&app, &province);
    let ben_cat = items(&districts)
        .into_iter()
        .find(|d| d["code"] == "721")
        .unwrap();
    assert_eq!(ben_cat["level"], "district");
}

/// `code,name,level,parent_code` rows of the national file, by parent code.
fn national_tree(csv: &str) -> (BTreeMap<String, BTreeSet<String>>, usize) {
    let mut tree: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut rows = 0;
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let (code, parent) = (fields[0], fields[fields.len() - 1]);
        tree.entry(parent.to_owned())
            .or_default()
            .insert(code.to_owned());
        rows += 1;
    }
    (tree, rows)
}

fn the_whole_of_vietnam_imports_through_the_api(app: TestApp) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/vietnam-2020-areas.csv"
    );
    let csv = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (tree, rows) = national_tree(&csv);
    assert_eq!(rows, 63 + 707 + 10_614);

    let resp = import(&app, &csv).expect(200);
    assert_eq!(resp.body, json!({"created": rows, "updated": 0}));

    let roots = roots(&app);
    assert_eq!(items(&roots).len(), 63);
    assert_eq!(field_set(&roots, "code"), tree[""]);
    let mut checked_districts = 0;
    for province in items(&roots) {
        let code = text(&province, "code");
        let districts = children(&app, &text(&province, "id"));
        assert_eq!(
            field_set(&districts, "code"),
            tree[&code],
            "children of province {code}"
        );
        // Every tenth district's wards, to keep the test quick.
        for district in items(&districts).iter().step_by(10) {
            let code = text(district, "code");
            let wards = children(&app, &text(district, "id"));
            let expected = tree.get(&code).cloned().unwrap_or_default();
            assert_eq!(
                field_set(&wards, "code"),
                expected,
                "children of district {code}"
            );
            assert!(items(&wards).iter().all(|w| w["level"] == "ward"));
            checked_districts += 1;
        }
    }
    assert!(checked_districts > 63);

    let again = import(&app, &csv).expect(200);
    assert_eq!(again.body, json!({"created": 0, "updated": rows}));
    assert_eq!(
        items(&app.get("/api/v1/areas", &app.admin).expect(200)).len(),
        63
    );
}

fn an_import_of_only_a_header_counts_nothing(app: TestApp) {
    let resp = import(&app, "code,name,level,parent_code\n").expect(200);
    assert_eq!(resp.body, json!({"created": 0, "updated": 0}));
}

crate::both_backends!(
    an_admin_creates_a_province_a_district_and_a_ward_and_reads_them_back,
    a_ward_may_hang_directly_under_a_province,
    a_taken_area_code_is_409,
    an_area_breaking_the_level_rules_is_422,
    reading_an_unknown_or_malformed_area_is_404,
    the_area_list_gives_the_roots_or_the_children_of_a_parent,
    the_import_counts_created_and_updated_rows,
    reimporting_the_same_file_creates_nothing,
    an_import_may_name_parents_later_in_the_file,
    a_bad_import_row_refuses_the_whole_file_naming_its_line,
    an_import_row_changing_an_areas_level_is_refused_naming_its_line,
    the_whole_of_vietnam_imports_through_the_api,
    an_import_of_only_a_header_counts_nothing,
);
