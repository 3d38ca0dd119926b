//! Contract §12 "Compression": JSON and CSV answers over 1 KiB are gzip-compressed when the
//! request allows it; pushes and CSV imports may be sent gzip-compressed, their limits apply
//! after decompression (a gzip bomb is 413), and other content codings are 415.

use std::io::{Read, Write};

use serde_json::{json, Value};

use crate::common::{Resp, TestApp, World};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A GET answered as raw bytes: (status, Content-Encoding, body).
fn get_raw(app: &TestApp, path: &str, token: &str, accept: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut request = ureq::get(&app.url(path)).set("Authorization", &format!("Bearer {token}"));
    if let Some(accept) = accept {
        request = request.set("Accept-Encoding", accept);
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(err) => panic!("{err}"),
    };
    let status = response.status();
    let encoding = response.header("content-encoding").unwrap_or("").to_owned();
    let mut body = Vec::new();
    response.into_reader().read_to_end(&mut body).unwrap();
    (status, encoding, body)
}

/// A POST of `body` with a content type and a content coding.
fn post_encoded(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    coding: &str,
    body: &[u8],
) -> Resp {
    let request = ureq::post(&app.url(path))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", content_type)
        .set("Content-Encoding", coding);
    let response = match request.send_bytes(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(err) => panic!("{err}"),
    };
    let status = response.status();
    let content_type = response.header("content-type").unwrap_or("").to_owned();
    let text = response.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        text,
        body,
        content_type,
        headers: Vec::new(),
    }
}

fn answers_over_1_kib_are_gzipped_when_the_client_allows_it(app: TestApp) {
    let path = "/api/v1/openapi.json";
    let (status, encoding, zipped) = get_raw(&app, path, &app.admin, Some("gzip"));
    assert_eq!((status, encoding.as_str()), (200, "gzip"));
    let document: Value = serde_json::from_slice(&gunzip(&zipped)).unwrap();
    assert!(document["paths"].is_object());

    let (status, encoding, plain) = get_raw(&app, path, &app.admin, None);
    assert_eq!((status, encoding.as_str()), (200, ""));
    assert_eq!(serde_json::from_slice::<Value>(&plain).unwrap(), document);
    let (_, encoding, _) = get_raw(&app, path, &app.admin, Some("br, gzip;q=0"));
    assert_eq!(encoding, "", "gzip;q=0 refuses gzip");

    // Short answers stay plain: gzip would make them longer.
    let (status, encoding, body) = get_raw(&app, "/api/v1/me", &app.admin, Some("gzip"));
    assert_eq!((status, encoding.as_str()), (200, ""));
    assert!(body.len() <= 1024);
    // Problem answers keep their type and are plain when short.
    let (status, encoding, body) = get_raw(&app, "/api/v1/nothing-here", &app.admin, Some("gzip"));
    assert_eq!((status, encoding.as_str()), (404, ""));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["code"],
        json!("not_found")
    );
}

fn one_house(world: &World, number: &str) -> Value {
    let street = uuid::Uuid::parse_str(&world.street1).unwrap();
    let id = sync_protocol::household_id(street, number).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    json!({"kind": "household", "id": id, "street_id": world.street1,
           "fields": {"house_number": {"value": number, "hlc": format!("{now}-0000-phone-gz")}}})
}

fn gzip_pushes_and_imports_are_inflated_and_their_limits_apply_after(app: TestApp) {
    let world = World::build(&app);
    let token = &world.volunteer1.1;
    let push = json!({"campaign_id": world.campaign, "device_id": "phone-gz",
                      "changes": [one_house(&world, "3")]});
    let body = gzip(&serde_json::to_vec(&push).unwrap());
    let resp = post_encoded(
        &app,
        "/api/v1/sync/push",
        token,
        "application/json",
        "gzip",
        &body,
    )
    .expect(200);
    assert_eq!(
        resp.body["results"][0]["status"],
        json!("applied"),
        "{}",
        resp.text
    );

    let csv = "street_code,house_number\n25741-H12,5\n25741-H12,7\n";
    let resp = post_encoded(
        &app,
        "/api/v1/households/import",
        &world.admin,
        "text/csv",
        "gzip",
        &gzip(csv.as_bytes()),
    )
    .expect(200);
    assert_eq!(resp.body["created"], json!(2), "{}", resp.text);

    // A push that inflates past 2 MiB: a few KiB on the wire.
    let mut bomb = serde_json::to_vec(&push).unwrap();
    bomb.truncate(bomb.len() - 1);
    bomb.extend_from_slice(b",\"padding\":\"");
    bomb.extend(std::iter::repeat_n(b'a', 3 * 1024 * 1024));
    bomb.extend_from_slice(b"\"}");
    let zipped = gzip(&bomb);
    assert!(zipped.len() < 64 * 1024);
    post_encoded(
        &app,
        "/api/v1/sync/push",
        token,
        "application/json",
        "gzip",
        &zipped,
    )
    .expect_problem(413, "payload_too_large");

    // An import that inflates past 64 MiB.
    let mut csv_bomb = b"street_code,house_number\n25741-H12,".to_vec();
    csv_bomb.extend(std::iter::repeat_n(b'9', 65 * 1024 * 1024));
    let zipped = gzip(&csv_bomb);
    drop(csv_bomb);
    post_encoded(
        &app,
        "/api/v1/households/import",
        &world.admin,
        "text/csv",
        "gzip",
        &zipped,
    )
    .expect_problem(413, "payload_too_large");

    // A gzip body cut short does not inflate.
    let cut = &body[..body.len() / 2];
    post_encoded(
        &app,
        "/api/v1/sync/push",
        token,
        "application/json",
        "gzip",
        cut,
    )
    .expect_problem(400, "invalid_json");

    let numbers: Vec<Value> = app
        .pull_all(token, &world.campaign, "checker")
        .iter()
        .map(|r| r["fields"]["house_number"]["value"].clone())
        .collect();
    assert_eq!(
        numbers.len(),
        3,
        "only the good push and import landed: {numbers:?}"
    );
}

fn other_content_codings_are_415(app: TestApp) {
    let world = World::build(&app);
    let push = json!({"campaign_id": world.campaign, "device_id": "phone-gz",
                      "changes": [one_house(&world, "4")]});
    let body = serde_json::to_vec(&push).unwrap();
    for coding in ["br", "deflate", "compress", "zstd", "gzip, gzip", "made-up"] {
        post_encoded(
            &app,
            "/api/v1/sync/push",
            &world.volunteer1.1,
            "application/json",
            coding,
            &body,
        )
        .expect_problem(415, "unsupported_media_type");
    }
    post_encoded(
        &app,
        "/api/v1/sync/push",
        &world.volunteer1.1,
        "application/json",
        "identity",
        &body,
    )
    .expect(200);
}

crate::both_backends!(
    answers_over_1_kib_are_gzipped_when_the_client_allows_it,
    gzip_pushes_and_imports_are_inflated_and_their_limits_apply_after,
    other_content_codings_are_415,
);
