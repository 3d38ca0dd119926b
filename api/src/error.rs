//! One error type for the whole API, answered as RFC 9457 `application/problem+json`
//! with the contract's stable `code`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Every way a request can fail; the variant decides the status and the contract `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all.
    #[error("{0}")]
    InvalidJson(String),
    /// The body parses but its shape or values break a rule.
    #[error("{0}")]
    Validation(String),
    /// Missing, malformed, forged or expired credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Unknown or malformed id, or unknown route.
    #[error("{0}")]
    NotFound(String),
    /// Uniqueness or state conflict.
    #[error("{0}")]
    Conflict(String),
    /// Body or batch over its limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Throttled; the client may try again after `retry_after_secs`.
    #[error("{detail}")]
    RateLimited {
        /// Free text for people.
        detail: String,
        /// Seconds until a retry may succeed (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// The request body did not arrive in time; nothing of it was applied.
    #[error("{0}")]
    RequestTimeout(String),
    /// The database cannot be reached or is saturated; the client should retry after
    /// `retry_after_secs`. Nothing of the request was applied.
    #[error("{detail}")]
    Unavailable {
        /// Free text for people.
        detail: String,
        /// Seconds until a retry may succeed (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// The filesystem of the SQLite database is full: the write was refused whole (its
    /// transaction rolled back) and writes are refused until space is freed. Answered as
    /// 503 `unavailable` with `Retry-After`, like any database outage, so phones keep
    /// their changes and retry (docs/operations.md, "Disk full").
    #[error("{0}")]
    StorageFull(String),
    /// Route exists, method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Body with a content type this endpoint does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A bug; details are logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The contract's error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::Validation(_) => "validation",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::Unavailable { .. } | ApiError::StorageFull(_) => "unavailable",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Shorthand for a 422.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::Validation(message.into())
    }

    /// A 429 with `Retry-After`.
    pub fn rate_limited(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError::RateLimited {
            detail: detail.into(),
            retry_after_secs,
        }
    }

    /// A 503 `unavailable` with `Retry-After`.
    pub fn unavailable(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError::Unavailable {
            detail: detail.into(),
            retry_after_secs,
        }
    }

    /// Shorthand for a 404.
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// Shorthand for a 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(message.into())
    }

    /// Wraps any error that the client cannot have caused.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        ApiError::Internal(err.to_string())
    }
}

/// Every `code` a problem body can carry (contract section 2).
pub const PROBLEM_CODES: &[&str] = &[
    "invalid_json",
    "validation",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "payload_too_large",
    "rate_limited",
    "method_not_allowed",
    "unsupported_media_type",
    "request_timeout",
    "unavailable",
    "internal",
];

/// The problem+json body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// Free text for people.
    pub detail: String,
    /// The stable, machine-readable code.
    pub code: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidJson(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable { .. } | ApiError::StorageFull(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.respond_with(self.status_code())
    }
}

impl ApiError {
    /// The problem answer under `status` rather than the variant's own: for answers whose
    /// status has no variant of its own (431), keeping the body's `status` equal to the
    /// HTTP status.
    pub fn respond_with(&self, status: StatusCode) -> HttpResponse {
        let detail = match self {
            ApiError::Internal(chain) => {
                tracing::error!(error = %chain, "internal error");
                "internal server error".to_owned()
            }
            other => other.to_string(),
        };
        let problem = Problem {
            kind: format!("https://canvass.invalid/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: self.code().to_owned(),
        };
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            ApiError::RateLimited {
                retry_after_secs, ..
            }
            | ApiError::Unavailable {
                retry_after_secs, ..
            } => {
                response.insert_header(("Retry-After", retry_after_secs.max(&1).to_string()));
            }
            ApiError::StorageFull(_) => {
                response.insert_header(("Retry-After", STORAGE_FULL_RETRY_AFTER_SECS.to_string()));
            }
            _ => {}
        }
        response.json(problem)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => ApiError::NotFound("not found".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                ApiError::Conflict(format!("already exists: {}", info.message()))
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                database_out_of_reach(info.message())
            }
            Error::DatabaseError(_, info) if is_storage_full(info.message()) => {
                ApiError::StorageFull(STORAGE_FULL_DETAIL.to_owned())
            }
            Error::DatabaseError(_, info) if is_disk_write_failure(info.message()) => {
                disk_write_failed(info.message())
            }
            Error::DatabaseError(_, info) if is_transient(info.message()) => {
                database_out_of_reach(info.message())
            }
            // The commit failed and so did the rollback after it: the commit's error says
            // why (SQLite may already have rolled the transaction back itself, as it does
            // on a full disk, and then has nothing left to roll back).
            Error::RollbackErrorOnCommit { commit_error, .. } => ApiError::from(*commit_error),
            other => ApiError::internal(other),
        }
    }
}

