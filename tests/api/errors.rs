//! Contract section 2 and the bad inputs of section 12: problem+json everywhere, the codes
//! for malformed and misshapen bodies, wrong content types, unknown routes and methods,
//! malformed path ids, and the order in which a request is judged.

use serde_json::json;

use crate::common::{Resp, TestApp, World};
use crate::support::{items, post_raw};

/// Every JSON-taking endpoint of sections 3–5, as (method, path) for an admin.
fn json_endpoints(world: &World) -> Vec<(&'static str, String)> {
    vec![
        ("POST", "/api/v1/auth/login".to_owned()),
        ("POST", "/api/v1/auth/refresh".to_owned()),
        ("POST", "/api/v1/auth/logout".to_owned()),
        ("POST", "/api/v1/users".to_owned()),
        ("PATCH", format!("/api/v1/users/{}", world.volunteer1.0)),
        ("POST", "/api/v1/areas".to_owned()),
        ("POST", "/api/v1/streets".to_owned()),
        ("POST", "/api/v1/campaigns".to_owned()),
        (
            "POST",
            format!("/api/v1/campaigns/{}/assignments", world.campaign),
        ),
    ]
}

fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> Resp {
    app.send(
        method,
        path,
        token,
        Some(content_type),
        Some(body.as_bytes()),
    )
}

#[track_caller]
fn expect(resp: Resp, status: u16, code: &str, what: &str) {
    assert_eq!(resp.status, status, "{what}: {}", resp.text);
    resp.expect_problem(status, code);
}

fn malformed_json_is_400_invalid_json_on_every_json_endpoint(app: TestApp) {
    let world = World::build(&app);
    for (method, path) in json_endpoints(&world) {
        for body in [
            "{\"username\": ",
            "not json",
            "",
            "{\"a\": 1,}",
            "{'a': 1}",
            "[1, 2",
        ] {
            let resp = send(
                &app,
                method,
                &path,
                Some(&app.admin),
                "application/json",
                body,
            );
            expect(
                resp,
                400,
                "invalid_json",
                &format!("{method} {path} with {body:?}"),
            );
        }
    }
}

fn json_of_the_wrong_shape_is_422_validation(app: TestApp) {
    let world = World::build(&app);
    for (method, path) in json_endpoints(&world) {
        for body in [
            "[]",
            "null",
            "42",
            "\"text\"",
            "{\"refresh_token\": 5, \"username\": [], \"street_id\": {}}",
        ] {
            let resp = send(
                &app,
                method,
                &path,
                Some(&app.admin),
                "application/json",
                body,
            );
            expect(
                resp,
                422,
                "validation",
                &format!("{method} {path} with {body}"),
            );
        }
    }
    for body in [
        json!({"username": "x"}),
        json!({"username": 5, "password": "x"}),
        json!({"username": "admin", "password": null}),
    ] {
        let resp = post_raw(
            &app,
            "/api/v1/auth/login",
            None,
            "application/json",
            &body.to_string(),
        );
        expect(resp, 422, "validation", &format!("login with {body}"));
    }
    let resp = send(
        &app,
        "POST",
        "/api/v1/areas",
        Some(&app.admin),
        "application/json",
        "{\"code\": 1e999}",
    );
    expect(resp, 422, "validation", "a number JSON cannot hold");
}

