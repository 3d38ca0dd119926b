//! Exports (contract §13): `visits.csv` and `visits.geojson` hold every visit the visit
//! list would, in its order and scope, streamed; CSV as spreadsheets read it.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

const HEADER: [&str; 18] = [
    "id",
    "ward_code",
    "ward_name",
    "street_code",
    "street_name",
    "house_number",
    "volunteer_username",
    "outcome",
    "smartphone_users",
    "app_users",
    "visited_at",
    "lat",
    "lon",
    "review",
    "review_note",
    "note",
    "deleted",
    "conflict",
];

/// The rows of a CSV answer, after checking the byte-order mark, the CRLF line ends and
/// the header.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let body = text
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("no byte-order mark: {text:?}"));
    assert!(body.ends_with("\r\n"), "last line not ended by CRLF");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    // Every line end outside a quoted cell is CRLF: the lines, joined back with CRLF, are
    // the body.
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(lines.join("\r\n"), body);
    assert_eq!(rows.remove(0), HEADER);
    rows
}

fn export(app: &TestApp, token: &str, campaign: &str, what: &str, query: &str) -> String {
    let resp = app
        .get(
            &format!("/api/v1/campaigns/{campaign}/visits.{what}?{query}"),
            token,
        )
        .expect(200);
    let expected = if what == "csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/geo+json"
    };
    assert_eq!(resp.content_type, expected);
    // Streamed: sent in chunks, its length unknown when the answer starts.
    assert_eq!(resp.header("content-length"), None, "{:?}", resp.headers);
    resp.text
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let index = HEADER.iter().position(|h| *h == name).unwrap();
    rows.iter().map(|r| r[index].clone()).collect()
}