/// Whether a database error means "not now" rather than "never": a lock not granted in
/// time (SQLite's busy timeout, PostgreSQL's `lock_timeout`) or a connection that died
/// under the query. Retrying the request later can succeed, and nothing of it was applied
/// (the transaction rolled back).
fn is_transient(message: &str) -> bool {
    const MARKERS: [&str; 8] = [
        "database is locked",
        "database is busy",
        "database table is locked",
        "lock timeout",
        "server closed the connection",
        "no connection to the server",
        "terminating connection",
        "could not connect to server",
    ];
    MARKERS.iter().any(|marker| message.contains(marker))
}

/// The `detail` of a write refused for a full disk.
pub const STORAGE_FULL_DETAIL: &str =
    "the server's disk is full: nothing of this request was stored; retry later";

/// The `Retry-After` of a write refused for a full disk: freeing space takes an operator,
/// so retrying every few seconds would only add load.
pub const STORAGE_FULL_RETRY_AFTER_SECS: u64 = 30;

/// Whether the database could not grow its files: SQLite's SQLITE_FULL ("database or disk
/// is full"; SQLite then rolls back the statement or the whole transaction) or PostgreSQL's
/// `disk_full` ("could not extend file …: No space left on device", the transaction
/// aborted). Either way nothing of the write is applied.
fn is_storage_full(message: &str) -> bool {
    message.contains("database or disk is full") || message.contains("No space left on device")
}

/// Whether SQLite's disk failed a write: SQLITE_IOERR ("disk I/O error"). On a full disk
/// this is how growing the shared-memory index (`-shm`) fails; it is also what a failing
/// disk looks like. The transaction did not commit, or (a failed sync during the commit)
/// may have: either way the client is told to retry, and a re-sent push changes nothing.
fn is_disk_write_failure(message: &str) -> bool {
    message.contains("disk I/O error")
}

fn disk_write_failed(message: &str) -> ApiError {
    tracing::error!(error = %message, "the database's disk failed a write");
    ApiError::unavailable(
        "the database's disk failed a write; retry later (sending it again is harmless)",
        crate::db::pool::RETRY_AFTER_SECS,
    )
}

fn database_out_of_reach(message: &str) -> ApiError {
    tracing::warn!(error = %message, "database busy or out of reach");
    ApiError::unavailable(
        "the database is busy or out of reach; retry later",
        crate::db::pool::RETRY_AFTER_SECS,
    )
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %err, "no database connection in time");
        ApiError::unavailable(
            "the database is busy or out of reach; retry later",
            crate::db::pool::RETRY_AFTER_SECS,
        )
    }
}

/// The result type of handlers and storage functions called from them.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn database_error(message: &str) -> Error {
        Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
    }

    #[test]
    fn a_full_disk_is_answered_503_unavailable_with_retry_after_on_either_backend() {
        let sqlite = "database or disk is full";
        let postgres = "could not extend file \"base/16384/2619\": No space left on device";
        for message in [sqlite, postgres] {
            let err = ApiError::from(database_error(message));
            assert_eq!(err.code(), "unavailable", "{message}");
            let response = err.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers().get("retry-after").unwrap(), "30");
        }
    }

    #[test]
    fn a_disk_that_fails_a_write_is_answered_503_unavailable_not_500() {
        let err = ApiError::from(database_error("disk I/O error"));
        assert!(matches!(err, ApiError::Unavailable { .. }), "{err:?}");
    }

    #[test]
    fn a_commit_whose_rollback_failed_is_judged_by_the_commits_own_error() {
        let err = ApiError::from(Error::RollbackErrorOnCommit {
            rollback_error: Box::new(database_error("cannot rollback - no transaction is active")),
            commit_error: Box::new(database_error("database or disk is full")),
        });
        assert!(matches!(err, ApiError::StorageFull(_)), "{err:?}");
    }
}
