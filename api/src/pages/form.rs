//! Reading the dashboard's `application/x-www-form-urlencoded` forms.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Payload;
use actix_web::HttpRequest;

use super::i18n::Lang;
use super::render::PageError;
use crate::error::ApiError;
use crate::http::body::read_limited;

/// No form of the dashboard comes near this.
const FORM_LIMIT: usize = 64 * 1024;

/// The fields of a posted form, in order.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Builds a form from fields (multipart uploads gather theirs this way).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Form {
        Form(pairs)
    }
}

/// Reads a urlencoded form: 415 for another content type, 413 past 64 KiB, 400 when it
/// does not decode.
pub async fn read(req: &HttpRequest, payload: Payload, lang: Lang) -> Result<Form, PageError> {
    let essence = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    if essence.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(PageError::from_api(
            lang,
            ApiError::UnsupportedMediaType("expected a form".into()),
        ));
    }
    let bytes = read_limited(req, payload, FORM_LIMIT)
        .await
        .map_err(|err| PageError::from_api(lang, err))?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
        .map_err(|err| PageError::from_api(lang, ApiError::InvalidJson(err.to_string())))?;
    Ok(Form(pairs))
}

/// Reads a form posted by a signed-in viewer and checks its CSRF token (403 without the
/// session's own).
pub async fn read_posted(
    req: &HttpRequest,
    payload: Payload,
    viewer: &super::session::Viewer,
) -> Result<Form, PageError> {
    let form = read(req, payload, viewer.lang).await?;
    viewer.check_csrf(form.get("csrf_token"))?;
    Ok(form)
}

/// An id in a page's path: 404 page when it is not a UUID.
pub fn path_id<T: From<uuid::Uuid>>(lang: Lang, text: &str, what: &str) -> Result<T, PageError> {
    crate::http::body::path_id(text, what)
        .map(T::from)
        .map_err(|e| PageError::from_api(lang, e))
}
