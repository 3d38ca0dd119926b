//! Helpers shared by the sync tests: HLCs, wire changes, draining pulls, reading coverage
//! and checking the counters against a recount.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::common::{run_cli, Resp, TestApp, World};

/// Wall-clock Unix milliseconds.
pub fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap()
}

/// HLC text from its parts.
pub fn hlc(ms: u64, counter: u16, node: &str) -> String {
    format!("{ms:013}-{counter:04x}-{node}")
}

/// A device's HLCs, ticking from a fixed start (a little in the past).
pub struct Ticker {
    node: String,
    ms: u64,
    counter: u16,
}

impl Ticker {
    /// HLCs of `node` starting one minute ago.
    pub fn new(node: &str) -> Ticker {
        Ticker {
            node: node.to_owned(),
            ms: now_ms() - 60_000,
            counter: 0,
        }
    }

    /// The next HLC.
    pub fn next(&mut self) -> String {
        self.counter += 1;
        hlc(self.ms, self.counter, &self.node)
    }
}

/// `{"name": {"value", "hlc"}}` with one HLC for all.
pub fn fields(values: &[(&str, Value)], hlc: &str) -> Value {
    let mut map = Map::new();
    for (name, value) in values {
        map.insert(
            (*name).to_owned(),
            json!({"value": value.clone(), "hlc": hlc}),
        );
    }
    Value::Object(map)
}

/// A household change.
pub fn household(id: &str, street: &str, values: &[(&str, Value)], hlc: &str) -> Value {
    json!({"kind": "household", "id": id, "street_id": street, "fields": fields(values, hlc)})
}

/// A visit change.
pub fn visit(
    id: &str,
    street: &str,
    household: &str,
    values: &[(&str, Value)],
    hlc: &str,
) -> Value {
    json!({"kind": "visit", "id": id, "street_id": street, "household_id": household,
           "fields": fields(values, hlc)})
}

/// The fields of a new conclusive visit.
pub fn knock(outcome: &str, at: &str, phones: u32, apps: u32) -> Vec<(&'static str, Value)> {
    vec![
        ("outcome", json!(outcome)),
        ("visited_at", json!(at)),
        ("smartphone_users", json!(phones)),
        ("app_users", json!(apps)),
    ]
}

/// The deterministic id of a house on a street.
pub fn house_id(street: &str, number: &str) -> String {
    sync_protocol::household_id(street.parse().unwrap(), number)
        .unwrap()
        .to_string()
}

/// A fresh random id.
pub fn new_id() -> String {
    Uuid::new_v4().to_string()
}

/// The results of a push as `applied`, `unchanged` or `rejected:<code>`.
#[track_caller]
pub fn statuses(resp: &Resp) -> Vec<String> {
    assert_eq!(resp.status, 200, "push failed: {}", resp.text);
    resp.body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {}", resp.text))
        .iter()
        .map(|r| match r["status"].as_str().unwrap() {
            "rejected" => format!("rejected:{}", r["code"].as_str().unwrap_or("")),
            other => {
                assert!(r.get("code").is_none(), "code on a {other}: {r}");
                other.to_owned()
            }
        })
        .collect()
}

/// Pushes and returns the statuses.
#[track_caller]
pub fn push(
    app: &TestApp,
    token: &str,
    campaign: &str,
    device: &str,
    changes: &[Value],
) -> Vec<String> {
    statuses(&app.push(token, campaign, device, changes))
}

/// What a device holds after pulling to the end.
#[derive(Debug, Default, Clone)]
pub struct Pulled {
    /// Record id → the pulled record (the last version seen).
    pub records: BTreeMap<String, Value>,
    /// The cursors to pull with next.
    pub cursors: Value,
    /// How many pages it took.
    pub pages: usize,
    /// The last answer.
    pub last: Value,
}

impl Pulled {
    /// Record id → `fields`.
    pub fn states(&self) -> BTreeMap<String, Value> {
        self.records
            .iter()
            .map(|(id, r)| (id.clone(), r["fields"].clone()))
            .collect()
    }

    /// The records of one street.
    pub fn on_street(&self, street: &str) -> BTreeMap<String, Value> {
        self.records
            .iter()
            .filter(|(_, r)| r["street_id"] == street)
            .map(|(id, r)| (id.clone(), r["fields"].clone()))
            .collect()
    }
}

/// Pulls with `limit` until `has_more` is false, starting at `cursors`, checking on every
/// page that no record version repeats and seqs rise per bucket.
#[track_caller]
pub fn pull_from(
    app: &TestApp,
    token: &str,
    campaign: &str,
    device: &str,
    cursors: &Value,
    limit: i64,
) -> Pulled {
    let mut pulled = Pulled {
        cursors: cursors.clone(),
        ..Pulled::default()
    };
    let mut seen: BTreeSet<(String, i64)> = BTreeSet::new();
    loop {
        let resp = app
            .pull(token, campaign, device, &pulled.cursors, limit)
            .expect(200);
        let body = resp.body;
        let changes = body["changes"].as_array().unwrap();
        assert!(
            changes.len() as i64 <= limit.clamp(0, 5000),
            "page over the limit"
        );
        let mut last_seq: BTreeMap<String, i64> = BTreeMap::new();
        for change in changes {
            let street = change["street_id"].as_str().unwrap().to_owned();
            let seq = change["seq"].as_i64().unwrap();
            let from = pulled.cursors[&street].as_i64().unwrap_or(0);
            assert!(seq > from, "seq {seq} not after the cursor {from}");
            if let Some(prev) = last_seq.insert(street.clone(), seq) {
                assert!(seq > prev, "seqs not rising in a page: {prev} then {seq}");
            }
            assert!(
                seen.insert((street, seq)),
                "record version repeated: {change}"
            );
            pulled
                .records
                .insert(change["id"].as_str().unwrap().to_owned(), change.clone());
        }
        for (street, seq) in &last_seq {
            assert!(
                body["cursors"][street].as_i64().unwrap() >= *seq,
                "cursor behind a pulled seq"
            );
        }
        pulled.pages += 1;
        pulled.cursors = body["cursors"].clone();
        let more = body["has_more"].as_bool().unwrap();
        pulled.last = body;
        if !more {
            break;
        }
        assert!(limit > 0, "has_more with limit 0 loops forever");
        assert!(pulled.pages < 10_000, "pull never ends");
    }
    pulled
}

