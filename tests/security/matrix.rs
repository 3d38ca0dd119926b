//! The permission matrix of contract section 11: every endpoint × every role × inside and
//! outside the caller's area scope → the status the contract gives. The endpoint list is
//! checked against the server's own OpenAPI document, so an endpoint without a row here
//! fails the test.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::{TestApp, World};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Supervisor,
    WardLeader,
    Volunteer,
}

const ROLES: [Role; 4] = [
    Role::Admin,
    Role::Supervisor,
    Role::WardLeader,
    Role::Volunteer,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    In,
    Out,
}

/// A request: method, path, and a JSON or CSV body.
struct Call {
    method: &'static str,
    path: String,
    json: Option<Value>,
    csv: Option<String>,
}

fn get(path: String) -> Call {
    Call {
        method: "GET",
        path,
        json: None,
        csv: None,
    }
}
fn post(path: String, body: Value) -> Call {
    Call {
        method: "POST",
        path,
        json: Some(body),
        csv: None,
    }
}
fn csv(path: &str, body: String) -> Call {
    Call {
        method: "POST",
        path: path.to_owned(),
        json: None,
        csv: Some(body),
    }
}

/// The world plus what the matrix needs on both sides of every scope line.
struct Fixture {
    world: World,
    /// A volunteer of ward 3 (outside district 1 and ward 1).
    volunteer4: String,
    /// A visit by volunteer 1 on street 1 (ward 1).
    visit_in: String,
    /// A visit by the admin on street 4 (ward 3).
    visit_out: String,
    counter: std::cell::Cell<u32>,
}

impl Fixture {
    fn unique(&self, prefix: &str) -> String {
        self.counter.set(self.counter.get() + 1);
        format!("{prefix}{}", self.counter.get())
    }

    fn ward(&self, scope: Scope) -> &str {
        match scope {
            Scope::In => &self.world.ward1,
            Scope::Out => &self.world.ward3,
        }
    }

    fn ward_code(scope: Scope) -> &'static str {
        match scope {
            Scope::In => "25741",
            Scope::Out => "25813",
        }
    }

    fn token(&self, role: Role) -> &str {
        match role {
            Role::Admin => &self.world.admin,
            Role::Supervisor => &self.world.supervisor_d1.1,
            Role::WardLeader => &self.world.leader1.1,
            Role::Volunteer => &self.world.volunteer1.1,
        }
    }

    /// A fresh street in the scope's ward, made by the admin.
    fn fresh_street(&self, app: &TestApp, scope: Scope) -> String {
        let code = self.unique("M-");
        app.post(
            "/api/v1/streets",
            &self.world.admin,
            &json!({"ward_id": self.ward(scope), "code": code, "name": code}),
        )
        .expect(201)
        .body["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn volunteer_of(&self, scope: Scope) -> &str {
        match scope {
            Scope::In => &self.world.volunteer2.0,
            Scope::Out => &self.volunteer4,
        }
    }
}

fn visit_change(street: &str, household: &str, hlc: &str) -> Vec<Value> {
    vec![
        json!({"kind": "household", "id": household, "street_id": street,
               "fields": {"house_number": {"value": "1", "hlc": hlc}}}),
        json!({"kind": "visit", "id": uuid::Uuid::new_v4(), "street_id": street, "household_id": household,
               "fields": {"outcome": {"value": "installed_now", "hlc": hlc},
                          "visited_at": {"value": "2020-08-18T09:30:00+07:00", "hlc": hlc},
                          "smartphone_users": {"value": 2, "hlc": hlc}, "app_users": {"value": 1, "hlc": hlc}}}),
    ]
}

