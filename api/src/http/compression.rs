//! Which answers are gzip-compressed (contract §12, "Compression"): JSON and CSV answers
//! over 1 KiB, when the request's `Accept-Encoding` allows it.
//!
//! actix's `Compress` middleware does the negotiation and the streaming, but it compresses
//! every answer it may. It leaves alone an answer that already names a `Content-Encoding`,
//! so [`leave_plain`], inside it, marks the answers that are to stay plain with `identity`,
//! and [`strip_identity_marker`], outside it, takes the marker off again.

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use actix_web::middleware::Next;

/// Answers at most this long stay plain: gzip's own overhead eats most of the gain.
pub const MIN_COMPRESSED_BYTES: u64 = 1024;

fn is_json_or_csv(headers: &HeaderMap) -> bool {
    let Some(essence) = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
    else {
        return false;
    };
    essence == "application/json"
        || essence == "text/csv"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn worth_compressing(headers: &HeaderMap, size: BodySize) -> bool {
    let long_enough = match size {
        BodySize::None => false,
        BodySize::Sized(n) => n > MIN_COMPRESSED_BYTES,
        // A streamed answer (an export) is long by nature.
        BodySize::Stream => true,
    };
    long_enough && is_json_or_csv(headers)
}

/// Marks answers that must stay plain (short, or neither JSON nor CSV).
pub async fn leave_plain(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let size = res.response().body().size();
    let headers = res.headers_mut();
    if !headers.contains_key(CONTENT_ENCODING) && !worth_compressing(headers, size) {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("identity"));
    }
    Ok(res)
}

/// Removes the `identity` marker of [`leave_plain`] (it means "not encoded" anyway).
pub fn strip_identity_marker(headers: &mut HeaderMap) {
    if headers
        .get(CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"identity"))
    {
        headers.remove(CONTENT_ENCODING);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        map
    }

    #[test]
    fn only_json_and_csv_over_one_kib_are_worth_compressing() {
        let json = headers("application/json");
        assert!(worth_compressing(&json, BodySize::Sized(1025)));
        assert!(!worth_compressing(&json, BodySize::Sized(1024)));
        assert!(worth_compressing(
            &headers("text/csv; charset=utf-8"),
            BodySize::Stream
        ));
        assert!(worth_compressing(
            &headers("application/problem+json"),
            BodySize::Sized(5000)
        ));
        assert!(!worth_compressing(
            &headers("text/html"),
            BodySize::Sized(5000)
        ));
        assert!(!worth_compressing(&HeaderMap::new(), BodySize::Sized(5000)));
    }
}
