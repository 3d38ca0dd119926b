//! Typed HTTP helpers over a running server.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{json, Value};

use super::{Backend, Server, TestDb, ADMIN_PASSWORD};

/// One answer.
#[derive(Debug, Clone)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// Body as text.
    pub text: String,
    /// Body as JSON (Null when it is not JSON).
    pub body: Value,
    /// Content-Type.
    pub content_type: String,
    /// Every header, lower-case names.
    pub headers: Vec<(String, String)>,
}

impl Resp {
    /// The problem `code`, when the body is problem+json.
    pub fn code(&self) -> &str {
        self.body.get("code").and_then(Value::as_str).unwrap_or("")
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an error status, its problem+json content type and its contract code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert!(
            self.content_type.starts_with("application/problem+json"),
            "not problem+json: {} {}",
            self.content_type,
            self.text
        );
        assert_eq!(self.code(), code, "unexpected code; body: {}", self.text);
        assert_eq!(self.body["status"], json!(status));
        self
    }
}

/// A running server plus its database and an admin token.
pub struct TestApp {
    /// The process.
    pub server: Server,
    /// Its database.
    pub db: TestDb,
    /// Which backend.
    pub backend: Backend,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A token of the first admin.
    pub admin: String,
    agent: ureq::Agent,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
}

fn to_resp(result: Result<ureq::Response, ureq::Error>) -> Resp {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("request failed: {err}"),
    };
    let status = response.status();
    let content_type = response.header("content-type").unwrap_or("").to_owned();
    let headers = response
        .headers_names()
        .into_iter()
        .map(|name| {
            let value = response.header(&name).unwrap_or("").to_owned();
            (name.to_lowercase(), value)
        })
        .collect();
    let text = response.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        text,
        body,
        content_type,
        headers,
    }
}

impl TestApp {
    /// Wraps a started server and logs the admin in.
    pub fn new(server: Server, db: TestDb, backend: Backend) -> TestApp {
        let base = server.base.clone();
        let mut app = TestApp {
            server,
            db,
            backend,
            base,
            admin: String::new(),
            agent: agent(),
        };
        app.admin = app.login("admin", ADMIN_PASSWORD);
        app
    }

    /// Replaces the server (after a restart) and logs in again.
    pub fn reattach(&mut self, server: Server) {
        self.base = server.base.clone();
        self.server = server;
        self.admin = self.login("admin", ADMIN_PASSWORD);
    }

    /// Full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends any request with an optional token, content type and body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Resp {
        let mut request = self.agent.request(method, &self.url(path));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.set("Content-Type", content_type);
        }
        to_resp(match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        })
    }

    /// [`TestApp::send`] on a connection of its own. Threads that hammer the server use it:
    /// a pooled keep-alive connection may be closed by the server just as it is reused.
    pub fn send_once(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Resp {
        let mut request = agent().request(method, &self.url(path));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.set("Content-Type", content_type);
        }
        to_resp(match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        })
    }

    /// GET with a token.
    pub fn get(&self, path: &str, token: &str) -> Resp {
        self.send("GET", path, Some(token), None, None)
    }

    /// POST JSON with a token.
    pub fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send(
            "POST",
            path,
            Some(token),
            Some("application/json"),
            Some(&bytes),
        )
    }

    /// PATCH JSON with a token.
    pub fn patch(&self, path: &str, token: &str, body: &Value) -> Resp {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send(
            "PATCH",
            path,
            Some(token),
            Some("application/json"),
            Some(&bytes),
        )
    }

    /// DELETE with a token.
    pub fn delete(&self, path: &str, token: &str) -> Resp {
        self.send("DELETE", path, Some(token), None, None)
    }

    /// POST CSV text with a token.
    pub fn post_csv(&self, path: &str, token: &str, csv: &str) -> Resp {
        self.send(
            "POST",
            path,
            Some(token),
            Some("text/csv"),
            Some(csv.as_bytes()),
        )
    }

    /// Logs in, returning the full answer.
    pub fn login_resp(&self, username: &str, password: &str) -> Resp {
        let body =
            serde_json::to_vec(&json!({"username": username, "password": password})).unwrap();
        self.send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some("application/json"),
            Some(&body),
        )
    }

    /// Logs in, returning the access token.
    #[track_caller]
    pub fn login(&self, username: &str, password: &str) -> String {
        let resp = self.login_resp(username, password).expect(200);
        resp.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Pushes changes for a campaign from a device.
    pub fn push(&self, token: &str, campaign: &str, device: &str, changes: &[Value]) -> Resp {
        self.post(
            "/api/v1/sync/push",
            token,
            &json!({"campaign_id": campaign, "device_id": device, "changes": changes}),
        )
    }

    /// Pulls with cursors and a limit.
    pub fn pull(
        &self,
        token: &str,
        campaign: &str,
        device: &str,
        cursors: &Value,
        limit: i64,
    ) -> Resp {
        self.post(
            "/api/v1/sync/pull",
            token,
            &json!({"campaign_id": campaign, "device_id": device, "cursors": cursors, "limit": limit}),
        )
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.server.log.lock().unwrap().clone()
    }
}

impl TestApp {
    /// POSTs JSON, returning None when the connection fails (a killed server).
    pub fn try_post(&self, path: &str, token: &str, body: &Value) -> Option<Resp> {
        let request = self
            .agent
            .request("POST", &self.url(path))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json");
        match request.send_string(&body.to_string()) {
            Ok(response) => Some(to_resp(Ok(response))),
            Err(ureq::Error::Status(code, response)) => {
                Some(to_resp(Err(ureq::Error::Status(code, response))))
            }
            Err(ureq::Error::Transport(_)) => None,
        }
    }

    /// Pulls every record the caller can see from cursor 0, page after page.
    pub fn pull_all(&self, token: &str, campaign: &str, device: &str) -> Vec<Value> {
        let mut cursors = json!({});
        let mut records = Vec::new();
        for _ in 0..10_000 {
            let page = self
                .pull(token, campaign, device, &cursors, 5000)
                .expect(200);
            records.extend(page.body["changes"].as_array().cloned().unwrap_or_default());
            cursors = page.body["cursors"].clone();
            if page.body["has_more"] != json!(true) {
                return records;
            }
        }
        panic!("pull never finished");
    }
}
