//! The page frame, the headers every page carries, and the error pages.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::{html, Markup, DOCTYPE};

use super::i18n::{Lang, LANG_COOKIE};
use super::session::{set_cookie, CookieSecure};
use crate::error::ApiError;

/// Scripts and styles come from the binary itself; nothing inline runs, nothing outside loads.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the frame of a page needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The `<title>` and heading.
    pub title: &'a str,
    /// The signed-in user's display name and the session's CSRF token, for the menu and the
    /// sign-out button; None on the login and error pages of nobody.
    pub user: Option<(&'a str, &'a str)>,
    /// This page's path and query without `lang`, for the language switch.
    pub here: &'a str,
}

/// This page's link in the other language.
fn switch_to(here: &str, lang: Lang) -> String {
    let joint = if here.contains('?') { '&' } else { '?' };
    format!("{here}{joint}lang={}", lang.code())
}

/// The request's path and query without its `lang` parameter.
pub fn here_of(req: &actix_web::HttpRequest) -> String {
    let kept: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("lang="))
        .collect();
    if kept.is_empty() {
        req.path().to_owned()
    } else {
        format!("{}?{}", req.path(), kept.join("&"))
    }
}

/// A whole page around `body`.
pub fn page(frame: Frame<'_>, body: Markup) -> Markup {
    let l = frame.lang;
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · canvass" }
                link rel="stylesheet" href="/static/dashboard.css";
                script src="/static/dashboard.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "canvass" }
                    nav {
                        @if frame.user.is_some() {
                            a href="/campaigns" { (l.pick("Chiến dịch", "Campaigns")) }
                            a href="/imports" { (l.pick("Nhập dữ liệu", "Imports")) }
                        }
                        @match l {
                            Lang::Vi => { a href=(switch_to(frame.here, Lang::En)) hreflang="en" { "English" } }
                            Lang::En => { a href=(switch_to(frame.here, Lang::Vi)) hreflang="vi" { "Tiếng Việt" } }
                        }
                        @if let Some((name, csrf)) = frame.user {
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf_token" value=(csrf);
                                button.link type="submit" title=(name) {
                                    (l.pick("Đăng xuất", "Sign out"))
                                }
                            }
                        }
                    }
                }
                main {
                    h1 { (frame.title) }
                    (body)
                }
            }
        }
    }
}

/// A page answer with the dashboard's headers, remembering a `?lang=` choice.
pub fn respond(
    status: StatusCode,
    markup: Markup,
    remember_lang: Option<Lang>,
    secure: CookieSecure,
) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string());
    protect(&mut response);
    if let Some(lang) = remember_lang {
        set_cookie(
            &mut response,
            secure,
            LANG_COOKIE,
            lang.code(),
            Some(365 * 24 * 3600),
        );
    }
    response
}

/// The headers every dashboard answer carries, redirects included.
pub fn protect(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Pages show figures of a signed-in user: never from a shared cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A 303 (after a form) or 302 (to the login page) to `location`, a local path.
pub fn redirect(status: StatusCode, location: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status).finish();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    protect(&mut response);
    response
}

/// Why a page cannot be shown.
#[derive(Debug)]
pub enum PageKind {
    /// Not signed in: 302 to the login page, coming back here afterwards.
    SignIn(String),
    /// 403: outside the caller's scope or role.
    Forbidden,
    /// 403: a changing form without the session's CSRF token.
    Csrf,
    /// 404.
    NotFound,
    /// 405.
    MethodNotAllowed,
    /// 400 or 413 or 415: a request no form of ours sends.
    BadRequest(StatusCode),
    /// 503: the database cannot be reached.
    Unavailable,
    /// 500.
    Internal,
}

/// An error answered as a page.
#[derive(Debug)]
pub struct PageError {
    /// The language of the page.
    pub lang: Lang,
    /// What went wrong.
    pub kind: PageKind,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.kind)
    }
}

impl PageError {
    /// Not signed in; `back` is the path to return to.
    pub fn sign_in(lang: Lang, back: &str) -> PageError {
        PageError {
            lang,
            kind: PageKind::SignIn(back.to_owned()),
        }
    }

    /// 403 for a missing or wrong CSRF token.
    pub fn csrf(lang: Lang) -> PageError {
        PageError {
            lang,
            kind: PageKind::Csrf,
        }
    }

    /// 404.
    pub fn not_found(lang: Lang) -> PageError {
        PageError {
            lang,
            kind: PageKind::NotFound,
        }
    }

