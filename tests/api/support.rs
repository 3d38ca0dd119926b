//! Small helpers shared by the test files of this binary.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::{Resp, TestApp};

/// Like `both_backends!`, but every server starts with the extra environment of the named
/// `const ENV: &[(&str, &str)]`. Use it inside a submodule of the test file so its
/// `sqlite`/`postgres` modules do not clash.
#[macro_export]
macro_rules! both_backends_with_env {
    ($env:ident; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let env: &[(&str, &str)] = super::$env;
                    if let Some(app) = $crate::common::spawn_app_with($crate::common::Backend::Sqlite, env) {
                        super::$name(app);
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let env: &[(&str, &str)] = super::$env;
                    if let Some(app) = $crate::common::spawn_app_with($crate::common::Backend::Postgres, env) {
                        super::$name(app);
                    }
                }
            )*
        }
    };
}

/// The `items` of a list answer.
#[track_caller]
pub fn items(resp: &Resp) -> Vec<Value> {
    resp.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items array: {}", resp.text))
        .clone()
}

/// A string field of a JSON object.
#[track_caller]
pub fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
        .to_owned()
}

/// The set of one string field over a list answer's items.
#[track_caller]
pub fn field_set(resp: &Resp, key: &str) -> BTreeSet<String> {
    items(resp).iter().map(|item| text(item, key)).collect()
}

/// The `id`s of a list answer.
#[track_caller]
pub fn ids(resp: &Resp) -> BTreeSet<String> {
    field_set(resp, "id")
}

/// A set of strings, for comparing with [`ids`] and [`field_set`].
pub fn set<S: AsRef<str>>(values: &[S]) -> BTreeSet<String> {
    values.iter().map(|v| v.as_ref().to_owned()).collect()
}

/// Sends raw body bytes as `content_type` with a token.
pub fn post_raw(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> Resp {
    app.send(
        "POST",
        path,
        token,
        Some(content_type),
        Some(body.as_bytes()),
    )
}

/// `POST /users` as `token`.
pub fn create_user(
    app: &TestApp,
    token: &str,
    username: &str,
    role: &str,
    area: Option<&str>,
) -> Resp {
    app.post(
        "/api/v1/users",
        token,
        &json!({"username": username, "password": crate::common::world::PASSWORD,
                "display_name": username, "role": role, "area_id": area}),
    )
}

/// `POST /auth/refresh`.
pub fn refresh(app: &TestApp, refresh_token: &str) -> Resp {
    let body = json!({"refresh_token": refresh_token}).to_string();
    post_raw(app, "/api/v1/auth/refresh", None, "application/json", &body)
}