fn setup(app: &TestApp) -> Fixture {
    let world = World::build(app);
    let volunteer4 = app
        .post(
            "/api/v1/users",
            &world.admin,
            &json!({"username": "tnv.ward3", "password": "mat-khau-123",
              "display_name": "W3", "role": "volunteer", "area_id": world.ward3}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hlc = "1597742400000-0000-phone";
    let h_in = sync_protocol::household_id(uuid::Uuid::parse_str(&world.street1).unwrap(), "1")
        .unwrap()
        .to_string();
    let h_out = sync_protocol::household_id(uuid::Uuid::parse_str(&world.street4).unwrap(), "1")
        .unwrap()
        .to_string();
    let changes_in = visit_change(&world.street1, &h_in, hlc);
    let changes_out = visit_change(&world.street4, &h_out, hlc);
    for (token, changes) in [
        (&world.volunteer1.1, &changes_in),
        (&world.admin, &changes_out),
    ] {
        let reply = app
            .push(token, &world.campaign, "phone", changes)
            .expect(200);
        for result in reply.body["results"].as_array().unwrap() {
            assert_eq!(result["status"], "applied", "{result}");
        }
    }
    Fixture {
        visit_in: changes_in[1]["id"].as_str().unwrap().to_owned(),
        visit_out: changes_out[1]["id"].as_str().unwrap().to_owned(),
        world,
        volunteer4,
        counter: std::cell::Cell::new(0),
    }
}

type Build = fn(&TestApp, &Fixture, Role, Scope) -> Call;

/// One endpoint: its OpenAPI key, how to call it, and the expected status per role
/// (admin, supervisor, ward leader, volunteer) inside and outside the caller's scope.
struct Row {
    endpoint: &'static str,
    build: Build,
    expect: [(u16, u16); 4],
}

const ALL_200: [(u16, u16); 4] = [(200, 200); 4];
const ADMIN_ONLY_201: [(u16, u16); 4] = [(201, 201), (403, 403), (403, 403), (403, 403)];
const WARD_WRITE_201: [(u16, u16); 4] = [(201, 201), (403, 403), (201, 403), (403, 403)];
const WARD_WRITE_200: [(u16, u16); 4] = [(200, 200), (403, 403), (200, 403), (403, 403)];
const SCOPED_READ: [(u16, u16); 4] = [(200, 200), (200, 403), (200, 403), (403, 403)];
const SCOPED_READ_OWN: [(u16, u16); 4] = [(200, 200), (200, 403), (200, 403), (200, 403)];

fn rows() -> Vec<Row> {
    vec![
        Row {
            endpoint: "GET /api/v1/me",
            build: |_, _, _, _| get("/api/v1/me".into()),
            expect: ALL_200,
        },
        Row {
            endpoint: "POST /api/v1/auth/logout",
            build: |_, _, _, _| {
                post(
                    "/api/v1/auth/logout".into(),
                    json!({"refresh_token": "unknown"}),
                )
            },
            expect: [(204, 204); 4],
        },
        Row {
            endpoint: "POST /api/v1/users",
            build: |_, f, _, s| {
                post(
                    "/api/v1/users".into(),
                    json!({"username": f.unique("u"), "password": "mat-khau-123",
                "role": "volunteer", "area_id": f.ward(s)}),
                )
            },
            expect: WARD_WRITE_201,
        },
        Row {
            endpoint: "GET /api/v1/users",
            build: |_, f, _, s| get(format!("/api/v1/users?area_id={}", f.ward(s))),
            expect: SCOPED_READ,
        },
        Row {
            endpoint: "PATCH /api/v1/users/{id}",
            build: |_, f, role, s| {
                let target = match (role, s) {
                    (Role::Volunteer, Scope::In) => f.world.volunteer1.0.clone(),
                    (Role::Volunteer, Scope::Out) => f.world.volunteer2.0.clone(),
                    (_, Scope::In) => f.world.volunteer2.0.clone(),
                    (_, Scope::Out) => f.volunteer4.clone(),
                };
                Call {
                    method: "PATCH",
                    path: format!("/api/v1/users/{target}"),
                    json: Some(json!({"display_name": "Renamed"})),
                    csv: None,
                }
            },
            expect: [(200, 200), (403, 403), (200, 403), (200, 403)],
        },
        Row {
            endpoint: "POST /api/v1/areas",
            build: |_, f, _, _| {
                post(
                    "/api/v1/areas".into(),
                    json!({"code": f.unique("P"), "name": "X", "level": "province"}),
                )
            },
            expect: ADMIN_ONLY_201,
        },
        Row {
            endpoint: "POST /api/v1/areas/import",
            build: |_, f, _, _| {
                csv(
                    "/api/v1/areas/import",
                    format!(
                        "code,name,level,parent_code\n{},X,province,\n",
                        f.unique("Q")
                    ),
                )
            },
            expect: [(200, 200), (403, 403), (403, 403), (403, 403)],
        },
        Row {
            endpoint: "GET /api/v1/areas",
            build: |_, _, _, _| get("/api/v1/areas".into()),
            expect: ALL_200,
        },
        Row {
            endpoint: "GET /api/v1/areas/{id}",
            build: |_, f, _, s| get(format!("/api/v1/areas/{}", f.ward(s))),
            expect: ALL_200,
        },
        Row {
            endpoint: "GET /api/v1/areas/{id}/streets",
            build: |_, f, _, s| get(format!("/api/v1/areas/{}/streets", f.ward(s))),
            expect: ALL_200,
        },
        Row {
            endpoint: "POST /api/v1/streets",
            build: |_, f, _, s| {
                post(
                    "/api/v1/streets".into(),
                    json!({"ward_id": f.ward(s), "code": f.unique("S-"), "name": "X"}),
                )
            },
            expect: WARD_WRITE_201,
        },
        Row {
            endpoint: "POST /api/v1/streets/import",
            build: |_, f, _, s| {
                csv(
                    "/api/v1/streets/import",
                    format!(
                        "ward_code,code,name\n{},{},X\n",
                        Fixture::ward_code(s),
                        f.unique("T-")
                    ),
                )
            },
            expect: WARD_WRITE_200,
        },
        Row {
            endpoint: "POST /api/v1/households/import",
            build: |_, f, _, s| {
                let street = if s == Scope::In {
                    "25741-H12"
                } else {
                    "25813-H1"
                };
                csv(
                    "/api/v1/households/import",
                    format!("street_code,house_number\n{street},{}\n", f.unique("")),
                )
            },
            expect: WARD_WRITE_200,
        },
        Row {
            endpoint: "POST /api/v1/campaigns",
            build: |_, f, _, _| {
                post(
                    "/api/v1/campaigns".into(),
                    json!({"name": "X", "area_id": f.world.province, "target_ratio": 0.5,
                "starts_on": "2021-07-01", "deadline": "2021-07-31"}),
                )
            },
            expect: ADMIN_ONLY_201,
        },
        Row {
            endpoint: "GET /api/v1/campaigns",
            build: |_, _, _, _| get("/api/v1/campaigns".into()),
            expect: ALL_200,
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{id}",
            build: |_, f, _, _| get(format!("/api/v1/campaigns/{}", f.world.campaign)),
            expect: ALL_200,
        },
        Row {
            endpoint: "POST /api/v1/campaigns/{cid}/assignments",
            build: |app, f, _, s| {
                let street = f.fresh_street(app, s);
                post(
                    format!("/api/v1/campaigns/{}/assignments", f.world.campaign),
                    json!({"street_id": street, "volunteer_id": f.volunteer_of(s)}),
                )
            },
            expect: WARD_WRITE_201,
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/assignments",
            build: |_, f, role, s| match (role, s) {
                (Role::Volunteer, Scope::In) => get(format!(
                    "/api/v1/campaigns/{}/assignments",
                    f.world.campaign
                )),
                (Role::Volunteer, Scope::Out) => get(format!(
                    "/api/v1/campaigns/{}/assignments?volunteer_id={}",
                    f.world.campaign, f.world.volunteer2.0
                )),
                _ => get(format!(
                    "/api/v1/campaigns/{}/assignments?ward_id={}",
                    f.world.campaign,
                    f.ward(s)
                )),
            },
            expect: SCOPED_READ_OWN,
        },
        Row {
            endpoint: "DELETE /api/v1/campaigns/{cid}/assignments/{id}",
            build: |app, f, _, s| {
                let street = f.fresh_street(app, s);
                let made = f.world.assign(app, &street, f.volunteer_of(s));
                Call {
                    method: "DELETE",
                    path: format!(
                        "/api/v1/campaigns/{}/assignments/{}",
                        f.world.campaign,
                        made["id"].as_str().unwrap()
                    ),
                    json: None,
                    csv: None,
                }
            },
            expect: [(204, 204), (403, 403), (204, 403), (403, 403)],
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/streets/unassigned",
            build: |_, f, _, s| {
                get(format!(
                    "/api/v1/campaigns/{}/streets/unassigned?ward_id={}",
                    f.world.campaign,
                    f.ward(s)
                ))
            },
            expect: WARD_WRITE_200,
        },
        Row {
            endpoint: "POST /api/v1/sync/push",
            build: |_, f, _, _| {
                post(
                    "/api/v1/sync/push".into(),
                    json!({"campaign_id": f.world.campaign, "device_id": "m", "changes": []}),
                )
            },
            expect: [(200, 200), (403, 403), (200, 200), (200, 200)],
        },
        Row {
            endpoint: "POST /api/v1/sync/pull",
            build: |_, f, _, _| {
                post(
                    "/api/v1/sync/pull".into(),
                    json!({"campaign_id": f.world.campaign, "device_id": "m", "cursors": {}}),
                )
            },
            expect: [(403, 403), (403, 403), (200, 200), (200, 200)],
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/visits",
            build: |_, f, role, s| match (role, s) {
                (Role::Volunteer, Scope::In) => {
                    get(format!("/api/v1/campaigns/{}/visits", f.world.campaign))
                }
                (Role::Volunteer, Scope::Out) => get(format!(
                    "/api/v1/campaigns/{}/visits?volunteer_id={}",
                    f.world.campaign, f.world.volunteer3.0
                )),
                _ => get(format!(
                    "/api/v1/campaigns/{}/visits?ward_id={}",
                    f.world.campaign,
                    f.ward(s)
                )),
            },
            expect: SCOPED_READ_OWN,
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/visits.csv",
            build: |_, f, role, s| match (role, s) {
                (Role::Volunteer, Scope::In) => {
                    get(format!("/api/v1/campaigns/{}/visits.csv", f.world.campaign))
                }
                (Role::Volunteer, Scope::Out) => get(format!(
                    "/api/v1/campaigns/{}/visits.csv?volunteer_id={}",
                    f.world.campaign, f.world.volunteer3.0
                )),
                _ => get(format!(
                    "/api/v1/campaigns/{}/visits.csv?ward_id={}",
                    f.world.campaign,
                    f.ward(s)
                )),
            },
            expect: SCOPED_READ_OWN,
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/visits.geojson",
            build: |_, f, role, s| match (role, s) {
                (Role::Volunteer, Scope::In) => get(format!(
                    "/api/v1/campaigns/{}/visits.geojson",
                    f.world.campaign
                )),
                (Role::Volunteer, Scope::Out) => get(format!(
                    "/api/v1/campaigns/{}/visits.geojson?volunteer_id={}",
                    f.world.campaign, f.world.volunteer3.0
                )),
                _ => get(format!(
                    "/api/v1/campaigns/{}/visits.geojson?ward_id={}",
                    f.world.campaign,
                    f.ward(s)
                )),
            },
            expect: SCOPED_READ_OWN,
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/visits/{id}/history",
            build: |_, f, _, s| {
                let visit = if s == Scope::In {
                    &f.visit_in
                } else {
                    &f.visit_out
                };
                get(format!(
                    "/api/v1/campaigns/{}/visits/{visit}/history",
                    f.world.campaign
                ))
            },
            expect: SCOPED_READ_OWN,
        },
        Row {
            endpoint: "POST /api/v1/campaigns/{cid}/visits/{id}/review",
            build: |_, f, _, s| {
                let visit = if s == Scope::In {
                    &f.visit_in
                } else {
                    &f.visit_out
                };
                post(
                    format!(
                        "/api/v1/campaigns/{}/visits/{visit}/review",
                        f.world.campaign
                    ),
                    json!({"review": "verified"}),
                )
            },
            expect: [(200, 200), (403, 403), (200, 403), (403, 403)],
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/coverage",
            build: |_, f, _, s| {
                get(format!(
                    "/api/v1/campaigns/{}/coverage?area_id={}",
                    f.world.campaign,
                    f.ward(s)
                ))
            },
            expect: SCOPED_READ_OWN,
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/coverage.csv",
            build: |_, f, _, s| {
                get(format!(
                    "/api/v1/campaigns/{}/coverage.csv?area_id={}",
                    f.world.campaign,
                    f.ward(s)
                ))
            },
            expect: SCOPED_READ_OWN,
        },
        Row {
            endpoint: "GET /api/v1/campaigns/{cid}/progress",
            build: |_, f, _, s| {
                get(format!(
                    "/api/v1/campaigns/{}/progress?area_id={}&from=2020-08-17&to=2020-08-20",
                    f.world.campaign,
                    f.ward(s)
                ))
            },
            expect: SCOPED_READ_OWN,
        },
    ]
}

/// Endpoints that take no token at all (tested in the api and security suites).
const PUBLIC: [&str; 6] = [
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "GET /api/v1/openapi.json",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
];

fn every_endpoint_answers_every_role_as_section_11_says(app: TestApp) {
    let fixture = setup(&app);
    let rows = rows();
    let documented: BTreeSet<String> = {
        let spec = app.get("/api/v1/openapi.json", "").expect(200).body;
        let mut keys = BTreeSet::new();
        for (path, operations) in spec["paths"].as_object().unwrap() {
            for method in operations.as_object().unwrap().keys() {
                keys.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
        keys
    };
    let covered: BTreeSet<String> = rows
        .iter()
        .map(|r| r.endpoint.to_owned())
        .chain(PUBLIC.iter().map(|p| (*p).to_owned()))
        .collect();
    let missing: Vec<&String> = documented.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "endpoints without a permission rule in the matrix: {missing:?}"
    );
    let stale: Vec<&String> = covered.difference(&documented).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for endpoints the server does not document: {stale:?}"
    );

    let mut failures = Vec::new();
    for row in &rows {
        for (index, role) in ROLES.iter().enumerate() {
            for scope in [Scope::In, Scope::Out] {
                let call = (row.build)(&app, &fixture, *role, scope);
                let token = fixture.token(*role);
                let resp = match (&call.json, &call.csv) {
                    (Some(body), _) => {
                        let bytes = serde_json::to_vec(body).unwrap();
                        app.send(
                            call.method,
                            &call.path,
                            Some(token),
                            Some("application/json"),
                            Some(&bytes),
                        )
                    }
                    (None, Some(text)) => app.send(
                        call.method,
                        &call.path,
                        Some(token),
                        Some("text/csv"),
                        Some(text.as_bytes()),
                    ),
                    (None, None) => app.send(call.method, &call.path, Some(token), None, None),
                };
                let want = if scope == Scope::In {
                    row.expect[index].0
                } else {
                    row.expect[index].1
                };
                if resp.status != want {
                    failures.push(format!(
                        "{} as {role:?} ({scope:?}): want {want}, got {} {}",
                        row.endpoint,
                        resp.status,
                        resp.text.chars().take(160).collect::<String>()
                    ));
                }
                if resp.status == 403 {
                    assert_eq!(resp.code(), "forbidden", "{}", resp.text);
                }
            }
        }
        // No token at all is 401 everywhere but the public endpoints.
        let call = (row.build)(&app, &fixture, Role::Admin, Scope::In);
        let resp = app.send(
            call.method,
            &call.path,
            None,
            Some("application/json"),
            call.json
                .as_ref()
                .map(|b| b.to_string().into_bytes())
                .as_deref(),
        );
        if resp.status != 401 {
            failures.push(format!(
                "{} without a token: want 401, got {}",
                row.endpoint, resp.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ from section 11:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

crate::both_backends!(every_endpoint_answers_every_role_as_section_11_says);
