//! Answers to requests the HTTP layer refuses before any route sees them: a malformed
//! head, too many header fields, a head too large, a head that does not arrive in time.
//! They are problem+json with the security headers like every other answer, and the
//! connection is closed after them. Raw sockets, because an HTTP client would not send
//! such requests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{spawn_app, spawn_app_with, Backend, TestApp};

/// One answer read off a raw connection.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: serde_json::Value,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// What every refusal must be: problem+json with `code`, the status repeated in the
    /// body, the security headers, and the connection closed.
    fn assert_refusal(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{self:?}"
        );
        assert_eq!(self.body["code"], code, "{self:?}");
        assert_eq!(self.body["status"], status, "{self:?}");
        assert_eq!(self.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(self.header("x-frame-options"), Some("DENY"));
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert!(self.header("content-security-policy").is_some());
        assert_eq!(self.header("connection"), Some("close"), "{self:?}");
    }
}

/// Sends `request` on a fresh connection and reads every answer until the server closes
/// it (or 15 s pass: a server that keeps the connection open fails the caller's checks).
fn exchange(app: &TestApp, request: &[u8]) -> (Vec<RawAnswer>, Duration) {
    let mut stream = TcpStream::connect(app.server.bind()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let started = Instant::now();
    // The server may close before reading all of a refused request: that is allowed.
    let _ = stream.write_all(request);
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    (parse_answers(&received), started.elapsed())
}

fn parse_answers(mut bytes: &[u8]) -> Vec<RawAnswer> {
    let mut answers = Vec::new();
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let body = &bytes[end + 4..end + 4 + length];
        answers.push(RawAnswer {
            status,
            body: serde_json::from_slice(body).unwrap_or(serde_json::Value::Null),
            headers,
        });
        bytes = &bytes[end + 4 + length..];
    }
    assert!(
        bytes.is_empty(),
        "a partial answer: {:?}",
        String::from_utf8_lossy(bytes)
    );
    answers
}

fn only_answer(app: &TestApp, request: &[u8]) -> RawAnswer {
    let (mut answers, _) = exchange(app, request);
    assert_eq!(answers.len(), 1, "{answers:?}");
    answers.remove(0)
}

fn a_malformed_request_head_is_answered_as_a_problem(backend: Backend) {
    let Some(app) = spawn_app(backend) else {
        return;
    };
    for head in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /healthz HTTP/1.1\r\n\r\n",
        b"GET /hea\x01lthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    ] {
        only_answer(&app, head).assert_refusal(400, "validation");
    }
    assert_eq!(app.get("/healthz", "").status, 200);
}

fn too_many_header_fields_are_answered_431(backend: Backend) {
    let Some(app) = spawn_app(backend) else {
        return;
    };
    let mut request = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for i in 0..100 {
        request.push_str(&format!("X-Field-{i}: {i}\r\n"));
    }
    request.push_str("\r\n");
    only_answer(&app, request.as_bytes()).assert_refusal(431, "payload_too_large");
    assert_eq!(app.get("/healthz", "").status, 200);
}

fn a_head_too_large_is_answered_431(backend: Backend) {
    let Some(app) = spawn_app(backend) else {
        return;
    };
    for filler in [40 * 1024, 200 * 1024] {
        let request = format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
            "a".repeat(filler)
        );
        only_answer(&app, request.as_bytes()).assert_refusal(431, "payload_too_large");
    }
    assert_eq!(app.get("/healthz", "").status, 200);
}

fn a_head_that_does_not_arrive_in_time_is_answered_408(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("CANVASS_CLIENT_TIMEOUT_SECS", "1")]) else {
        return;
    };
    for half_sent in [&b"GET /healthz HTTP/1.1\r\nHost: x\r\n"[..], b""] {
        let (answers, waited) = exchange(&app, half_sent);
        assert!(
            waited < Duration::from_secs(10),
            "the server kept a half-sent request open for {waited:?}"
        );
        assert_eq!(answers.len(), 1, "{answers:?}");
        answers[0].assert_refusal(408, "request_timeout");
    }
    assert_eq!(app.get("/healthz", "").status, 200);
}

fn earlier_requests_on_the_connection_keep_their_answers(backend: Backend) {
    let Some(app) = spawn_app(backend) else {
        return;
    };
    let login = br#"{"username":"nobody","password":"wrong-password"}"#;
    let mut pipelined = Vec::new();
    pipelined.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    pipelined.extend_from_slice(
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            login.len()
        )
        .as_bytes(),
    );
    pipelined.extend_from_slice(login);
    // The same login, chunked, in two chunks with an extension and a trailer.
    pipelined.extend_from_slice(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\n",
    );
    let (first, second) = login.split_at(10);
    pipelined.extend_from_slice(format!("{:x};ext=1\r\n", first.len()).as_bytes());
    pipelined.extend_from_slice(first);
    pipelined.extend_from_slice(format!("\r\n{:x}\r\n", second.len()).as_bytes());
    pipelined.extend_from_slice(second);
    pipelined.extend_from_slice(b"\r\n0\r\nX-Trailer: 1\r\n\r\n");
    pipelined.extend_from_slice(b"NOT HTTP AT ALL\r\n\r\n");
    pipelined.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");

    let (answers, _) = exchange(&app, &pipelined);
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 401, 401, 400], "{answers:?}");
    assert_eq!(answers[1].body["code"], "unauthorized");
    assert_eq!(answers[2].body["code"], "unauthorized");
    answers[3].assert_refusal(400, "validation");
}

macro_rules! per_backend {
    ($($name:ident),*) => {
        mod sqlite { $( #[test] fn $name() { super::$name(crate::common::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(crate::common::Backend::Postgres) } )* }
    };
}

per_backend!(
    a_malformed_request_head_is_answered_as_a_problem,
    too_many_header_fields_are_answered_431,
    a_head_too_large_is_answered_431,
    a_head_that_does_not_arrive_in_time_is_answered_408,
    earlier_requests_on_the_connection_keep_their_answers
);
