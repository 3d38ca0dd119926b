//! `GET /login`, `POST /login`, `POST /logout`, and `/` (contract section 14).
//!
//! The login form is protected against forgery before anyone is signed in by a token kept
//! in its own cookie and repeated in the form; a cross-site page can neither read the
//! cookie nor set it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::form;
use super::i18n::Lang;
use super::render::{page, redirect, respond, Frame, PageError};
use super::session::{
    cookie, language, random_token, same_secret, set_cookie, start, CookieSecure, Viewer,
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL_MS,
};
use crate::auth::client_addr::client_key;
use crate::auth::throttle::LoginThrottle;
use crate::error::ApiError;
use crate::routes::auth::verify_credentials;
use crate::state::{now_ms_i64, AppState};

/// Where to go after signing in: a local path only, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn query_value(req: &HttpRequest, name: &str) -> Option<String> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()?
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

fn login_page(
    lang: Lang,
    remember_lang: Option<Lang>,
    secure: CookieSecure,
    status: StatusCode,
    message: Option<&str>,
    username: &str,
    next: &str,
) -> HttpResponse {
    let csrf = random_token();
    let l = lang;
    let body = html! {
        @if let Some(message) = message {
            p.error role="alert" { (message) }
        }
        form.card.login method="post" action="/login" {
            input type="hidden" name="csrf_token" value=(csrf);
            input type="hidden" name="next" value=(next);
            label for="username" { (l.pick("Tên đăng nhập", "Username")) }
            input #username type="text" name="username" value=(username) autocomplete="username"
                autocapitalize="none" required autofocus;
            label for="password" { (l.pick("Mật khẩu", "Password")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { (l.pick("Đăng nhập", "Sign in")) }
        }
    };
    let frame = Frame {
        lang,
        title: l.pick("Đăng nhập", "Sign in"),
        user: None,
        here: "/login",
    };
    let mut response = respond(status, page(frame, body), remember_lang, secure);
    set_cookie(&mut response, secure, LOGIN_CSRF_COOKIE, &csrf, None);
    response
}

/// `GET /login`: the form.
pub async fn form_page(req: HttpRequest, secure: web::Data<CookieSecure>) -> HttpResponse {
    let (lang, remember) = language(&req);
    let next = safe_next(query_value(&req, "next").as_deref());
    login_page(lang, remember, **secure, StatusCode::OK, None, "", &next)
}

/// `POST /login`: a session cookie and 303 home, or the form again with 401 (429 while
/// throttled), counting towards the same throttling as the API's login.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (lang, _) = language(&req);
    let secure = **secure;
    let form = form::read(&req, payload, lang).await?;
    let expected = cookie(&req, LOGIN_CSRF_COOKIE);
    match (form.get("csrf_token"), expected.as_deref()) {
        (Some(sent), Some(expected)) if same_secret(sent, expected) => {}
        _ => return Err(PageError::csrf(lang)),
    }
    let username = form.get("username").unwrap_or_default().to_owned();
    let password = form.get("password").unwrap_or_default().to_owned();
    let next = safe_next(form.get("next"));
    let client = client_key(&req, state.trust_proxy);
    let again = |status, message| {
        Ok(login_page(
            lang,
            None,
            secure,
            status,
            Some(message),
            &username,
            &next,
        ))
    };
    let (user, attempt) = match verify_credentials(&state, client, username.clone(), password).await
    {
        Ok(found) => found,
        Err(ApiError::Unauthorized(_)) => {
            return again(
                StatusCode::UNAUTHORIZED,
                lang.pick(
                    "Sai tên đăng nhập hoặc mật khẩu.",
                    "Wrong username or password.",
                ),
            )
        }
        Err(ApiError::RateLimited { .. }) => {
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                lang.pick(
                    "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút.",
                    "Too many failed sign-ins. Please try again in 15 minutes.",
                ),
            )
        }
        Err(err) => return Err(PageError::from_api(lang, err)),
    };
    let user_id = user.id;
    let token = state
        .db
        .write(move |conn| {
            LoginThrottle::forgive(conn, &attempt)?;
            start(conn, user_id, now_ms_i64())
        })
        .await
        .map_err(|err| PageError::from_api(lang, err))?;
    let mut response = redirect(StatusCode::SEE_OTHER, &next);
    set_cookie(
        &mut response,
        secure,
        SESSION_COOKIE,
        &token,
        Some(SESSION_TTL_MS / 1000),
    );
    set_cookie(&mut response, secure, LOGIN_CSRF_COOKIE, "", Some(0));
    Ok(response)
}

/// `POST /logout`: ends the session (with its CSRF token) and goes to the login page.
pub async fn sign_out(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    form::read_posted(&req, payload, &viewer).await?;
    viewer
        .end(&state)
        .await
        .map_err(|err| PageError::from_api(viewer.lang, err))?;
    let mut response = redirect(StatusCode::SEE_OTHER, "/login");
    set_cookie(&mut response, **secure, SESSION_COOKIE, "", Some(0));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_signing_in() {
        assert_eq!(
            safe_next(Some("/campaigns/x?ward_id=1")),
            "/campaigns/x?ward_id=1"
        );
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
