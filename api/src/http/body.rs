//! Reading and decoding request bodies after the caller has been judged, so that a request
//! is answered 401/403/404 before its body is even looked at.

use actix_web::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::HttpRequest;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

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

/// How a request body is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyEncoding {
    Identity,
    Gzip,
}

/// The body's `Content-Encoding`: none or `identity` as sent, `gzip` (or its old alias
/// `x-gzip`) inflated here; any other is 415, since the body could not be read at all.
fn body_encoding(req: &HttpRequest) -> ApiResult<BodyEncoding> {
    let Some(value) = req.headers().get(CONTENT_ENCODING) else {
        return Ok(BodyEncoding::Identity);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::UnsupportedMediaType("unreadable Content-Encoding".into()))?;
    let codings: Vec<String> = text
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    match codings.as_slice() {
        [] => Ok(BodyEncoding::Identity),
        [one] if one == "gzip" || one == "x-gzip" => Ok(BodyEncoding::Gzip),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Encoding {text:?} is not accepted; send gzip or nothing"
        ))),
    }
}

/// Collects the inflated bytes, refusing them as soon as they pass the limit: a gzip bomb
/// is stopped after `limit` bytes of output, never inflated whole.
struct Capped {
    out: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.limit {
            return Err(std::io::Error::other(TooLarge));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("inflated body over its limit")
    }
}

impl std::error::Error for TooLarge {}

/// The body as it arrives, plain or inflated on the fly.
enum Sink {
    Plain(BytesMut),
    Gzip(Box<flate2::write::GzDecoder<Capped>>),
}

impl Sink {
    fn new(encoding: BodyEncoding, limit: usize) -> Sink {
        match encoding {
            BodyEncoding::Identity => Sink::Plain(BytesMut::new()),
            BodyEncoding::Gzip => Sink::Gzip(Box::new(flate2::write::GzDecoder::new(Capped {
                out: Vec::new(),
                limit,
            }))),
        }
    }

    fn push(&mut self, chunk: &[u8], limit: usize) -> ApiResult<()> {
        match self {
            Sink::Plain(body) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(chunk);
                Ok(())
            }
            Sink::Gzip(decoder) => {
                use std::io::Write;
                decoder
                    .write_all(chunk)
                    .map_err(|err| inflate_error(err, limit))
            }
        }
    }

    fn finish(self, limit: usize) -> ApiResult<Bytes> {
        match self {
            Sink::Plain(body) => Ok(body.freeze()),
            Sink::Gzip(decoder) => {
                let capped = decoder.finish().map_err(|err| inflate_error(err, limit))?;
                Ok(Bytes::from(capped.out))
            }
        }
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("body is larger than {limit} bytes"))
}

fn inflate_error(err: std::io::Error, limit: usize) -> ApiError {
    let over = err
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<TooLarge>().is_some());
    if over {
        ApiError::PayloadTooLarge(format!("body inflates to more than {limit} bytes"))
    } else {
        ApiError::InvalidJson(format!("the gzip body does not inflate: {err}"))
    }
}

/// Reads the whole body, refusing it with 413 as soon as it passes `limit` (after
/// inflating a gzip body), 408 when it does not arrive in time, 415 for a
/// `Content-Encoding` other than gzip.
pub async fn read_limited(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> ApiResult<Bytes> {
    let encoding = body_encoding(req)?;
    // A compressed body is at most as long as its limit on the wire too.
    if let Some(length) = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if length > limit as u64 {
            return Err(too_large(limit));
        }
    }
    let allowed = body_timeout(req, limit);
    let read = async {
        let mut sink = Sink::new(encoding, limit);
        let mut on_wire = 0usize;
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|err| ApiError::InvalidJson(format!("cannot read body: {err}")))?;
            on_wire += chunk.len();
            if on_wire > limit {
                return Err(too_large(limit));
            }
            sink.push(&chunk, limit)?;
        }
        sink.finish(limit)
    };
    actix_web::rt::time::timeout(allowed, read)
        .await
        .map_err(|_| {
            ApiError::RequestTimeout(format!(
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
    let value = json_object(req, body)?;
    serde_json::from_value(Value::Object(value))
        .map_err(|err| ApiError::validation(err.to_string()))
}

/// A JSON body as its object, parsed once: for a body walked by hand (a push), which a
/// typed decoding would copy again.
pub fn json_object(req: &HttpRequest, body: &[u8]) -> ApiResult<serde_json::Map<String, Value>> {
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
    // Serde reads a struct from an array too (`[]` would be an empty PATCH): every body
    // of this API is an object, so anything else is the wrong shape.
    match parse_json_value(body)? {
        Value::Object(object) => Ok(object),
        _ => Err(ApiError::validation("the body must be a JSON object")),
    }
}

/// Whether a one-line text (a name, a code) holds a control character. PostgreSQL cannot
/// store U+0000 at all, and no name or code needs a tab or a line break.
pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Parses JSON text into a value: 400 for bad syntax, 422 for a number JSON cannot hold.
pub fn parse_json_value(body: &[u8]) -> ApiResult<Value> {
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
