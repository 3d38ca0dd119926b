//! One middleware for what is observed of each request: a tracing span with one closing log
//! line (method, route, status, latency, user id; never bodies, passwords or tokens) and the
//! metrics. It also adds the security headers every answer carries.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::state::AppState;

const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    (
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'",
    ),
];

/// The middleware function (use with `actix_web::middleware::from_fn`).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let result = next.call(req).instrument(span.clone()).await;
    let mut res = match result {
        Ok(res) => res,
        Err(err) => {
            let _entered = span.enter();
            tracing::warn!(error = %err, "request failed before a response");
            return Err(err);
        }
    };
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    span.record("route", route.as_str());
    span.in_scope(|| {
        tracing::info!(status, latency_ms = elapsed * 1000.0, "request");
    });
    if let Some(state) = state {
        state.metrics.observe(&method, &route, status, elapsed);
    }
    let headers = res.headers_mut();
    super::compression::strip_identity_marker(headers);
    for (name, value) in SECURITY_HEADERS {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    Ok(res)
}