fn a_body_that_is_not_json_is_415(app: TestApp) {
    let world = World::build(&app);
    for (method, path) in json_endpoints(&world) {
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "text/csv",
        ] {
            let resp = send(&app, method, &path, Some(&app.admin), content_type, "{}");
            expect(
                resp,
                415,
                "unsupported_media_type",
                &format!("{method} {path} as {content_type}"),
            );
        }
        let resp = app.send(method, &path, Some(&app.admin), None, Some(b"{}"));
        expect(
            resp,
            415,
            "unsupported_media_type",
            &format!("{method} {path} without a content type"),
        );
    }
    for path in [
        "/api/v1/areas/import",
        "/api/v1/streets/import",
        "/api/v1/households/import",
    ] {
        for content_type in ["application/json", "text/plain"] {
            let resp = send(
                &app,
                "POST",
                path,
                Some(&app.admin),
                content_type,
                "code,name,level,parent_code\n",
            );
            expect(
                resp,
                415,
                "unsupported_media_type",
                &format!("{path} as {content_type}"),
            );
        }
    }
    // Parameters of the media type are fine.
    let login = json!({"username": "admin", "password": crate::common::ADMIN_PASSWORD}).to_string();
    post_raw(
        &app,
        "/api/v1/auth/login",
        None,
        "application/json; charset=utf-8",
        &login,
    )
    .expect(200);
    let csv = "code,name,level,parent_code\n75,Đồng Nai,province,\n";
    post_raw(
        &app,
        "/api/v1/areas/import",
        Some(&app.admin),
        "text/csv; charset=utf-8",
        csv,
    )
    .expect(200);
}

fn a_csv_that_is_not_utf8_is_422(app: TestApp) {
    let mut body = b"code,name,level,parent_code\n75,".to_vec();
    body.extend_from_slice(&[0xc4, 0x90, 0xff, 0xfe]);
    body.extend_from_slice(b",province,\n");
    let resp = app.send(
        "POST",
        "/api/v1/areas/import",
        Some(&app.admin),
        Some("text/csv"),
        Some(&body),
    );
    expect(resp, 422, "validation", "latin-1 garbage");
    assert!(items(&app.get("/api/v1/areas", &app.admin).expect(200)).is_empty());
}

fn an_unknown_route_is_404_problem_json_with_or_without_a_token(app: TestApp) {
    // `/` is the dashboard's home (contract §14); a client that does not ask for HTML gets
    // problem+json for every other unknown path (the browser suite checks the 404 page).
    for path in [
        "/api/v1/nope",
        "/nope",
        "/api/v2/me",
        "/api/v1/users/a/b/c",
        "/api/v1/me/extra",
    ] {
        for token in [Some(app.admin.as_str()), None] {
            for method in ["GET", "POST"] {
                let resp = app.send(method, path, token, None, None);
                expect(resp, 404, "not_found", &format!("{method} {path}"));
            }
        }
    }
}

fn a_method_the_route_does_not_take_is_405(app: TestApp) {
    let world = World::build(&app);
    for (method, path) in [
        ("DELETE", "/api/v1/me".to_owned()),
        ("PUT", "/api/v1/users".to_owned()),
        ("GET", "/api/v1/auth/login".to_owned()),
        ("GET", "/api/v1/auth/refresh".to_owned()),
        ("GET", "/api/v1/auth/logout".to_owned()),
        ("DELETE", format!("/api/v1/users/{}", world.volunteer1.0)),
        ("GET", format!("/api/v1/users/{}", world.volunteer1.0)),
        ("DELETE", format!("/api/v1/areas/{}", world.ward1)),
        ("GET", "/api/v1/areas/import".to_owned()),
        ("GET", "/api/v1/streets".to_owned()),
        ("PATCH", format!("/api/v1/campaigns/{}", world.campaign)),
        (
            "DELETE",
            format!("/api/v1/campaigns/{}/assignments", world.campaign),
        ),
        (
            "POST",
            format!("/api/v1/campaigns/{}/streets/unassigned", world.campaign),
        ),
        ("POST", "/healthz".to_owned()),
        ("POST", "/metrics".to_owned()),
        ("DELETE", "/api/v1/openapi.json".to_owned()),
    ] {
        for token in [Some(app.admin.as_str()), None] {
            let resp = app.send(method, &path, token, None, None);
            expect(resp, 405, "method_not_allowed", &format!("{method} {path}"));
        }
    }
    assert_eq!(
        items(
            &app.get("/api/v1/users?role=volunteer", &app.admin)
                .expect(200)
        )
        .len(),
        3
    );
}

