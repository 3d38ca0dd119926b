//! Reading and decoding request bodies after the caller has been judged, so that a request
//! is answered 401/403/404 before its body is even looked at.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::HttpRequest;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// Limit of JSON bodies (contract: 2 MiB for a push).
pub const JSON_LIMIT: usize = 2 * 1024 * 1024;
/// Limit of CSV import bodies.
pub const CSV_LIMIT: usize = 64 * 1024 * 1024;

/// How long a body of at most `limit` bytes may take: the configured time for JSON, ten
/// times as long for CSV imports (tens of MiB over a slow link).
fn body_timeout(req: &HttpRequest, limit: usize) -> std::time::Duration {
    let base = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(std::time::Duration::from_secs(60), |state| {
            state.body_timeout
        });
    if limit > JSON_LIMIT {
        base * 10
    } else {
        base
    }
}

/// Reads the whole body, refusing it with 413 as soon as it passes `limit`.
pub async fn read_limited(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> ApiResult<Bytes> {
    let too_large = || ApiError::PayloadTooLarge(format!("body is larger than {limit} bytes"));
    if let Some(length) = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if length > limit as u64 {
            return Err(too_large());
        }
    }
    let allowed = body_timeout(req, limit);
    let read = async {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|err| ApiError::InvalidJson(format!("cannot read body: {err}")))?;
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    actix_web::rt::time::timeout(allowed, read)
        .await
        .map_err(|_| {
            ApiError::InvalidJson(format!(
                "the body did not arrive within {} s",
                allowed.as_secs()
            ))
        })?
}

fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    Some(essence)
}

fn is_json_type(essence: &str) -> bool {
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads a JSON body within [`JSON_LIMIT`] and decodes it (see [`json`]).
pub async fn read_json<T: DeserializeOwned>(req: &HttpRequest, payload: Payload) -> ApiResult<T> {
    let bytes = read_limited(req, payload, JSON_LIMIT).await?;
    json(req, &bytes)
}

/// Decodes a JSON body: 415 for another content type, 400 when it does not parse,
/// 422 when it parses but has the wrong shape or values.
pub fn json<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> ApiResult<T> {
    match media_type(req) {
        Some(essence) if is_json_type(&essence) => {}
        Some(other) => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "expected application/json, got {other}"
            )))
        }
        None => {
            return Err(ApiError::UnsupportedMediaType(
                "expected a Content-Type of application/json".into(),
            ))
        }
    }
    let value = parse_json_value(body)?;
    // Serde reads a struct from an array too (`[]` would be an empty PATCH): every body
    // of this API is an object, so anything else is the wrong shape.
    if !value.is_object() {
        return Err(ApiError::validation("the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|err| ApiError::validation(err.to_string()))
}

/// Whether a one-line text (a name, a code) holds a control character. PostgreSQL cannot
/// store U+0000 at all, and no name or code needs a tab or a line break.
pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Parses JSON text into a value: 400 for bad syntax, 422 for a number JSON cannot hold.
pub fn parse_json_value(body: &[u8]) -> ApiResult<serde_json::Value> {
    serde_json::from_slice(body).map_err(|err| {
        let text = err.to_string();
        if text.starts_with("number out of range") {
            ApiError::validation(format!("a number is out of range: {text}"))
        } else {
            ApiError::InvalidJson(format!("malformed JSON: {text}"))
        }
    })
}

/// A CSV import body as text: 415 unless `text/csv`, 422 unless UTF-8.
pub fn csv_text(req: &HttpRequest, body: &[u8]) -> ApiResult<String> {
    match media_type(req) {
        Some(essence) if essence == "text/csv" => {}
        Some(other) => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "expected text/csv, got {other}"
            )))
        }
        None => {
            return Err(ApiError::UnsupportedMediaType(
                "expected a Content-Type of text/csv".into(),
            ))
        }
    }
    let text = std::str::from_utf8(body)
        .map_err(|err| ApiError::validation(format!("the CSV is not UTF-8: {err}")))?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text).to_owned())
}

/// Parses a path segment as a UUID; a malformed id is an unknown one (404).
pub fn path_id(text: &str, what: &str) -> ApiResult<uuid::Uuid> {
    uuid::Uuid::parse_str(text).map_err(|_| ApiError::not_found(what))
}

/// Parses an optional UUID query parameter (422 when malformed).
pub fn query_id(text: Option<&str>, name: &str) -> ApiResult<Option<uuid::Uuid>> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => uuid::Uuid::parse_str(text)
            .map(Some)
            .map_err(|_| ApiError::validation(format!("{name} is not a UUID"))),
    }
}

/// Checks the `code` and `name` of an area or street: a code of 1 to `max_code` characters
/// without white space, a name of 1 to 200 characters; neither with control characters.
/// `line` names the CSV line in import errors.
pub fn check_code_and_name(
    line: Option<u64>,
    code: &str,
    max_code: usize,
    name: &str,
) -> ApiResult<()> {
    let prefix = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    if code.is_empty()
        || code.chars().count() > max_code
        || code.chars().any(char::is_whitespace)
        || has_control(code)
    {
        return Err(ApiError::validation(format!(
            "{prefix}code must have 1 to {max_code} characters and no white space"
        )));
    }
    if name.trim().is_empty() || name.chars().count() > 200 || has_control(name) {
        return Err(ApiError::validation(format!(
            "{prefix}name must have 1 to 200 characters and no control character"
        )));
    }
    Ok(())
}
