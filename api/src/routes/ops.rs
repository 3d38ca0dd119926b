//! Operations: health, readiness, metrics, the OpenAPI document and its browsable page
//! (contract section 10). None needs a token.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// 200 once serving.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "operations", responses((status = 200)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// 200 when the database answers; 503 `unavailable` with `Retry-After` while it does not,
/// and while its disk is full (reads are served then, but no write can be).
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "operations",
    responses((status = 200)))]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state
        .db
        .read(|conn| conn.batch_execute("SELECT 1").map_err(ApiError::from))
        .await
        .map_err(|err| {
            tracing::warn!(error = %err, "not ready");
            ApiError::unavailable(
                "the database does not answer",
                crate::db::pool::RETRY_AFTER_SECS,
            )
        })?;
    if state.db.disk_still_full().await {
        return Err(ApiError::StorageFull(
            "the database's disk is full: writes are refused until space is freed".into(),
        ));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

/// Prometheus text: request counts and latencies by route and status.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

/// The OpenAPI 3.1 document (see `crate::openapi`).
#[utoipa::path(get, path = "/api/v1/openapi.json", operation_id = "getOpenApiDocument", tag = "operations", responses((status = 200)))]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::document())
}

/// A browsable page over the OpenAPI document; its assets ship inside the binary.
pub async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(include_str!("../../assets/docs.html"))
}

/// The page's script.
pub async fn docs_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(include_str!("../../assets/docs.js"))
}

/// The page's style sheet.
pub async fn docs_style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(include_str!("../../assets/docs.css"))
}
