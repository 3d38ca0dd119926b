//! `POST /auth/login`, `/auth/refresh`, `/auth/logout`, `GET /me` (contract section 3).

use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::jwt::Claims;
use crate::auth::{password, refresh, Caller};
use crate::db::pool::run_blocking;
use crate::db::tokens::{self, RefreshTokenRow};
use crate::db::{users, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::User;
use crate::state::{now_ms_i64, AppState};

/// Login request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Refresh or logout request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// Tokens answered by login and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
    /// Single-use token for the next refresh.
    pub refresh_token: String,
    /// Who logged in.
    pub user: User,
}

fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    let info = req.connection_info();
    let ip = if trust_proxy {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    ip.unwrap_or("unknown").to_owned()
}

/// Stores a new refresh token in `family` and signs an access token.
fn issue_tokens(
    conn: &mut DbConn,
    state: &AppState,
    user: &users::UserRow,
    family_id: &str,
) -> ApiResult<TokenResponse> {
    let now = now_ms_i64();
    let refresh_token = refresh::new_token();
    let refresh_ttl_ms = i64::try_from(state.refresh_token_ttl.as_millis()).unwrap_or(i64::MAX);
    tokens::insert(
        conn,
        &RefreshTokenRow {
            token_hash: refresh::hash(&refresh_token),
            family_id: family_id.to_owned(),
            user_id: user.id.clone(),
            expires_at: now.saturating_add(refresh_ttl_ms),
            used: false,
            revoked: false,
            created_at: now,
        },
    )?;
    let ttl = state.access_token_ttl.as_secs();
    let now_s = now / 1000;
    let claims = Claims {
        sub: user.id.clone(),
        role: user.role.clone(),
        area: user.area_id.clone(),
        iat: now_s,
        nbf: now_s,
        exp: now_s + i64::try_from(ttl).unwrap_or(900),
    };
    let access_token = state.keys.sign(&claims).map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token,
        user: user.to_api(),
    })
}

fn wrong_credentials() -> ApiError {
    ApiError::Unauthorized("wrong username or password".into())
}

/// Log in with a username and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
              (status = 429, body = crate::error::Problem)))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let LoginRequest { username, password } = body::read_json(&req, payload).await?;
    let ip = client_ip(&req, state.trust_proxy);
    if state.throttle.is_blocked(&username, &ip, Instant::now()) {
        return Err(ApiError::rate_limited(
            "too many failed logins; try again later",
            15 * 60,
        ));
    }
    let wanted = username.clone();
    let found = state
        .db
        .read(move |conn| {
            // No stored username holds a control character, and PostgreSQL refuses U+0000
            // in a query: such a name is unknown without asking the database.
            if body::has_control(&wanted) {
                return Ok(None);
            }
            Ok(users::find_by_username(conn, &wanted)?)
        })
        .await?;
    let dummy = state.dummy_password_hash.clone();
    let candidate = found.clone();
    let password_ok = run_blocking(move || {
        // An unknown username still costs one verification, so timing does not reveal it.
        let hash = candidate
            .as_ref()
            .map_or(dummy.as_str(), |user| user.password_hash.as_str());
        Ok(password::verify(&password, hash) && candidate.is_some())
    })
    .await?;
    let user = match found {
        Some(user) if password_ok && !user.disabled => user,
        _ => {
            state
                .throttle
                .record_failure(&username, &ip, Instant::now());
            return Err(wrong_credentials());
        }
    };
    let state2 = state.clone();
    let response = state
        .db
        .write(move |conn| issue_tokens(conn, &state2, &user, &Uuid::new_v4().to_string()))
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

enum RefreshOutcome {
    Issued(Box<TokenResponse>),
    Refused(&'static str),
}

/// Exchange a refresh token for new tokens; the old one stops working.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem)))]
pub async fn refresh_tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let request: RefreshRequest = body::read_json(&req, payload).await?;
    let token_hash = refresh::hash(&request.refresh_token);
    let state2 = state.clone();
    let outcome =
        state
            .db
            .write(move |conn| {
                let Some(row) = tokens::find(conn, &token_hash)? else {
                    return Ok(RefreshOutcome::Refused("unknown refresh token"));
                };
                if !tokens::consume(conn, &token_hash)? {
                    // A reused token means it leaked or a phone misbehaved: end the whole login.
                    tokens::revoke_family(conn, &row.family_id)?;
                    return Ok(RefreshOutcome::Refused(
                        "refresh token already used; login revoked",
                    ));
                }
                if row.expires_at <= now_ms_i64() {
                    return Ok(RefreshOutcome::Refused("refresh token expired"));
                }
                let user = users::find(conn, crate::model::stored_uuid(&row.user_id))?;
                match user {
                    Some(user) if !user.disabled => Ok(RefreshOutcome::Issued(Box::new(
                        issue_tokens(conn, &state2, &user, &row.family_id)?,
                    ))),
                    _ => {
                        tokens::revoke_family(conn, &row.family_id)?;
                        Ok(RefreshOutcome::Refused("user unknown or disabled"))
                    }
                }
            })
            .await?;
    match outcome {
        RefreshOutcome::Issued(response) => Ok(HttpResponse::Ok().json(response)),
        RefreshOutcome::Refused(why) => Err(ApiError::Unauthorized(why.into())),
    }
}

/// End a login: its refresh tokens stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn logout(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::Me)?;
    let request: RefreshRequest = body::read_json(&req, payload).await?;
    let token_hash = refresh::hash(&request.refresh_token);
    let caller_id = caller.user.id.clone();
    state
        .db
        .write(move |conn| {
            if let Some(row) = tokens::find(conn, &token_hash)? {
                if row.user_id == caller_id {
                    tokens::revoke_family(conn, &row.family_id)?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The calling user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = User), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn me(caller: Caller) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::Me)?;
    Ok(HttpResponse::Ok().json(caller.user.to_api()))
}
