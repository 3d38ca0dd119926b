//! A small blocking client of the API, as a phone or an admin tool would use it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::BenchError;

/// The tokens of a session: `(access, refresh)`.
type Tokens = Arc<Mutex<(String, String)>>;

/// One signed-in user talking to one server. Its access token is renewed with the
/// refresh token when the server says it expired, as a phone does: the 1,000,000-visit
/// rows push for longer than an access token lives.
#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    base: String,
    tokens: Tokens,
}

/// The access and refresh tokens of a login or refresh answer.
fn tokens_of(answer: &Value) -> Result<(String, String), BenchError> {
    let text = |key: &str| {
        answer[key]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| BenchError::Setup(format!("the server answered no {key}")))
    };
    Ok((text("access_token")?, text("refresh_token")?))
}

impl Api {
    /// Logs in as `username`.
    pub fn login(base: &str, username: &str, password: &str) -> Result<Api, BenchError> {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(300))
            .build();
        let answer: Value = agent
            .post(&format!("{base}/api/v1/auth/login"))
            .send_json(json!({"username": username, "password": password}))?
            .into_json()?;
        Ok(Api {
            agent,
            base: base.to_owned(),
            tokens: Arc::new(Mutex::new(tokens_of(&answer)?)),
        })
    }

    fn bearer(&self) -> String {
        let tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        format!("Bearer {}", tokens.0)
    }

    /// Trades the refresh token for new tokens.
    fn refresh(&self) -> Result<(), BenchError> {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        let answer: Value = self
            .agent
            .post(&self.url("/auth/refresh"))
            .send_json(json!({"refresh_token": tokens.1}))?
            .into_json()?;
        *tokens = tokens_of(&answer)?;
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// `POST` a JSON body, reading a JSON answer.
    pub fn post<B: Serialize, A: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<A, BenchError> {
        let body = serde_json::to_string(body)?;
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            let answer = self
                .agent
                .post(&self.url(path))
                .set("Authorization", &self.bearer())
                .set("Content-Type", "application/json")
                .send_string(&body);
            match answer {
                Err(ureq::Error::Status(401, _)) if !refreshed => {
                    refreshed = true;
                    self.refresh()?;
                }
                // A pooled connection the server closed while idle fails as the request
                // goes out; a push or pull may be sent again (the server drops repeats),
                // as a phone does on a lost connection.
                Err(ureq::Error::Transport(_)) if attempt < 20 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(200));
                }
                // A busy server answers 503 with Retry-After; a phone waits and sends again.
                Err(ureq::Error::Status(503, busy)) if attempt < 20 => {
                    attempt += 1;
                    let wait = busy
                        .header("Retry-After")
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(1)
                        .min(5);
                    std::thread::sleep(Duration::from_secs(wait));
                }
                other => return Ok(other?.into_json()?),
            }
        }
    }

    /// `POST` a CSV import.
    pub fn import(&self, path: &str, csv: &str) -> Result<Value, BenchError> {
        Ok(self
            .agent
            .post(&self.url(path))
            .set("Authorization", &self.bearer())
            .set("Content-Type", "text/csv")
            .send_string(csv)?
            .into_json()?)
    }

    /// `GET` a JSON answer.
    pub fn get(&self, path: &str) -> Result<Value, BenchError> {
        Ok(self
            .agent
            .get(&self.url(path))
            .set("Authorization", &self.bearer())
            .call()?
            .into_json()?)
    }
}
