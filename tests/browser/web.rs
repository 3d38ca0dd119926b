//! A cookie-keeping HTTP client for the dashboard that does not follow redirects, so tests
//! see every status, header and cookie attribute the server sends.
#![allow(dead_code)]

use std::collections::BTreeMap;

/// One answer.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Page {
    /// The first value of a header (lower-case name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every `Set-Cookie` whose cookie is `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str())
            .find(|v| v.starts_with(&format!("{name}=")))
    }

    /// The value of the first hidden `csrf_token` field.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.text.find(marker).expect("a csrf_token field") + marker.len();
        let end = self.text[start..].find('"').expect("end of value") + start;
        self.text[start..end].to_owned()
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Page {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
}

/// A browser-like client: keeps cookies, sends `Accept: text/html`.
pub struct Web {
    agent: ureq::Agent,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
}

impl Web {
    pub fn new(base: &str) -> Web {
        Web {
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, page: &Page) {
        for (_, value) in page.headers.iter().filter(|(n, _)| n == "set-cookie") {
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || value_max_age_zero(&page.headers, name) {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
    }

    fn finish(&mut self, result: Result<ureq::Response, ureq::Error>) -> Page {
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = response.status();
        let mut headers = Vec::new();
        for name in response.headers_names() {
            for value in response.all(&name) {
                headers.push((name.to_lowercase(), value.to_owned()));
            }
        }
        let text = response.into_string().unwrap_or_default();
        let page = Page {
            status,
            headers,
            text,
        };
        self.keep(&page);
        page
    }

    pub fn get(&mut self, path: &str) -> Page {
        let request = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Accept", "text/html")
            .set("Cookie", &self.cookie_header());
        let result = request.call();
        self.finish(result)
    }

    /// Posts a urlencoded form.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Accept", "text/html")
            .set("Cookie", &self.cookie_header());
        let result = request.send_form(fields);
        self.finish(result)
    }

    /// Signs in through the form; returns the answer to the POST.
    pub fn sign_in(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/login").expect(200);
        let csrf = form.csrf();
        self.post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
    }
}

fn value_max_age_zero(headers: &[(String, String)], name: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .any(|(_, v)| v.starts_with(&format!("{name}=")) && v.contains("Max-Age=0"))
}