    /// The page for an error of the shared rules.
    pub fn from_api(lang: Lang, err: ApiError) -> PageError {
        let kind = match err {
            ApiError::Forbidden(_) => PageKind::Forbidden,
            ApiError::NotFound(_) => PageKind::NotFound,
            ApiError::Unauthorized(_) => PageKind::SignIn("/".into()),
            ApiError::MethodNotAllowed => PageKind::MethodNotAllowed,
            ApiError::Unavailable { .. } | ApiError::StorageFull(_) => PageKind::Unavailable,
            ApiError::PayloadTooLarge(_) => PageKind::BadRequest(StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::UnsupportedMediaType(_) => {
                PageKind::BadRequest(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            ApiError::InvalidJson(_) | ApiError::Validation(_) | ApiError::RequestTimeout(_) => {
                PageKind::BadRequest(StatusCode::BAD_REQUEST)
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "dashboard page failed");
                PageKind::Internal
            }
            other => {
                tracing::warn!(error = %other, "dashboard page refused");
                PageKind::BadRequest(StatusCode::BAD_REQUEST)
            }
        };
        PageError { lang, kind }
    }

    fn status(&self) -> StatusCode {
        match &self.kind {
            PageKind::SignIn(_) => StatusCode::FOUND,
            PageKind::Forbidden | PageKind::Csrf => StatusCode::FORBIDDEN,
            PageKind::NotFound => StatusCode::NOT_FOUND,
            PageKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            PageKind::BadRequest(status) => *status,
            PageKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn texts(&self) -> (&'static str, &'static str) {
        let l = self.lang;
        match &self.kind {
            PageKind::Forbidden => (
                l.pick("Không có quyền truy cập", "Not allowed"),
                l.pick(
                    "Trang này nằm ngoài địa bàn hoặc vai trò của bạn. Nếu cần xem, hãy liên hệ cán bộ phụ trách.",
                    "This page lies outside your area or your role. Ask your coordinator if you need it.",
                ),
            ),
            PageKind::Csrf => (
                l.pick("Biểu mẫu đã hết hạn", "The form has expired"),
                l.pick(
                    "Biểu mẫu này không còn hợp lệ. Hãy quay lại trang trước, tải lại rồi gửi lại.",
                    "This form is no longer valid. Go back, reload the page and send it again.",
                ),
            ),
            PageKind::NotFound => (
                l.pick("Không tìm thấy trang", "Page not found"),
                l.pick(
                    "Địa chỉ này không dẫn tới trang nào. Hãy kiểm tra lại đường dẫn.",
                    "Nothing lives at this address. Check the link.",
                ),
            ),
            PageKind::MethodNotAllowed => (
                l.pick("Thao tác không được hỗ trợ", "Method not allowed"),
                l.pick("Trang này không nhận thao tác đó.", "This page does not take that request."),
            ),
            PageKind::BadRequest(_) => (
                l.pick("Yêu cầu không hợp lệ", "Bad request"),
                l.pick("Máy chủ không hiểu yêu cầu này.", "The server could not understand this request."),
            ),
            PageKind::Unavailable => (
                l.pick("Máy chủ đang bận", "Server unavailable"),
                l.pick(
                    "Cơ sở dữ liệu tạm thời không trả lời. Vui lòng thử lại sau ít phút.",
                    "The database is not answering for now. Please try again in a few minutes.",
                ),
            ),
            PageKind::Internal | PageKind::SignIn(_) => (
                l.pick("Đã có lỗi", "Something went wrong"),
                l.pick(
                    "Máy chủ gặp lỗi khi tạo trang này. Lỗi đã được ghi lại.",
                    "The server failed to build this page. The error has been logged.",
                ),
            ),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let PageKind::SignIn(back) = &self.kind {
            let location = if back == "/" {
                "/login".to_owned()
            } else {
                format!("/login?next={}", percent_encode(back))
            };
            return redirect(StatusCode::FOUND, &location);
        }
        let (title, detail) = self.texts();
        let l = self.lang;
        let body = html! {
            p.notice { (detail) }
            p { a href="/" { (l.pick("Về trang chủ", "Back to the home page")) } }
        };
        let frame = Frame {
            lang: l,
            title,
            user: None,
            here: "/",
        };
        respond(self.status(), page(frame, body), None, CookieSecure(false))
    }
}

/// Percent-encodes everything but unreserved characters and `/`, for a query value.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
