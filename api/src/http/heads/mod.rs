//! Request heads are read and judged here, before actix-http parses them.
//!
//! actix-http answers a malformed head (400), a head that is too large or has too many
//! fields (431) and a head that does not arrive in time (408) by itself, with an empty body
//! and none of our headers, and offers no hook to change that. So every connection is read
//! through a [`GuardedStream`]: it hands actix-http only heads it has judged sound (by the
//! same rules actix-http applies, with tighter limits), and in place of a refused head it
//! hands over a request of its own making for an internal path. That request goes through
//! the application like any other, so the refusal is answered as problem+json with the
//! security headers, logged and counted, and the connection is then closed.

mod chunked;
mod judge;
mod stream;

pub use judge::{MAX_HEADERS, MAX_HEAD_BYTES};
pub use stream::GuardedStream;

use std::sync::OnceLock;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;

use crate::error::ApiError;

/// Why a head was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not an HTTP/1.x request head, or one actix-http would refuse (RFC 9112).
    Malformed,
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// More than [`MAX_HEAD_BYTES`] before the blank line.
    TooLarge,
    /// The head did not arrive within the client timeout.
    Slow,
}

impl Refusal {
    const ALL: [Refusal; 4] = [
        Refusal::Malformed,
        Refusal::TooManyHeaders,
        Refusal::TooLarge,
        Refusal::Slow,
    ];

    fn slug(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::TooManyHeaders => "too-many-headers",
            Refusal::TooLarge => "too-large",
            Refusal::Slow => "slow",
        }
    }

    /// The problem answer: 400 `validation`, 431 `payload_too_large` or 408
    /// `request_timeout`.
    fn answer(self) -> actix_web::HttpResponse {
        match self {
            Refusal::Malformed => ApiError::validation(
                "the request head is not a well-formed HTTP/1.1 request (RFC 9112)",
            )
            .respond_with(StatusCode::BAD_REQUEST),
            Refusal::TooManyHeaders => ApiError::PayloadTooLarge(format!(
                "the request has more than {MAX_HEADERS} header fields"
            ))
            .respond_with(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
            Refusal::TooLarge => ApiError::PayloadTooLarge(format!(
                "the request line and header fields exceed {} KiB",
                MAX_HEAD_BYTES / 1024
            ))
            .respond_with(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
            Refusal::Slow => ApiError::RequestTimeout(
                "the request head did not arrive within the client timeout".into(),
            )
            .respond_with(StatusCode::REQUEST_TIMEOUT),
        }
    }

    /// The request handed to actix-http in place of the refused head.
    fn stand_in_request(self) -> Vec<u8> {
        format!(
            "GET {}{} HTTP/1.1\r\nhost: canvass\r\nconnection: close\r\n\r\n",
            stand_in_prefix(),
            self.slug()
        )
        .into_bytes()
    }
}

/// The internal path of stand-in requests, random per process so that no client can
/// reach it (a client that guessed it would only get a refusal anyway).
fn stand_in_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| format!("/.refused-head/{}/", uuid::Uuid::new_v4().simple()))
}

/// Middleware (use with `actix_web::middleware::from_fn`, inside the one that adds the
/// security headers): answers stand-in requests with their refusal.
pub async fn answer_refused_heads(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refusal = req
        .path()
        .strip_prefix(stand_in_prefix())
        .and_then(|slug| Refusal::ALL.into_iter().find(|r| r.slug() == slug));
    if let Some(refusal) = refusal {
        tracing::info!(?refusal, "request head refused");
        return Ok(req.into_response(refusal.answer()).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
