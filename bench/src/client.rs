//! A small blocking client of the API, as a phone or an admin tool would use it.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::BenchError;

/// One signed-in user talking to one server.
#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    base: String,
    token: String,
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
        let token = answer["access_token"]
            .as_str()
            .ok_or_else(|| BenchError::Setup("login answered no token".into()))?
            .to_owned();
        Ok(Api {
            agent,
            base: base.to_owned(),
            token,
        })
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
        loop {
            let answer = self
                .agent
                .post(&self.url(path))
                .set("Authorization", &format!("Bearer {}", self.token))
                .set("Content-Type", "application/json")
                .send_string(&body);
            match answer {
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
            .set("Authorization", &format!("Bearer {}", self.token))
            .set("Content-Type", "text/csv")
            .send_string(csv)?
            .into_json()?)
    }

    /// `GET` a JSON answer.
    pub fn get(&self, path: &str) -> Result<Value, BenchError> {
        Ok(self
            .agent
            .get(&self.url(path))
            .set("Authorization", &format!("Bearer {}", self.token))
            .call()?
            .into_json()?)
    }
}