fn a_malformed_id_in_a_path_is_404(app: TestApp) {
    let world = World::build(&app);
    let cid = &world.campaign;
    let assignment = json!({"street_id": world.street2, "volunteer_id": world.volunteer1.0});
    for bad in [
        "not-a-uuid",
        "12345",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c",
        "%20",
    ] {
        for (method, path, body) in [
            ("GET", format!("/api/v1/areas/{bad}"), None),
            ("GET", format!("/api/v1/areas/{bad}/streets"), None),
            ("GET", format!("/api/v1/campaigns/{bad}"), None),
            (
                "PATCH",
                format!("/api/v1/users/{bad}"),
                Some(json!({"display_name": "x"})),
            ),
            ("GET", format!("/api/v1/campaigns/{bad}/assignments"), None),
            (
                "POST",
                format!("/api/v1/campaigns/{bad}/assignments"),
                Some(assignment.clone()),
            ),
            (
                "DELETE",
                format!("/api/v1/campaigns/{cid}/assignments/{bad}"),
                None,
            ),
            (
                "DELETE",
                format!("/api/v1/campaigns/{bad}/assignments/{bad}"),
                None,
            ),
            (
                "GET",
                format!("/api/v1/campaigns/{bad}/streets/unassigned"),
                None,
            ),
        ] {
            let bytes = body.map(|b| b.to_string().into_bytes());
            let content_type = bytes.as_ref().map(|_| "application/json");
            let resp = app.send(
                method,
                &path,
                Some(&app.admin),
                content_type,
                bytes.as_deref(),
            );
            expect(resp, 404, "not_found", &format!("{method} {path}"));
        }
    }
}

fn a_json_body_over_2_mib_is_413(app: TestApp) {
    let big = json!({"username": "x".repeat(3 * 1024 * 1024), "password": "mat-khau-123",
                     "role": "admin"})
    .to_string();
    let resp = post_raw(
        &app,
        "/api/v1/users",
        Some(&app.admin),
        "application/json",
        &big,
    );
    expect(resp, 413, "payload_too_large", "a 3 MiB user");
}

fn a_csv_import_over_64_mib_is_413(app: TestApp) {
    let mut csv = String::from("code,name,level,parent_code\n");
    let row = format!("75,{},province,\n", "x".repeat(1000));
    while csv.len() <= 64 * 1024 * 1024 {
        csv.push_str(&row);
    }
    let resp = app.post_csv("/api/v1/areas/import", &app.admin, &csv);
    expect(resp, 413, "payload_too_large", "a 64 MiB import");
}

