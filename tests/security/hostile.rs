//! The hostile-input catalogue: every malformed or malicious request gets a 4xx
//! problem+json with a contract code, never a 5xx; nothing changes; the server stays healthy.

use serde_json::{json, Value};

use crate::common::{Resp, TestApp, World};

const CODES: [&str; 11] = [
    "invalid_json",
    "validation",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "payload_too_large",
    "rate_limited",
    "method_not_allowed",
    "unsupported_media_type",
    "internal",
];

/// One hostile request and the answer the contract gives it.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    token: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

#[allow(clippy::too_many_arguments)]
fn case(
    name: &'static str,
    method: &'static str,
    path: impl Into<String>,
    token: Option<&str>,
    content_type: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        token: token.map(str::to_owned),
        content_type,
        body: body.into(),
        status,
        code,
    }
}

const JSON: Option<&str> = Some("application/json");
const CSV: Option<&str> = Some("text/csv");

fn json_case(
    name: &'static str,
    method: &'static str,
    path: impl Into<String>,
    token: &str,
    body: Value,
    status: u16,
    code: &'static str,
) -> Case {
    case(
        name,
        method,
        path,
        Some(token),
        JSON,
        body.to_string(),
        status,
        code,
    )
}

fn deep_nesting(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// What must not change: users, areas, campaigns, the ward's synced records, coverage.
fn snapshot(app: &TestApp, world: &World) -> Vec<Value> {
    let mut records = app.pull_all(&world.leader1.1, &world.campaign, "snapshot");
    records.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    vec![
        app.get("/api/v1/users", &app.admin).expect(200).body,
        app.get(
            &format!("/api/v1/areas?parent_id={}", world.province),
            &app.admin,
        )
        .expect(200)
        .body,
        app.get("/api/v1/campaigns", &app.admin).expect(200).body,
        app.get(
            &format!("/api/v1/campaigns/{}/assignments", world.campaign),
            &app.admin,
        )
        .expect(200)
        .body,
        Value::Array(
            records
                .into_iter()
                .map(|mut r| {
                    r["seq"] = Value::Null;
                    r
                })
                .collect(),
        ),
        app.get(
            &format!("/api/v1/campaigns/{}/coverage", world.campaign),
            &app.admin,
        )
        .expect(200)
        .body,
        app.get(
            &format!("/api/v1/areas/{}/streets", world.ward1),
            &app.admin,
        )
        .expect(200)
        .body,
    ]
}

fn catalogue(app: &TestApp, world: &World) -> Vec<Case> {
    let admin = app.admin.as_str();
    let volunteer = world.volunteer1.1.as_str();
    let c = &world.campaign;
    let visit_path = format!("/api/v1/campaigns/{c}/visits");
    let big_string = "x".repeat(100_000);
    let household = uuid::Uuid::new_v4();
    let mut cases = vec![
        case("login: not JSON", "POST", "/api/v1/auth/login", None, JSON, "{\"username\":", 400, "invalid_json"),
        case("login: empty body", "POST", "/api/v1/auth/login", None, JSON, "", 400, "invalid_json"),
        case("login: plain text", "POST", "/api/v1/auth/login", None, Some("text/plain"), "admin", 415, "unsupported_media_type"),
        case("login: no content type", "POST", "/api/v1/auth/login", None, None, "{}", 415, "unsupported_media_type"),
        json_case("login: wrong types", "POST", "/api/v1/auth/login", "", json!({"username": 1, "password": 2}), 422, "validation"),
        json_case("login: empty object", "POST", "/api/v1/auth/login", "", json!({}), 422, "validation"),
        json_case("login: array", "POST", "/api/v1/auth/login", "", json!([]), 422, "validation"),
        json_case("login: SQL in username", "POST", "/api/v1/auth/login", "", json!({"username": "admin' OR '1'='1", "password": "x' OR '1'='1"}), 401, "unauthorized"),
        json_case("login: huge username", "POST", "/api/v1/auth/login", "", json!({"username": big_string, "password": "x"}), 401, "unauthorized"),
        case("login: deep nesting", "POST", "/api/v1/auth/login", None, JSON, deep_nesting(100_000), 400, "invalid_json"),
        case("login: invalid UTF-8", "POST", "/api/v1/auth/login", None, JSON, vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'], 400, "invalid_json"),
        json_case("refresh: number token", "POST", "/api/v1/auth/refresh", "", json!({"refresh_token": 5}), 422, "validation"),
        json_case("refresh: unknown token", "POST", "/api/v1/auth/refresh", "", json!({"refresh_token": "forged"}), 401, "unauthorized"),
        case("me: garbage bearer", "GET", "/api/v1/me", Some("garbage"), None, "", 401, "unauthorized"),
        case("me: no token", "GET", "/api/v1/me", None, None, "", 401, "unauthorized"),
        json_case("users: wrong types", "POST", "/api/v1/users", admin, json!({"username": [], "password": {}, "role": 7}), 422, "validation"),
        json_case("users: unknown role", "POST", "/api/v1/users", admin, json!({"username": "x1", "password": "long-enough-1", "role": "emperor", "area_id": world.ward1}), 422, "validation"),
        json_case("users: area not a UUID", "POST", "/api/v1/users", admin, json!({"username": "x2", "password": "long-enough-1", "role": "volunteer", "area_id": "ward-1"}), 422, "validation"),
        json_case("users: short password", "POST", "/api/v1/users", admin, json!({"username": "x3", "password": "short", "role": "volunteer", "area_id": world.ward1}), 422, "validation"),
        json_case("users: username with spaces", "POST", "/api/v1/users", admin, json!({"username": "a b", "password": "long-enough-1", "role": "volunteer", "area_id": world.ward1}), 422, "validation"),
        json_case("users: huge display name", "POST", "/api/v1/users", admin, json!({"username": "x4", "password": "long-enough-1", "display_name": big_string, "role": "volunteer", "area_id": world.ward1}), 422, "validation"),
        json_case("users: volunteer without a ward", "POST", "/api/v1/users", admin, json!({"username": "x5", "password": "long-enough-1", "role": "volunteer", "area_id": null}), 422, "validation"),
        json_case("users: huge password", "POST", "/api/v1/users", admin, json!({"username": "x6", "password": big_string, "role": "volunteer", "area_id": world.ward1}), 422, "validation"),
        json_case("patch user: id not a UUID", "PATCH", "/api/v1/users/not-a-uuid", admin, json!({"display_name": "x"}), 404, "not_found"),
        json_case("patch user: unknown id", "PATCH", format!("/api/v1/users/{}", uuid::Uuid::new_v4()), admin, json!({"display_name": "x"}), 404, "not_found"),
        json_case("patch user: disabled as text", "PATCH", format!("/api/v1/users/{}", world.volunteer2.0), admin, json!({"disabled": "yes"}), 422, "validation"),
        json_case("areas: unknown level", "POST", "/api/v1/areas", admin, json!({"code": "99", "name": "X", "level": "planet"}), 422, "validation"),
        json_case("areas: empty code", "POST", "/api/v1/areas", admin, json!({"code": "", "name": "X", "level": "province"}), 422, "validation"),
        json_case("areas: unknown parent", "POST", "/api/v1/areas", admin, json!({"code": "98", "name": "X", "level": "district", "parent_id": uuid::Uuid::new_v4()}), 422, "validation"),
        json_case("areas: ward under a ward", "POST", "/api/v1/areas", admin, json!({"code": "97", "name": "X", "level": "ward", "parent_id": world.ward1}), 422, "validation"),
        case("areas: huge number code", "POST", "/api/v1/areas", Some(admin), JSON, "{\"code\": 1e400, \"name\": \"X\", \"level\": \"province\"}", 422, "validation"),
        case("areas: path id not a UUID", "GET", "/api/v1/areas/zzz", Some(admin), None, "", 404, "not_found"),
        case("areas: parent_id not a UUID", "GET", "/api/v1/areas?parent_id=zzz", Some(admin), None, "", 422, "validation"),
        case("areas import: JSON content type", "POST", "/api/v1/areas/import", Some(admin), JSON, "code,name,level,parent_code\n", 415, "unsupported_media_type"),
        case("areas import: broken quoting", "POST", "/api/v1/areas/import", Some(admin), CSV, "code,name,level,parent_code\n99,\"Tỉnh X,province,\n", 422, "validation"),
        case("areas import: unknown column", "POST", "/api/v1/areas/import", Some(admin), CSV, "code,name,level,parent_code,color\n99,X,province,,red\n", 422, "validation"),
        case("areas import: short row", "POST", "/api/v1/areas/import", Some(admin), CSV, "code,name,level,parent_code\n99,X\n", 422, "validation"),
        case("areas import: not UTF-8", "POST", "/api/v1/areas/import", Some(admin), CSV, vec![b'c', b'o', b'd', b'e', 0xff, b'\n'], 422, "validation"),
        case("areas import: missing parent", "POST", "/api/v1/areas/import", Some(admin), CSV, "code,name,level,parent_code\n99001,X,ward,424242\n", 422, "validation"),
        case("areas import: changes a level", "POST", "/api/v1/areas/import", Some(admin), CSV, "code,name,level,parent_code\n25741,Phường Hiệp Thành,district,74\n", 422, "validation"),
        case("areas import: duplicate code", "POST", "/api/v1/areas/import", Some(admin), CSV, "code,name,level,parent_code\n99,X,province,\n99,Y,province,\n", 422, "validation"),
        case("areas import: over 64 MiB", "POST", "/api/v1/areas/import", Some(admin), CSV, vec![b'a'; 64 * 1024 * 1024 + 1], 413, "payload_too_large"),
        json_case("streets: ward is a district", "POST", "/api/v1/streets", admin, json!({"ward_id": world.district1, "code": "S-X", "name": "X"}), 422, "validation"),
        json_case("streets: code with spaces", "POST", "/api/v1/streets", admin, json!({"ward_id": world.ward1, "code": "S X", "name": "X"}), 422, "validation"),
        case("streets import: unknown ward", "POST", "/api/v1/streets/import", Some(admin), CSV, "ward_code,code,name\n424242,S-X,X\n", 422, "validation"),
        case("streets import: moves a street", "POST", "/api/v1/streets/import", Some(admin), CSV, "ward_code,code,name\n25744,25741-H12,Moved\n", 422, "validation"),
        case("households import: blank number", "POST", "/api/v1/households/import", Some(admin), CSV, "street_code,house_number\n25741-H12,\"   \"\n25741-H12,5\n", 422, "validation"),
        case("households import: 41 characters", "POST", "/api/v1/households/import", Some(admin), CSV, format!("street_code,house_number\n25741-H12,{}\n", "9".repeat(41)), 422, "validation"),
        case("households import: unknown street", "POST", "/api/v1/households/import", Some(admin), CSV, "street_code,house_number\nNOPE,5\n", 422, "validation"),
        json_case("campaigns: zero target", "POST", "/api/v1/campaigns", admin, json!({"name": "X", "area_id": world.province, "target_ratio": 0, "starts_on": "2020-08-17", "deadline": "2020-08-20"}), 422, "validation"),
        json_case("campaigns: target above 1", "POST", "/api/v1/campaigns", admin, json!({"name": "X", "area_id": world.province, "target_ratio": 1.5, "starts_on": "2020-08-17", "deadline": "2020-08-20"}), 422, "validation"),
        case("campaigns: target out of range", "POST", "/api/v1/campaigns", Some(admin), JSON, format!("{{\"name\":\"X\",\"area_id\":\"{}\",\"target_ratio\":1e400,\"starts_on\":\"2020-08-17\",\"deadline\":\"2020-08-20\"}}", world.province), 422, "validation"),
        json_case("campaigns: date is a word", "POST", "/api/v1/campaigns", admin, json!({"name": "X", "area_id": world.province, "target_ratio": 0.6, "starts_on": "yesterday", "deadline": "2020-08-20"}), 422, "validation"),
        json_case("campaigns: unknown time zone", "POST", "/api/v1/campaigns", admin, json!({"name": "X", "area_id": world.province, "target_ratio": 0.6, "starts_on": "2020-08-17", "deadline": "2020-08-20", "timezone": "Mars/Olympus"}), 422, "validation"),
        json_case("campaigns: deadline first", "POST", "/api/v1/campaigns", admin, json!({"name": "X", "area_id": world.province, "target_ratio": 0.6, "starts_on": "2020-08-21", "deadline": "2020-08-20"}), 422, "validation"),
        case("campaigns: id not a UUID", "GET", "/api/v1/campaigns/123", Some(admin), None, "", 404, "not_found"),
        json_case("assignments: volunteer not a UUID", "POST", format!("/api/v1/campaigns/{c}/assignments"), admin, json!({"street_id": world.street2, "volunteer_id": "lan"}), 422, "validation"),
        case("assignments: delete id not a UUID", "DELETE", format!("/api/v1/campaigns/{c}/assignments/abc"), Some(admin), None, "", 404, "not_found"),
        case("unassigned: ward not a UUID", "GET", format!("/api/v1/campaigns/{c}/streets/unassigned?ward_id=bad"), Some(admin), None, "", 422, "validation"),
        case("push: not JSON", "POST", "/api/v1/sync/push", Some(volunteer), JSON, "{\"campaign_id\": ", 400, "invalid_json"),
        json_case("push: changes not an array", "POST", "/api/v1/sync/push", volunteer, json!({"campaign_id": c, "device_id": "p", "changes": {}}), 422, "validation"),
        json_case("push: change is a number", "POST", "/api/v1/sync/push", volunteer, json!({"campaign_id": c, "device_id": "p", "changes": [1]}), 422, "validation"),
        json_case("push: device id with a space", "POST", "/api/v1/sync/push", volunteer, json!({"campaign_id": c, "device_id": "my phone", "changes": []}), 422, "validation"),
        json_case("push: device id of 65 characters", "POST", "/api/v1/sync/push", volunteer, json!({"campaign_id": c, "device_id": "p".repeat(65), "changes": []}), 422, "validation"),
        json_case("push: unknown campaign", "POST", "/api/v1/sync/push", volunteer, json!({"campaign_id": uuid::Uuid::new_v4(), "device_id": "p", "changes": []}), 404, "not_found"),
        json_case("push: 1001 changes", "POST", "/api/v1/sync/push", volunteer, json!({"campaign_id": c, "device_id": "p", "changes": vec![json!({}); 1001]}), 413, "payload_too_large"),
        case("push: over 2 MiB", "POST", "/api/v1/sync/push", Some(volunteer), JSON, format!("{{\"campaign_id\":\"{c}\",\"device_id\":\"p\",\"changes\":[],\"pad\":\"{}\"}}", "x".repeat(2 * 1024 * 1024)), 413, "payload_too_large"),
        case("push: form encoded", "POST", "/api/v1/sync/push", Some(volunteer), Some("application/x-www-form-urlencoded"), "a=b", 415, "unsupported_media_type"),
        json_case("pull: negative limit", "POST", "/api/v1/sync/pull", volunteer, json!({"campaign_id": c, "device_id": "p", "cursors": {}, "limit": -1}), 422, "validation"),
        json_case("pull: limit as text", "POST", "/api/v1/sync/pull", volunteer, json!({"campaign_id": c, "device_id": "p", "cursors": {}, "limit": "lots"}), 422, "validation"),
        json_case("pull: cursor key not a UUID", "POST", "/api/v1/sync/pull", volunteer, json!({"campaign_id": c, "device_id": "p", "cursors": {"x": 1}}), 422, "validation"),
        json_case("pull: negative cursor", "POST", "/api/v1/sync/pull", volunteer, json!({"campaign_id": c, "device_id": "p", "cursors": {world.street1.clone(): -5}}), 422, "validation"),
        json_case("pull: cursors as a list", "POST", "/api/v1/sync/pull", volunteer, json!({"campaign_id": c, "device_id": "p", "cursors": [1, 2]}), 422, "validation"),
        case("visits: page size 0", "GET", format!("{visit_path}?page_size=0"), Some(admin), None, "", 422, "validation"),
        case("visits: page size 1001", "GET", format!("{visit_path}?page_size=1001"), Some(admin), None, "", 422, "validation"),
        case("visits: forged page token", "GET", format!("{visit_path}?page_token=garbage"), Some(admin), None, "", 422, "validation"),
        case("visits: unknown outcome", "GET", format!("{visit_path}?outcome=exploded"), Some(admin), None, "", 422, "validation"),
        case("history: visit id not a UUID", "GET", format!("{visit_path}/bad/history"), Some(admin), None, "", 404, "not_found"),
        case("history: unknown visit", "GET", format!("{visit_path}/{household}/history"), Some(admin), None, "", 404, "not_found"),
        case("coverage: area not a UUID", "GET", format!("/api/v1/campaigns/{c}/coverage?area_id=bad"), Some(admin), None, "", 422, "validation"),
        case("progress: month 13", "GET", format!("/api/v1/campaigns/{c}/progress?from=2020-13-01"), Some(admin), None, "", 422, "validation"),
        case("progress: two years", "GET", format!("/api/v1/campaigns/{c}/progress?from=2020-01-01&to=2022-01-01"), Some(admin), None, "", 422, "validation"),
        case("progress: backwards", "GET", format!("/api/v1/campaigns/{c}/progress?from=2020-08-20&to=2020-08-17"), Some(admin), None, "", 422, "validation"),
        case("unknown route", "GET", "/api/v1/nothing-here", Some(admin), None, "", 404, "not_found"),
        case("wrong method", "PUT", "/api/v1/me", Some(admin), JSON, "{}", 405, "method_not_allowed"),
        case("path traversal", "GET", "/api/v1/areas/..%2F..%2Fetc%2Fpasswd", Some(admin), None, "", 404, "not_found"),
        case("query injection", "GET", "/api/v1/users?role=admin'--", Some(admin), None, "", 422, "validation"),
    ];
    cases.push(case(
        "users: XML",
        "POST",
        "/api/v1/users",
        Some(admin),
        Some("application/xml"),
        "<user/>",
        415,
        "unsupported_media_type",
    ));
    cases
}

fn send(app: &TestApp, case: &Case) -> Resp {
    app.send(
        case.method,
        &case.path,
        case.token.as_deref(),
        case.content_type,
        (!case.body.is_empty() || case.content_type.is_some()).then_some(case.body.as_slice()),
    )
}

pub fn hostile_requests_get_a_precise_4xx_and_change_nothing(app: TestApp) {
    let world = World::build(&app);
    let household =
        sync_protocol::household_id(uuid::Uuid::parse_str(&world.street1).unwrap(), "7").unwrap();
    app.push(
        &world.volunteer1.1,
        &world.campaign,
        "phone-lan",
        &[json!({
        "kind": "household", "id": household, "street_id": world.street1,
        "fields": {"house_number": {"value": "7", "hlc": "1597742400000-0000-phone-lan"}}})],
    )
    .expect(200);
    let before = snapshot(&app, &world);
    let cases = catalogue(&app, &world);
    assert!(cases.len() >= 60, "the catalogue has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let resp = send(&app, case);
        let problem = resp.content_type.starts_with("application/problem+json");
        if resp.status != case.status
            || resp.code() != case.code
            || !problem
            || !CODES.contains(&resp.code())
        {
            failures.push(format!(
                "{}: {} {} → {} {}",
                case.name,
                case.method,
                case.path.chars().take(80).collect::<String>(),
                resp.status,
                resp.text.chars().take(200).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile requests were answered wrongly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(app.get("/healthz", "").status, 200);
    assert_eq!(
        snapshot(&app, &world),
        before,
        "a refused request changed something"
    );
    let (ok, out, err) = crate::common::run_cli(&app.db, &["verify"]);
    assert!(ok, "{out}{err}");
}

/// Field-level hostility inside a valid push: each change is refused on its own with a
/// contract code, and the valid change beside them applies.
pub fn hostile_changes_are_rejected_one_by_one(app: TestApp) {
    let world = World::build(&app);
    let street = world.street1.clone();
    let household = sync_protocol::household_id(uuid::Uuid::parse_str(&street).unwrap(), "9")
        .unwrap()
        .to_string();
    let hlc = "1597742400000-0000-phone-lan";
    let visit = |fields: Value| json!({"kind": "visit", "id": uuid::Uuid::new_v4(), "street_id": street, "household_id": household, "fields": fields});
    let base = |extra: (&str, Value)| {
        let mut fields = json!({"outcome": {"value": "declined", "hlc": hlc}, "visited_at": {"value": "2020-08-18T09:30:00+07:00", "hlc": hlc},
                                "smartphone_users": {"value": 2, "hlc": hlc}, "app_users": {"value": 0, "hlc": hlc}});
        fields[extra.0] = json!({"value": extra.1, "hlc": hlc});
        visit(fields)
    };
    let hostile = vec![
        base(("smartphone_users", json!(-1))),
        base(("smartphone_users", json!(51))),
        base(("smartphone_users", json!(2.5))),
        base(("smartphone_users", json!("2"))),
        base(("smartphone_users", json!(1e300))),
        base(("outcome", json!("maybe"))),
        base(("visited_at", json!("tomorrow"))),
        base(("visited_at", json!("3020-08-18T09:30:00+07:00"))),
        base(("note", json!("n".repeat(501)))),
        base(("lat", json!(91))),
        base(("lon", json!("east"))),
        base(("accuracy_m", json!(-3))),
        base(("review", json!("verified"))),
        base(("colour", json!("red"))),
        base(("outcome", Value::Null)),
        json!({"kind": "car", "id": uuid::Uuid::new_v4(), "street_id": street, "fields": {}}),
        json!({"kind": "visit", "id": "1", "street_id": street, "household_id": household, "fields": {}}),
        json!({"kind": "household", "id": uuid::Uuid::new_v4(), "street_id": "", "fields": {"house_number": {"value": "1", "hlc": hlc}}}),
        json!({"kind": "household", "id": uuid::Uuid::new_v4(), "street_id": street, "fields": []}),
        json!({"kind": "household", "id": uuid::Uuid::new_v4(), "street_id": street, "fields": {"house_number": {"value": "1", "hlc": "1597742400000-00FF-phone"}}}),
        json!({"kind": "household", "id": uuid::Uuid::new_v4(), "street_id": street, "fields": {"house_number": {"value": "1", "hlc": "yesterday"}}}),
        json!({"kind": "household", "id": uuid::Uuid::new_v4(), "street_id": street, "fields": {"house_number": {"value": "1", "hlc": "9999999999999-0000-phone"}}}),
        json!({"kind": "household", "id": uuid::Uuid::new_v4(), "street_id": uuid::Uuid::new_v4(), "fields": {"house_number": {"value": "1", "hlc": hlc}}}),
        json!({"kind": "household", "id": uuid::Uuid::new_v4(), "street_id": world.street4, "fields": {"house_number": {"value": "1", "hlc": hlc}}}),
        json!({"kind": "household", "id": uuid::Uuid::new_v4(), "street_id": street, "fields": {"house_number": {"value": "\u{3000} \t", "hlc": hlc}}}),
    ];
    let mut changes = vec![
        json!({"kind": "household", "id": household, "street_id": street,
                                  "fields": {"house_number": {"value": "9", "hlc": hlc}}}),
    ];
    changes.extend(hostile.iter().cloned());
    let reply = app
        .push(&world.volunteer1.1, &world.campaign, "phone-lan", &changes)
        .expect(200);
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!(results.len(), changes.len());
    assert_eq!(
        results[0]["status"], "applied",
        "the valid change must not be blocked"
    );
    let rejection_codes = [
        "validation",
        "not_assigned",
        "forbidden_field",
        "immutable_field",
        "unknown_street",
        "unknown_household",
        "unknown_record",
        "clock_skew",
        "kind_mismatch",
    ];
    for (change, result) in changes.iter().zip(results).skip(1) {
        assert_eq!(result["status"], "rejected", "accepted: {change}");
        assert!(
            rejection_codes.contains(&result["code"].as_str().unwrap_or("")),
            "{result}"
        );
    }
    let pulled = app.pull_all(&world.volunteer1.1, &world.campaign, "phone-lan");
    assert_eq!(
        pulled.len(),
        1,
        "only the valid household exists: {pulled:?}"
    );
    assert_eq!(app.get("/healthz", "").status, 200);
}

crate::both_backends!(
    hostile_requests_get_a_precise_4xx_and_change_nothing,
    hostile_changes_are_rejected_one_by_one
);
