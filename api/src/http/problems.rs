//! Turns every error answer that did not come from [`ApiError`] (unknown routes, wrong
//! methods, actix extractor failures, timeouts) into problem+json with a contract code.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};

use crate::error::ApiError;

/// The `ApiError` equivalent of a bare status.
pub fn error_for_status(status: StatusCode) -> ApiError {
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    match status.as_u16() {
        400 => ApiError::InvalidJson(reason),
        401 => ApiError::Unauthorized(reason),
        403 => ApiError::Forbidden(reason),
        404 => ApiError::NotFound("no such resource".into()),
        405 => ApiError::MethodNotAllowed,
        409 => ApiError::Conflict(reason),
        413 => ApiError::PayloadTooLarge(reason),
        415 => ApiError::UnsupportedMediaType(reason),
        408 => ApiError::RequestTimeout(reason),
        429 => ApiError::rate_limited(reason, 60),
        503 => ApiError::unavailable(reason, 5),
        500..=599 => ApiError::Internal(reason),
        _ => ApiError::Validation(reason),
    }
}

/// Whether the answer is already final: problem+json, or a dashboard page (whose error
/// pages are HTML on purpose).
fn is_problem<B>(res: &ServiceResponse<B>) -> bool {
    res.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/problem+json")
            || v.as_bytes().starts_with(b"text/html")
    })
}

/// `ErrorHandlers` default handler: rewrites non-problem error bodies.
pub fn to_problem<B: MessageBody>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if is_problem(&res) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, original) = res.into_parts();
    let mut replacement: HttpResponse = error_for_status(status).respond_with(status);
    for (name, value) in original.headers() {
        if name == CONTENT_TYPE
            || name == actix_web::http::header::CONTENT_LENGTH
            || name == actix_web::http::header::CONTENT_ENCODING
        {
            continue;
        }
        replacement
            .headers_mut()
            .insert(name.clone(), value.clone());
    }
    replacement.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, replacement).map_into_right_body(),
    ))
}

/// Answer for a route that does not exist.
pub async fn unknown_route() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such route".into()))
}

/// Answer for a method a route does not take, with the `Allow` header RFC 9110 requires:
/// the methods the OpenAPI document lists for the route.
pub async fn method_not_allowed(req: actix_web::HttpRequest) -> HttpResponse {
    let mut response = ApiError::MethodNotAllowed.error_response();
    let allow = req
        .match_pattern()
        .and_then(|pattern| crate::openapi::allowed_methods(&pattern))
        .and_then(|methods| HeaderValue::from_str(&methods).ok());
    if let Some(allow) = allow {
        response.headers_mut().insert(ALLOW, allow);
    }
    response
}

/// Maps actix's query-string extractor errors to 422.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::validation(format!("bad query string: {err}")).into()
}

/// Maps actix's path extractor errors to 404 (a malformed id is an unknown one).
pub fn path_error(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::NotFound(format!("bad path: {err}")).into()
}

/// Maps actix's JSON extractor errors to the contract's codes.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            ApiError::PayloadTooLarge("body too large".into())
        }
        E::ContentType => ApiError::UnsupportedMediaType("expected application/json".into()),
        E::Deserialize(inner) if inner.is_data() => ApiError::validation(inner.to_string()),
        other => ApiError::InvalidJson(other.to_string()),
    };
    api.into()
}