/// Pulls everything from the start.
#[track_caller]
pub fn pull_all(app: &TestApp, token: &str, campaign: &str, device: &str, limit: i64) -> Pulled {
    pull_from(app, token, campaign, device, &json!({}), limit)
}

/// Coverage of an area (200).
#[track_caller]
pub fn coverage(app: &TestApp, token: &str, campaign: &str, area: &str) -> Value {
    app.get(
        &format!("/api/v1/campaigns/{campaign}/coverage?area_id={area}"),
        token,
    )
    .expect(200)
    .body
}

/// The five summed figures of a coverage answer.
pub fn figures(coverage: &Value) -> [i64; 5] {
    [
        "households_total",
        "households_attempted",
        "households_reached",
        "smartphone_users",
        "app_users",
    ]
    .map(|k| {
        coverage[k]
            .as_i64()
            .unwrap_or_else(|| panic!("{k} missing in {coverage}"))
    })
}

/// `canvass verify` passes: every counter equals a recount.
#[track_caller]
pub fn assert_verified(app: &TestApp) {
    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    assert!(ok, "verify failed:\n{stdout}\n{stderr}");
}

/// A direct connection to the test's database.
pub fn connect(app: &TestApp) -> canvass_api::db::DbConn {
    canvass_api::db::DbTarget::parse(&app.db.url())
        .unwrap()
        .connect()
        .unwrap()
}

/// Runs SQL directly on the test's database.
pub fn sql(app: &TestApp, statement: &str) {
    use diesel::connection::SimpleConnection;
    connect(app).batch_execute(statement).unwrap();
}

/// The visit list of a campaign with a query string (200).
#[track_caller]
pub fn visits(app: &TestApp, token: &str, campaign: &str, query: &str) -> Value {
    app.get(
        &format!("/api/v1/campaigns/{campaign}/visits?{query}"),
        token,
    )
    .expect(200)
    .body
}

/// Ids of the items of a list answer, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// History of a visit (200).
#[track_caller]
pub fn history(app: &TestApp, token: &str, campaign: &str, visit: &str) -> Vec<Value> {
    history_pages(app, token, campaign, visit, 1000)
        .into_iter()
        .flatten()
        .collect()
}

/// A visit's history page by page, following `next_page_token` to the end.
pub fn history_pages(
    app: &TestApp,
    token: &str,
    campaign: &str,
    visit: &str,
    page_size: usize,
) -> Vec<Vec<Value>> {
    let path = format!("/api/v1/campaigns/{campaign}/visits/{visit}/history?page_size={page_size}");
    let mut pages = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            None => path.clone(),
            Some(t) => format!("{path}&page_token={t}"),
        };
        let body = app.get(&url, token).expect(200).body;
        pages.push(body["items"].as_array().unwrap().clone());
        match body["next_page_token"].as_str() {
            Some(t) => next = Some(t.to_owned()),
            None => return pages,
        }
    }
}

/// Creates a volunteer in a ward and logs it in: (id, token).
pub fn volunteer(app: &TestApp, world: &World, username: &str, ward: &str) -> (String, String) {
    let resp = app
        .post(
            "/api/v1/users",
            &world.admin,
            &json!({"username": username, "password": crate::common::world::PASSWORD,
                    "display_name": username, "role": "volunteer", "area_id": ward}),
        )
        .expect(201);
    let id = resp.body["id"].as_str().unwrap().to_owned();
    (id, app.login(username, crate::common::world::PASSWORD))
}

/// Creates a campaign over an area.
pub fn campaign(
    app: &TestApp,
    world: &World,
    area: &str,
    starts_on: &str,
    deadline: &str,
    target: f64,
) -> String {
    app.post(
        "/api/v1/campaigns",
        &world.admin,
        &json!({"name": "Chiến dịch", "area_id": area, "target_ratio": target,
                "starts_on": starts_on, "deadline": deadline, "timezone": "Asia/Ho_Chi_Minh"}),
    )
    .expect(201)
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Assigns a volunteer to a street in a campaign, returning the assignment id.
pub fn assign(
    app: &TestApp,
    world: &World,
    campaign: &str,
    street: &str,
    volunteer: &str,
) -> String {
    app.post(
        &format!("/api/v1/campaigns/{campaign}/assignments"),
        &world.admin,
        &json!({"street_id": street, "volunteer_id": volunteer}),
    )
    .expect(201)
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Ends an assignment.
pub fn unassign(app: &TestApp, world: &World, campaign: &str, assignment: &str) {
    app.delete(
        &format!("/api/v1/campaigns/{campaign}/assignments/{assignment}"),
        &world.admin,
    )
    .expect(204);
}

/// The id of a live assignment of a volunteer to a street in the world's campaign.
pub fn assignment_of(app: &TestApp, world: &World, street: &str, volunteer: &str) -> String {
    let list = app
        .get(
            &format!(
                "/api/v1/campaigns/{}/assignments?volunteer_id={volunteer}",
                world.campaign
            ),
            &world.admin,
        )
        .expect(200);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["street_id"] == street)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
