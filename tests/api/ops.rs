//! Contract section 10: health, readiness, metrics, the OpenAPI document and its page. None
//! of them needs a token.

use crate::common::{Resp, TestApp};

fn get_without_token(app: &TestApp, path: &str) -> Resp {
    app.send("GET", path, None, None, None)
}

fn healthz_and_readyz_answer_200_without_a_token(app: TestApp) {
    get_without_token(&app, "/healthz").expect(200);
    get_without_token(&app, "/readyz").expect(200);
}

/// The value of one `canvass_http_requests_total` series, 0 when absent.
fn request_count(metrics: &str, method: &str, route: &str, status: u16) -> u64 {
    let series = format!(
        "canvass_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} "
    );
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |count| count.trim().parse().unwrap())
}

fn metrics_count_requests_by_route_and_status(app: TestApp) {
    let area = uuid::Uuid::new_v4();
    for _ in 0..3 {
        app.get("/api/v1/me", &app.admin).expect(200);
    }
    app.send("GET", "/api/v1/me", None, None, None).expect(401);
    app.get(&format!("/api/v1/areas/{area}"), &app.admin)
        .expect(404);
    app.get(
        &format!("/api/v1/areas/{}", uuid::Uuid::new_v4()),
        &app.admin,
    )
    .expect(404);
    app.get(&format!("/api/v1/no-such-route/{area}"), &app.admin)
        .expect(404);

    let resp = get_without_token(&app, "/metrics").expect(200);
    assert!(
        resp.content_type.starts_with("text/plain"),
        "{}",
        resp.content_type
    );
    let text = &resp.text;
    assert!(
        text.contains("# TYPE canvass_http_requests_total counter"),
        "{text}"
    );
    assert_eq!(request_count(text, "GET", "/api/v1/me", 200), 3, "{text}");
    assert_eq!(request_count(text, "GET", "/api/v1/me", 401), 1, "{text}");
    assert_eq!(
        request_count(text, "GET", "/api/v1/areas/{id}", 404),
        2,
        "requests are counted by route pattern, not by path: {text}"
    );
    assert!(
        !text.contains(&area.to_string()),
        "paths of ids or unknown routes must not become labels"
    );
    assert_eq!(
        request_count(text, "POST", "/api/v1/auth/login", 200),
        1,
        "the harness's own login"
    );

    let again = get_without_token(&app, "/metrics").expect(200);
    assert!(request_count(&again.text, "GET", "/metrics", 200) >= 1);
}

fn the_openapi_document_is_openapi_3_and_lists_every_path(app: TestApp) {
    let resp = get_without_token(&app, "/api/v1/openapi.json").expect(200);
    assert!(
        resp.content_type.starts_with("application/json"),
        "{}",
        resp.content_type
    );
    let doc = &resp.body;
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi version {version:?}");
    assert!(doc["info"]["title"].is_string());
    let paths = doc["paths"].as_object().expect("paths");
    for (path, methods) in [
        ("/api/v1/auth/login", &["post"][..]),
        ("/api/v1/auth/refresh", &["post"]),
        ("/api/v1/auth/logout", &["post"]),
        ("/api/v1/me", &["get"]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/users/{id}", &["patch"]),
        ("/api/v1/areas", &["get", "post"]),
        ("/api/v1/areas/{id}", &["get"]),
        ("/api/v1/areas/import", &["post"]),
        ("/api/v1/areas/{id}/streets", &["get"]),
        ("/api/v1/streets", &["post"]),
        ("/api/v1/streets/import", &["post"]),
        ("/api/v1/households/import", &["post"]),
        ("/api/v1/campaigns", &["get", "post"]),
        ("/api/v1/campaigns/{id}", &["get"]),
        ("/api/v1/campaigns/{cid}/assignments", &["get", "post"]),
        ("/api/v1/campaigns/{cid}/assignments/{id}", &["delete"]),
        ("/api/v1/campaigns/{cid}/streets/unassigned", &["get"]),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
        ("/metrics", &["get"]),
        ("/api/v1/openapi.json", &["get"]),
    ] {
        let operations = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is missing from the OpenAPI paths"));
        for method in methods {
            assert!(
                operations.get(method).is_some(),
                "{method} {path} is missing"
            );
        }
    }
}

fn the_docs_page_and_its_assets_load_without_a_token(app: TestApp) {
    let page = get_without_token(&app, "/docs").expect(200);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    let assets: Vec<String> = page
        .text
        .split(['"', '\''])
        .filter(|part| part.starts_with("/docs/") || part.starts_with("/api/v1/"))
        .map(str::to_owned)
        .collect();
    assert!(
        assets.iter().any(|a| a.ends_with(".js")),
        "the page loads a script: {}",
        page.text
    );
    assert!(
        assets.iter().any(|a| a.ends_with(".css")),
        "the page loads a style sheet: {}",
        page.text
    );
    for asset in &assets {
        let resp = get_without_token(&app, asset);
        assert_eq!(resp.status, 200, "{asset}: {}", resp.text);
        let expected = if asset.ends_with(".js") {
            "javascript"
        } else if asset.ends_with(".css") {
            "text/css"
        } else {
            "json"
        };
        assert!(
            resp.content_type.contains(expected),
            "{asset}: {}",
            resp.content_type
        );
        assert!(!resp.text.is_empty());
    }
}

/// Every series of `canvass_http_requests_total`.
fn series(metrics: &str) -> Vec<String> {
    metrics
        .lines()
        .filter(|line| line.starts_with("canvass_http_requests_total{"))
        .map(|line| {
            line.rsplit_once(' ')
                .map_or(line, |(labels, _)| labels)
                .to_owned()
        })
        .collect()
}

/// Sends a request line of the client's own making on a connection of its own.
fn raw_request(app: &TestApp, method: &str, path: &str) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(app.server.bind()).unwrap();
    stream
        .write_all(
            format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 4"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// 300 requests with made-up methods and paths must not add a series each (issue: 46 MB of
/// metrics): the labels are bounded to known methods, route patterns and statuses.
fn made_up_methods_and_paths_add_no_metrics_series(app: TestApp) {
    // Every series these requests can touch exists once before the count is taken.
    raw_request(&app, "BREW", "/made-up");
    raw_request(&app, "BREW", "/api/v1/me");
    get_without_token(&app, "/made-up").expect(404);
    get_without_token(&app, "/metrics").expect(200);
    let before = series(&get_without_token(&app, "/metrics").expect(200).text);
    for n in 0..100 {
        raw_request(&app, &format!("BREW{n}"), &format!("/made-up/{n}"));
        raw_request(&app, &format!("X-{n}"), "/api/v1/me");
        get_without_token(&app, &format!("/api/v1/no-such-thing-{n}")).expect(404);
    }
    let text = get_without_token(&app, "/metrics").expect(200).text;
    let after = series(&text);
    let added: Vec<&String> = after.iter().filter(|s| !before.contains(s)).collect();
    assert!(added.is_empty(), "new series: {added:?}");
    assert!(!text.contains("BREW"), "a made-up method became a label");
    assert!(
        !text.contains("no-such-thing"),
        "a made-up path became a label"
    );
}

crate::both_backends!(
    healthz_and_readyz_answer_200_without_a_token,
    metrics_count_requests_by_route_and_status,
    made_up_methods_and_paths_add_no_metrics_series,
    the_openapi_document_is_openapi_3_and_lists_every_path,
    the_docs_page_and_its_assets_load_without_a_token,
);