fn no_malformed_input_gives_a_5xx(app: TestApp) {
    let world = World::build(&app);
    let admin = app.admin.clone();
    let nul = "a\u{0}b";
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut cases: Vec<(&str, String, Option<String>, &str)> = vec![
        ("POST", "/api/v1/auth/login".into(), Some(json!({"username": nul, "password": nul}).to_string()), "application/json"),
        ("POST", "/api/v1/auth/refresh".into(), Some(json!({"refresh_token": nul}).to_string()), "application/json"),
        ("POST", "/api/v1/auth/logout".into(), Some(json!({"refresh_token": nul}).to_string()), "application/json"),
        ("POST", "/api/v1/areas".into(), Some(deep.clone()), "application/json"),
        ("POST", "/api/v1/areas".into(), Some("\u{feff}{}".into()), "application/json"),
        ("POST", "/api/v1/areas".into(), Some(json!({"code": "75", "name": nul, "level": "province"}).to_string()), "application/json"),
        ("POST", "/api/v1/areas".into(), Some(json!({"code": nul, "name": "x", "level": "province"}).to_string()), "application/json"),
        ("POST", "/api/v1/streets".into(), Some(json!({"ward_id": world.ward1, "code": "S-1", "name": nul}).to_string()), "application/json"),
        ("POST", "/api/v1/users".into(), Some(json!({"username": nul, "password": "mat-khau-123", "role": "volunteer", "area_id": world.ward1}).to_string()), "application/json"),
        ("POST", "/api/v1/users".into(), Some(json!({"username": "u1", "password": "mat-khau-123\u{0}", "display_name": nul, "role": "volunteer", "area_id": world.ward1}).to_string()), "application/json"),
        ("POST", "/api/v1/campaigns".into(), Some(json!({"name": nul, "area_id": world.province, "target_ratio": 0.5, "starts_on": "2020-08-17", "deadline": "2020-08-20"}).to_string()), "application/json"),
        ("POST", "/api/v1/campaigns".into(), Some(json!({"name": "x", "area_id": world.province, "target_ratio": 1e308, "starts_on": "2020-08-17", "deadline": "2020-08-20", "timezone": nul}).to_string()), "application/json"),
        ("POST", "/api/v1/campaigns".into(), Some(json!({"name": "x", "area_id": world.province, "target_ratio": 0.5, "starts_on": "+275760-09-13", "deadline": "-0001-01-01"}).to_string()), "application/json"),
        ("PATCH", format!("/api/v1/users/{}", world.volunteer1.0), Some(json!({"display_name": nul}).to_string()), "application/json"),
        ("POST", "/api/v1/areas/import".into(), Some(format!("code,name,level,parent_code\n75,{nul},province,\n")), "text/csv"),
        ("POST", "/api/v1/areas/import".into(), Some("code,name,level,parent_code\n\"75,x,province,\n".into()), "text/csv"),
        ("POST", "/api/v1/areas/import".into(), Some("".into()), "text/csv"),
        ("POST", "/api/v1/streets/import".into(), Some(format!("ward_code,code,name\n25741,S-9,{nul}\n")), "text/csv"),
        ("POST", "/api/v1/streets/import".into(), Some(format!("ward_code,code,name\n{nul},S-9,x\n")), "text/csv"),
        ("POST", "/api/v1/households/import".into(), Some(format!("street_code,house_number\n25741-H12,{nul}\n")), "text/csv"),
        ("POST", "/api/v1/households/import".into(), Some(format!("street_code,house_number\n{nul},1\n")), "text/csv"),
    ];
    for query in [
        "/api/v1/users?role=%00",
        "/api/v1/users?area_id=%00",
        "/api/v1/users?area_id=%ZZ",
        "/api/v1/users?role=admin&role=volunteer",
        "/api/v1/areas?parent_id=%00",
        "/api/v1/areas?parent_id=",
    ] {
        cases.push(("GET", query.into(), None, "application/json"));
    }
    cases.push((
        "GET",
        format!(
            "/api/v1/campaigns/{}/assignments?ward_id=%00&volunteer_id=x",
            world.campaign
        ),
        None,
        "",
    ));
    cases.push((
        "GET",
        format!(
            "/api/v1/campaigns/{}/streets/unassigned?ward_id=%FF",
            world.campaign
        ),
        None,
        "",
    ));
    let mut failures = Vec::new();
    for (method, path, body, content_type) in cases {
        let content_type = body.as_ref().map(|_| content_type);
        let resp = app.send(
            method,
            &path,
            Some(&admin),
            content_type,
            body.as_deref().map(str::as_bytes),
        );
        let is_problem = resp.content_type.starts_with("application/problem+json");
        if resp.status >= 500 || (resp.status >= 400 && !is_problem) {
            let shown: String = body.unwrap_or_default().chars().take(120).collect();
            failures.push(format!(
                "{method} {path} {shown:?}: {} {}",
                resp.status, resp.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "malformed input answered badly:\n{}",
        failures.join("\n")
    );
    app.get("/readyz", &admin).expect(200);
}

fn every_endpoint_but_login_refresh_and_openapi_needs_a_token(app: TestApp) {
    let world = World::build(&app);
    let cid = &world.campaign;
    let assignment = crate::support::text(
        &items(
            &app.get(&format!("/api/v1/campaigns/{cid}/assignments"), &app.admin)
                .expect(200),
        )[0],
        "id",
    );
    for (method, path) in [
        ("POST", "/api/v1/auth/logout".to_owned()),
        ("GET", "/api/v1/me".to_owned()),
        ("POST", "/api/v1/users".to_owned()),
        ("GET", "/api/v1/users".to_owned()),
        ("PATCH", format!("/api/v1/users/{}", world.volunteer1.0)),
        ("POST", "/api/v1/areas".to_owned()),
        ("GET", "/api/v1/areas".to_owned()),
        ("GET", format!("/api/v1/areas/{}", world.ward1)),
        ("GET", format!("/api/v1/areas/{}/streets", world.ward1)),
        ("POST", "/api/v1/areas/import".to_owned()),
        ("POST", "/api/v1/streets".to_owned()),
        ("POST", "/api/v1/streets/import".to_owned()),
        ("POST", "/api/v1/households/import".to_owned()),
        ("POST", "/api/v1/campaigns".to_owned()),
        ("GET", "/api/v1/campaigns".to_owned()),
        ("GET", format!("/api/v1/campaigns/{cid}")),
        ("POST", format!("/api/v1/campaigns/{cid}/assignments")),
        ("GET", format!("/api/v1/campaigns/{cid}/assignments")),
        (
            "DELETE",
            format!("/api/v1/campaigns/{cid}/assignments/{assignment}"),
        ),
        ("GET", format!("/api/v1/campaigns/{cid}/streets/unassigned")),
    ] {
        expect(
            app.send(method, &path, None, None, None),
            401,
            "unauthorized",
            &format!("{method} {path}"),
        );
    }
    let refresh = json!({"refresh_token": "x"}).to_string();
    expect(
        post_raw(
            &app,
            "/api/v1/auth/refresh",
            None,
            "application/json",
            &refresh,
        ),
        401,
        "unauthorized",
        "refresh",
    );
    let login = json!({"username": "admin", "password": crate::common::ADMIN_PASSWORD}).to_string();
    post_raw(&app, "/api/v1/auth/login", None, "application/json", &login).expect(200);
    app.send("GET", "/api/v1/openapi.json", None, None, None)
        .expect(200);
    assert_eq!(
        items(
            &app.get(&format!("/api/v1/campaigns/{cid}/assignments"), &app.admin)
                .expect(200)
        )
        .len(),
        3
    );
}

fn a_missing_token_is_401_before_the_role_the_ids_and_the_body(app: TestApp) {
    let world = World::build(&app);
    for (method, path, content_type, body) in [
        (
            "POST",
            "/api/v1/areas".to_owned(),
            "application/json",
            "{\"code\": ",
        ),
        (
            "POST",
            "/api/v1/campaigns".to_owned(),
            "text/plain",
            "hello",
        ),
        (
            "PATCH",
            "/api/v1/users/not-a-uuid".to_owned(),
            "application/json",
            "{",
        ),
        (
            "PATCH",
            format!("/api/v1/users/{}", uuid::Uuid::new_v4()),
            "application/json",
            "{",
        ),
        (
            "DELETE",
            "/api/v1/campaigns/nope/assignments/nope".to_owned(),
            "application/json",
            "",
        ),
        (
            "GET",
            "/api/v1/areas/not-a-uuid".to_owned(),
            "application/json",
            "",
        ),
        (
            "POST",
            "/api/v1/areas/import".to_owned(),
            "application/json",
            "{",
        ),
        (
            "GET",
            "/api/v1/users?role=chairman".to_owned(),
            "application/json",
            "",
        ),
    ] {
        for token in [None, Some("garbage")] {
            let resp = send(&app, method, &path, token, content_type, body);
            expect(
                resp,
                401,
                "unauthorized",
                &format!("{method} {path} with token {token:?}"),
            );
        }
    }
    // A disabled user's token is 401 even where its role would be 403.
    let path = format!("/api/v1/users/{}", world.volunteer1.0);
    app.patch(&path, &app.admin, &json!({"disabled": true}))
        .expect(200);
    let resp = send(
        &app,
        "POST",
        "/api/v1/areas",
        Some(&world.volunteer1.1),
        "application/json",
        "{",
    );
    expect(
        resp,
        401,
        "unauthorized",
        "a disabled volunteer writing an area",
    );
}

fn a_role_that_may_not_call_an_endpoint_gets_403_before_ids_and_body_are_looked_at(app: TestApp) {
    let world = World::build(&app);
    let volunteer = world.volunteer1.1.as_str();
    let supervisor = world.supervisor_p.1.as_str();
    let unknown = uuid::Uuid::new_v4();
    for (token, method, path, content_type, body) in [
        (
            volunteer,
            "POST",
            "/api/v1/areas".to_owned(),
            "application/json",
            "{\"code\": ",
        ),
        (
            volunteer,
            "POST",
            "/api/v1/areas".to_owned(),
            "application/json",
            "[]",
        ),
        (
            supervisor,
            "POST",
            "/api/v1/campaigns".to_owned(),
            "text/plain",
            "hello",
        ),
        (
            supervisor,
            "POST",
            "/api/v1/users".to_owned(),
            "application/json",
            "{",
        ),
        (
            supervisor,
            "PATCH",
            "/api/v1/users/not-a-uuid".to_owned(),
            "application/json",
            "{",
        ),
        (
            supervisor,
            "PATCH",
            format!("/api/v1/users/{unknown}"),
            "application/json",
            "{",
        ),
        (
            volunteer,
            "POST",
            "/api/v1/streets/import".to_owned(),
            "application/json",
            "{",
        ),
        (
            volunteer,
            "POST",
            "/api/v1/households/import".to_owned(),
            "text/csv",
            "garbage",
        ),
        (
            volunteer,
            "POST",
            format!("/api/v1/campaigns/{unknown}/assignments"),
            "application/json",
            "{",
        ),
        (
            supervisor,
            "POST",
            "/api/v1/campaigns/not-a-uuid/assignments".to_owned(),
            "application/json",
            "{",
        ),
        (
            volunteer,
            "DELETE",
            "/api/v1/campaigns/nope/assignments/nope".to_owned(),
            "application/json",
            "",
        ),
        (
            supervisor,
            "GET",
            format!("/api/v1/campaigns/{unknown}/streets/unassigned"),
            "application/json",
            "",
        ),
        (
            volunteer,
            "GET",
            "/api/v1/users?role=chairman&area_id=nope".to_owned(),
            "application/json",
            "",
        ),
    ] {
        let resp = send(&app, method, &path, Some(token), content_type, body);
        expect(resp, 403, "forbidden", &format!("{method} {path} {body:?}"));
    }
}

fn an_unknown_or_malformed_id_is_404_before_the_scope_and_the_body(app: TestApp) {
    let world = World::build(&app);
    let leader = world.leader1.1.as_str();
    let unknown = uuid::Uuid::new_v4();
    let cid = &world.campaign;
    for (token, method, path, content_type, body) in [
        (
            leader,
            "PATCH",
            format!("/api/v1/users/{unknown}"),
            "application/json",
            "{",
        ),
        (
            leader,
            "PATCH",
            "/api/v1/users/not-a-uuid".to_owned(),
            "text/plain",
            "x",
        ),
        (
            world.volunteer1.1.as_str(),
            "PATCH",
            format!("/api/v1/users/{unknown}"),
            "application/json",
            "{",
        ),
        (
            leader,
            "POST",
            format!("/api/v1/campaigns/{unknown}/assignments"),
            "application/json",
            "{",
        ),
        (
            leader,
            "POST",
            format!("/api/v1/campaigns/{unknown}/assignments"),
            "text/plain",
            "x",
        ),
        (
            leader,
            "DELETE",
            format!("/api/v1/campaigns/{cid}/assignments/{unknown}"),
            "application/json",
            "",
        ),
        (
            world.supervisor_d2.1.as_str(),
            "GET",
            format!("/api/v1/campaigns/{unknown}/assignments"),
            "application/json",
            "",
        ),
    ] {
        let resp = send(&app, method, &path, Some(token), content_type, body);
        expect(resp, 404, "not_found", &format!("{method} {path} {body:?}"));
    }
}

fn a_known_id_outside_the_callers_scope_is_403_before_the_body(app: TestApp) {
    let world = World::build(&app);
    let outside = format!("/api/v1/users/{}", world.volunteer3.0);
    for (content_type, body) in [
        ("application/json", "{"),
        ("text/plain", "x"),
        ("application/json", "[]"),
    ] {
        let resp = send(
            &app,
            "PATCH",
            &outside,
            Some(&world.leader1.1),
            content_type,
            body,
        );
        expect(
            resp,
            403,
            "forbidden",
            &format!("ward leader patching another ward's volunteer with {body:?}"),
        );
    }
    let other = format!("/api/v1/users/{}", world.volunteer2.0);
    let resp = send(
        &app,
        "PATCH",
        &other,
        Some(&world.volunteer1.1),
        "application/json",
        "{",
    );
    expect(
        resp,
        403,
        "forbidden",
        "volunteer patching another volunteer",
    );

    let assignments = app.get(
        &format!(
            "/api/v1/campaigns/{}/assignments?ward_id={}",
            world.campaign, world.ward2
        ),
        &app.admin,
    );
    let id = crate::support::text(&items(&assignments.expect(200))[0], "id");
    let path = format!("/api/v1/campaigns/{}/assignments/{id}", world.campaign);
    expect(
        app.delete(&path, &world.leader1.1),
        403,
        "forbidden",
        "ward leader deleting another ward's assignment",
    );
    // A volunteer of another ward with a too short password: the scope is judged first.
    let resp = app.post(
        "/api/v1/users",
        &world.leader1.1,
        &json!({"username": "tnv.x", "password": "short", "role": "volunteer", "area_id": world.ward2}),
    );
    expect(
        resp,
        403,
        "forbidden",
        "ward leader creating an invalid volunteer in another ward",
    );
    // A street of another ward with a rule-breaking body: the scope is judged first.
    let resp = app.post(
        "/api/v1/streets",
        &world.leader1.1,
        &json!({"ward_id": world.ward2, "code": "", "name": ""}),
    );
    expect(
        resp,
        403,
        "forbidden",
        "ward leader creating an invalid street in another ward",
    );
}

fn the_body_is_judged_last_and_400_comes_before_422(app: TestApp) {
    let world = World::build(&app);
    let own = format!("/api/v1/users/{}", world.volunteer1.0);
    let resp = send(
        &app,
        "PATCH",
        &own,
        Some(&world.leader1.1),
        "application/json",
        "{\"display_name\": ",
    );
    expect(resp, 400, "invalid_json", "malformed");
    let resp = send(
        &app,
        "PATCH",
        &own,
        Some(&world.leader1.1),
        "application/json",
        "{\"display_name\": 5}",
    );
    expect(resp, 422, "validation", "misshapen");
    let resp = send(
        &app,
        "PATCH",
        &own,
        Some(&world.volunteer1.1),
        "text/plain",
        "{}",
    );
    expect(resp, 415, "unsupported_media_type", "wrong content type");
    app.patch(&own, &world.volunteer1.1, &json!({"display_name": "Lan"}))
        .expect(200);
}

crate::both_backends!(
    malformed_json_is_400_invalid_json_on_every_json_endpoint,
    json_of_the_wrong_shape_is_422_validation,
    a_body_that_is_not_json_is_415,
    a_csv_that_is_not_utf8_is_422,
    an_unknown_route_is_404_problem_json_with_or_without_a_token,
    a_method_the_route_does_not_take_is_405,
    a_malformed_id_in_a_path_is_404,
    a_json_body_over_2_mib_is_413,
    a_csv_import_over_64_mib_is_413,
    no_malformed_input_gives_a_5xx,
    every_endpoint_but_login_refresh_and_openapi_needs_a_token,
    a_missing_token_is_401_before_the_role_the_ids_and_the_body,
    a_role_that_may_not_call_an_endpoint_gets_403_before_ids_and_body_are_looked_at,
    an_unknown_or_malformed_id_is_404_before_the_scope_and_the_body,
    a_known_id_outside_the_callers_scope_is_403_before_the_body,
    the_body_is_judged_last_and_400_comes_before_422,
);