fn username_of(app: &TestApp, id: &str) -> String {
    let users = app.get("/api/v1/users", &app.admin).expect(200).body;
    users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap()["username"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Three visits: A and B of volunteer 1 in ward 1, C of volunteer 3 in ward 2.
struct Three {
    a: String,
    b: String,
    c: String,
}

fn three_visits(app: &TestApp, world: &World) -> Three {
    let c = &world.campaign;
    let t = now_ms() - 60_000;
    let h = |n: u16| hlc(t, n, "phone-1");
    let (house1, house2) = (house_id(&world.street1, "1"), house_id(&world.street1, "2"));
    let (a, b) = (new_id(), new_id());
    let mut fields_a = knock("installed_now", "2026-11-28T09:00:00+07:00", 3, 2);
    fields_a.extend([
        ("lat", json!(10.98)),
        ("lon", json!(106.65)),
        ("accuracy_m", json!(12.5)),
        ("note", json!("=HYPERLINK(\"http://x\",\"y\")")),
    ]);
    let changes = [
        household(
            &house1,
            &world.street1,
            &[("house_number", json!("1"))],
            &h(0),
        ),
        household(
            &house2,
            &world.street1,
            &[("house_number", json!("2"))],
            &h(0),
        ),
        visit(&a, &world.street1, &house1, &fields_a, &h(1)),
        visit(
            &b,
            &world.street1,
            &house2,
            &[
                ("outcome", json!("not_home")),
                ("visited_at", json!("2026-11-28T10:00:00+07:00")),
                ("note", json!("-5 tầng, @cổng")),
            ],
            &h(1),
        ),
    ];
    assert_eq!(
        push(app, &world.volunteer1.1, c, "phone-1", &changes),
        ["applied"; 4]
    );
    let house3 = house_id(&world.street3, "7");
    let visit_c = new_id();
    let mut fields_c = knock("declined", "2026-11-28T11:00:00+07:00", 1, 0);
    fields_c.extend([("lat", json!(11.0)), ("lon", json!(-0.5))]);
    let changes = [
        household(
            &house3,
            &world.street3,
            &[("house_number", json!("7"))],
            &h(0),
        ),
        visit(&visit_c, &world.street3, &house3, &fields_c, &h(1)),
    ];
    assert_eq!(
        push(app, &world.volunteer3.1, c, "phone-3", &changes),
        ["applied"; 2]
    );
    Three { a, b, c: visit_c }
}

fn visits_csv_holds_the_lists_visits_as_spreadsheets_read_them(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let three = three_visits(&app, &world);

    let rows = csv_rows(&export(&app, &world.admin, c, "csv", ""));
    assert_eq!(
        column(&rows, "id"),
        [three.c.as_str(), three.b.as_str(), three.a.as_str()],
        "newest visited_at first"
    );
    let a = &rows[2];
    let street = app
        .get(
            &format!("/api/v1/areas/{}/streets", world.ward1),
            &world.admin,
        )
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == world.street1.as_str())
        .unwrap()
        .clone();
    let ward = app
        .get(&format!("/api/v1/areas/{}", world.ward1), &world.admin)
        .expect(200)
        .body;
    let expected_a: Vec<String> = [
        three.a.as_str(),
        ward["code"].as_str().unwrap(),
        ward["name"].as_str().unwrap(),
        street["code"].as_str().unwrap(),
        street["name"].as_str().unwrap(),
        "1",
        &username_of(&app, &world.volunteer1.0),
        "installed_now",
        "3",
        "2",
        "2026-11-28T09:00:00+07:00",
        "10.98",
        "106.65",
        "pending",
        "",
        // A formula is defused with a leading apostrophe.
        "'=HYPERLINK(\"http://x\",\"y\")",
        "false",
        "false",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(*a, expected_a);
    // Counts never written are empty cells, not 0; text starting with '-' is defused,
    // numbers (a negative longitude) are not.
    let b = &rows[1];
    assert_eq!(column(&rows, "smartphone_users")[1], "");
    assert_eq!(column(&rows, "lat")[1], "");
    assert_eq!(b[15], "'-5 tầng, @cổng");
    assert_eq!(column(&rows, "lon")[0], "-0.5");

    // The list's filters.
    let ids =
        |query: &str, token: &str| column(&csv_rows(&export(&app, token, c, "csv", query)), "id");
    assert_eq!(
        ids(&format!("ward_id={}", world.ward2), &world.admin),
        [three.c.as_str()]
    );
    assert_eq!(ids("outcome=not_home", &world.admin), [three.b.as_str()]);
    assert_eq!(
        ids(
            &format!("volunteer_id={}", world.volunteer1.0),
            &world.admin
        ),
        [three.b.as_str(), three.a.as_str()]
    );
    assert_eq!(
        ids(&format!("street_id={}", world.street3), &world.admin),
        [three.c.as_str()]
    );
    // And its scope: a volunteer its own visits, a ward leader its ward.
    assert_eq!(
        ids("", &world.volunteer1.1),
        [three.b.as_str(), three.a.as_str()]
    );
    assert_eq!(ids("", &world.leader2.1), [three.c.as_str()]);
    assert_eq!(
        ids("", &world.supervisor_d1.1),
        [three.c.as_str(), three.b.as_str(), three.a.as_str()]
    );

    // Deleted visits only with include_deleted=true.
    let gone = visit(
        three.b.as_str(),
        &world.street1,
        &house_id(&world.street1, "2"),
        &[("deleted", json!(true))],
        &hlc(now_ms(), 0, "phone-1"),
    );
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "phone-1", &[gone]),
        ["applied"]
    );
    assert_eq!(ids("", &world.admin), [three.c.as_str(), three.a.as_str()]);
    let all = csv_rows(&export(
        &app,
        &world.admin,
        c,
        "csv",
        "include_deleted=true",
    ));
    assert_eq!(column(&all, "deleted"), ["false", "true", "false"]);
}

fn exports_refuse_what_the_visit_list_refuses(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    three_visits(&app, &world);
    for what in ["csv", "geojson"] {
        let path = |campaign: &str, query: &str| {
            format!("/api/v1/campaigns/{campaign}/visits.{what}?{query}")
        };
        let ward1 = format!("ward_id={}", world.ward1);
        let ward2 = format!("ward_id={}", world.ward2);
        let other_volunteer = format!("volunteer_id={}", world.volunteer3.0);
        for (token, query) in [
            (&world.volunteer1.1, ward2.as_str()),
            (&world.volunteer1.1, other_volunteer.as_str()),
            (&world.leader2.1, ward1.as_str()),
            (&world.supervisor_d2.1, ward1.as_str()),
        ] {
            app.get(&path(c, query), token)
                .expect_problem(403, "forbidden");
        }
        app.get(&path(&new_id(), ""), &world.admin)
            .expect_problem(404, "not_found");
        app.get(&path(c, &format!("ward_id={}", new_id())), &world.admin)
            .expect_problem(404, "not_found");
        for query in ["outcome=maybe", "review=perhaps", "include_deleted=yes"] {
            app.get(&path(c, query), &world.admin)
                .expect_problem(422, "validation");
        }
        app.get(&path(c, ""), "")
            .expect_problem(401, "unauthorized");
    }
}

