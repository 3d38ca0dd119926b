//! Dashboard sessions and their cookies: who is signed in, their CSRF token, their language.
//!
//! The cookie holds 32 random bytes; the database holds only their SHA-256 (a copy of the
//! database signs nobody in). Sessions live in the database, so they survive a restart and
//! hold across processes, and they end with the user's other logins (disable, new password,
//! logout of every login).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::{HeaderValue, COOKIE, SET_COOKIE};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::i18n::{Lang, LANG_COOKIE};
use super::render::PageError;
use crate::auth::Caller;
use crate::db::{users, web_sessions, DbConn};
use crate::error::ApiError;
use crate::model::UserId;
use crate::state::{now_ms_i64, AppState};

/// The session cookie.
pub const SESSION_COOKIE: &str = "canvass_session";
/// The cookie that carries the login form's CSRF token before anyone is signed in.
pub const LOGIN_CSRF_COOKIE: &str = "canvass_login_csrf";
/// How long a session lasts after signing in.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// Whether dashboard cookies carry `Secure` (`--cookie-secure`), kept in the app data.
#[derive(Debug, Clone, Copy, Default)]
pub struct CookieSecure(pub bool);

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Compares two secrets in time that depends on their lengths only.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// A `Set-Cookie` value with the dashboard's attributes: `HttpOnly`, `SameSite=Strict`,
/// `Path=/`, and `Secure` when configured. `max_age` None makes a cookie for the browser
/// session; `Some(0)` removes it.
pub fn set_cookie(
    response: &mut HttpResponse,
    secure: CookieSecure,
    name: &str,
    value: &str,
    max_age_secs: Option<i64>,
) {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age_secs {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if secure.0 {
        text.push_str("; Secure");
    }
    if let Ok(value) = HeaderValue::from_str(&text) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// The language of a request: `?lang=` first, then the remembered cookie, else Vietnamese.
/// The second value is a `?lang=` to remember.
pub fn language(req: &HttpRequest) -> (Lang, Option<Lang>) {
    let asked = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|pairs| {
            pairs
                .iter()
                .rev()
                .find(|(key, _)| key == "lang")
                .and_then(|(_, value)| Lang::parse(value))
        });
    match asked {
        Some(lang) => (lang, Some(lang)),
        None => (
            cookie(req, LANG_COOKIE)
                .and_then(|text| Lang::parse(&text))
                .unwrap_or_default(),
            None,
        ),
    }
}

/// Starts a session for `user_id`; returns the cookie's token and the CSRF token.
pub fn start(conn: &mut DbConn, user_id: UserId, now_ms: i64) -> Result<String, ApiError> {
    let token = random_token();
    web_sessions::insert(
        conn,
        &web_sessions::WebSessionRow {
            token_hash: token_hash(&token),
            user_id: user_id.to_string(),
            csrf_token: random_token(),
            created_at: now_ms,
            expires_at: now_ms.saturating_add(SESSION_TTL_MS),
        },
    )?;
    // Expired sessions are removed on the way; there are few, one per sign-in.
    web_sessions::prune(conn, now_ms)?;
    Ok(token)
}

/// A signed-in, enabled user looking at the dashboard.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The same caller the API's handlers see, so the same rules apply.
    pub caller: Caller,
    /// The session's CSRF token, for the forms of the page.
    pub csrf_token: String,
    /// The page's language.
    pub lang: Lang,
    /// A `?lang=` choice to remember in a cookie.
    pub remember_lang: Option<Lang>,
    /// The page's path and query without `lang`.
    pub here: String,
    token_hash: String,
}

impl Viewer {
    /// The frame of a page of this viewer.
    pub fn frame<'a>(&'a self, title: &'a str) -> super::render::Frame<'a> {
        super::render::Frame {
            lang: self.lang,
            title,
            user: Some((&self.caller.user.display_name, &self.csrf_token)),
            here: &self.here,
        }
    }

    /// 403 unless `presented` is this session's CSRF token.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), PageError> {
        match presented {
            Some(token) if same_secret(token, &self.csrf_token) => Ok(()),
            _ => Err(PageError::csrf(self.lang)),
        }
    }

    /// Ends this session.
    pub async fn end(&self, state: &AppState) -> Result<(), ApiError> {
        let hash = self.token_hash.clone();
        state
            .db
            .write(move |conn| Ok(web_sessions::end(conn, &hash)?))
            .await
    }
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Viewer, PageError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = cookie(req, SESSION_COOKIE);
        let (lang, remember_lang) = language(req);
        let here = super::render::here_of(req);
        let back = req
            .uri()
            .path_and_query()
            .map_or("/".to_owned(), |pq| pq.as_str().to_owned());
        Box::pin(async move {
            let sign_in = || PageError::sign_in(lang, &back);
            let state =
                state.ok_or_else(|| PageError::from_api(lang, ApiError::internal("state")))?;
            let token = token.ok_or_else(sign_in)?;
            let hash = token_hash(&token);
            let found = {
                let hash = hash.clone();
                state
                    .db
                    .read(move |conn| {
                        let Some(session) = web_sessions::find_live(conn, &hash, now_ms_i64())?
                        else {
                            return Ok(None);
                        };
                        let Ok(id) = session.user_id.parse::<UserId>() else {
                            return Ok(None);
                        };
                        let user = users::find(conn, id)?.filter(|user| !user.disabled);
                        Ok(user.map(|user| (user, session.csrf_token)))
                    })
                    .await
                    .map_err(|err| PageError::from_api(lang, err))?
            };
            let (user, csrf_token) = found.ok_or_else(sign_in)?;
            let caller = Caller {
                id: user.id,
                role: user.role,
                user,
            };
            Ok(Viewer {
                caller,
                csrf_token,
                lang,
                remember_lang,
                here,
                token_hash: hash,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn tokens_are_long_random_and_hashed_apart() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a).len(), 64);
    }
}
