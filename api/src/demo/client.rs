//! The demo's HTTP client: every write of the campaign goes through the real API.

use std::net::SocketAddr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::jwt::Claims;
use crate::db::users::UserRow;
use crate::state::{now_ms_i64, AppState};

/// The base URL a client on this machine reaches `addr` at (an unspecified address such as
/// `0.0.0.0` is reached on loopback).
pub fn base_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        match addr {
            SocketAddr::V4(_) => "127.0.0.1".to_owned(),
            SocketAddr::V6(_) => "[::1]".to_owned(),
        }
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("http://{ip}:{}", addr.port())
}

/// Talks to the demo's own server.
pub struct Api {
    agent: ureq::Agent,
    base: String,
}

impl Api {
    /// A client of the server at `base`.
    pub fn new(base: &str) -> Api {
        Api {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(120))
                .build(),
            base: base.to_owned(),
        }
    }

    fn answer<R: DeserializeOwned>(
        what: &str,
        sent: Result<ureq::Response, ureq::Error>,
    ) -> Result<R, String> {
        match sent {
            Ok(response) => response
                .into_json()
                .map_err(|e| format!("{what}: unreadable answer: {e}")),
            Err(ureq::Error::Status(status, response)) => {
                let body = response.into_string().unwrap_or_default();
                Err(format!("{what}: {status} {body}"))
            }
            Err(err) => Err(format!("{what}: {err}")),
        }
    }

    /// POSTs JSON and reads the JSON answer.
    pub fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: &B,
    ) -> Result<R, String> {
        let sent = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(body);
        Api::answer(path, sent)
    }

    /// POSTs a CSV import and reads the JSON answer.
    pub fn post_csv<R: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        csv: &str,
    ) -> Result<R, String> {
        let sent = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "text/csv")
            .send_string(csv);
        Api::answer(path, sent)
    }
}

/// An access token for `user`, signed with the server's keys like a login's.
pub fn token_for(state: &AppState, user: &UserRow) -> Result<String, String> {
    let now_s = now_ms_i64() / 1000;
    let ttl = i64::try_from(state.access_token_ttl.as_secs()).unwrap_or(900);
    let claims = Claims {
        sub: user.id.to_string(),
        role: user.role.as_str().to_owned(),
        area: user.area_id.map(|area| area.to_string()),
        iat: now_s,
        nbf: now_s,
        // The demo may outlast a short access token on a slow machine.
        exp: now_s + ttl.max(600),
    };
    state
        .keys
        .sign(&claims)
        .map_err(|e| format!("cannot sign a token: {e}"))
}