fn visits_geojson_is_a_feature_collection_of_the_visits_with_a_position(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let three = three_visits(&app, &world);
    let doc: Value = serde_json::from_str(&export(&app, &world.admin, c, "geojson", "")).unwrap();
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().unwrap();
    // B has no position: it is left out.
    let ids: Vec<&str> = features.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [three.c.as_str(), three.a.as_str()]);
    assert_eq!(
        features[1],
        json!({
            "type": "Feature",
            "id": three.a,
            "geometry": {"type": "Point", "coordinates": [106.65, 10.98]},
            "properties": {
                "street_id": world.street1,
                "household_id": house_id(&world.street1, "1"),
                "house_number": "1",
                "outcome": "installed_now",
                "smartphone_users": 3,
                "app_users": 2,
                "visited_at": "2026-11-28T09:00:00+07:00",
                "review": "pending",
                "accuracy_m": 12.5,
                "deleted": false
            }
        })
    );
    let coordinates = features[0]["geometry"]["coordinates"].as_array().unwrap();
    let numbers: Vec<f64> = coordinates.iter().map(|n| n.as_f64().unwrap()).collect();
    assert_eq!(numbers, [-0.5, 11.0], "[lon, lat]");
    assert_eq!(features[0]["properties"]["accuracy_m"], Value::Null);
    // Same scope as the list.
    let mine: Value =
        serde_json::from_str(&export(&app, &world.volunteer3.1, c, "geojson", "")).unwrap();
    assert_eq!(mine["features"].as_array().unwrap().len(), 1);
    assert_eq!(mine["features"][0]["id"], json!(three.c));
    let none: Value = serde_json::from_str(&export(
        &app,
        &world.admin,
        c,
        "geojson",
        "outcome=no_smartphone",
    ))
    .unwrap();
    assert_eq!(none, json!({"type": "FeatureCollection", "features": []}));
}

/// More visits than several chunks hold, with ties on visited_at: every one once, in the
/// list's order, in both formats.
fn a_large_export_holds_every_visit_once_in_order(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let t = now_ms() - 60_000;
    let house = house_id(&world.street1, "9");
    let first = household(
        &house,
        &world.street1,
        &[("house_number", json!("9"))],
        &hlc(t, 0, "p"),
    );
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "p", &[first]),
        ["applied"]
    );
    const VISITS: usize = 2_600;
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-28T06:00:00+07:00").unwrap();
    let mut expected: Vec<(String, String)> = Vec::new();
    let all: Vec<Value> = (0..VISITS)
        .map(|i| {
            let id = new_id();
            // Two visits per second: ties broken by id.
            let at = (base + chrono::Duration::seconds((i / 2) as i64)).to_rfc3339();
            expected.push((at.clone(), id.clone()));
            let mut fields = knock("installed_now", &at, 2, 1);
            fields.extend([("lat", json!(10.9)), ("lon", json!(106.6))]);
            visit(&id, &world.street1, &house, &fields, &hlc(t, 1, "p"))
        })
        .collect();
    for batch in all.chunks(1000) {
        let statuses = push(&app, &world.volunteer1.1, c, "p", batch);
        assert!(statuses.iter().all(|s| s == "applied"));
    }
    expected.sort_by(|a, b| b.cmp(a));
    let expected_ids: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

    let rows = csv_rows(&export(&app, &world.admin, c, "csv", ""));
    let ids = column(&rows, "id");
    assert_eq!(ids.len(), VISITS);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        VISITS,
        "each once"
    );
    assert_eq!(ids, expected_ids);

    let doc: Value = serde_json::from_str(&export(&app, &world.admin, c, "geojson", "")).unwrap();
    let features: Vec<&str> = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(features, expected_ids);
}

crate::both_backends!(
    visits_csv_holds_the_lists_visits_as_spreadsheets_read_them,
    exports_refuse_what_the_visit_list_refuses,
    visits_geojson_is_a_feature_collection_of_the_visits_with_a_position,
    a_large_export_holds_every_visit_once_in_order
);
