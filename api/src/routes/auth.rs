//! `POST /auth/login`, `/auth/refresh`, `/auth/logout`, `GET /me` (contract section 3).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Endpoint;
use crate::auth::client_addr::client_key;
use crate::auth::jwt::Claims;
use crate::auth::sessions::{self, Exchange};
use crate::auth::throttle::{Attempt, LoginThrottle};
use crate::auth::{username, Caller};
use crate::db::users;
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

/// Refresh request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// Logout request: the refresh token of one login, or `all: true` for every login.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// The refresh token of the login to end.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// End every login of the caller (a lost phone).
    #[serde(default)]
    pub all: Option<bool>,
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

/// The wire answer for a user and its new refresh token, with a fresh access token.
fn token_response(
    state: &AppState,
    user: &users::UserRow,
    refresh_token: String,
) -> ApiResult<TokenResponse> {
    let ttl = state.access_token_ttl.as_secs();
    let now_s = now_ms_i64() / 1000;
    let claims = Claims {
        sub: user.id.to_string(),
        role: user.role.as_str().to_owned(),
        area: user.area_id.map(|area| area.to_string()),
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

/// Checks a username and password under login throttling, for the API's login and the
/// dashboard's alike: 429 while throttled, 401 for a wrong username or password or a
/// disabled user. On success the attempt is still counted; the caller takes it back with
/// [`LoginThrottle::forgive`] in the transaction that starts the login.
pub async fn verify_credentials(
    state: &web::Data<AppState>,
    client: String,
    username: String,
    password: String,
) -> ApiResult<(users::UserRow, Attempt)> {
    let shared = state.clone();
    // The attempt is counted before the password is checked (see `auth::throttle`).
    let (attempt, found) = state
        .db
        .write(move |conn| {
            let attempt = shared
                .throttle
                .begin(conn, &username::key(&username), &client, now_ms_i64())?
                .into_result()?;
            // No stored username holds a control character, and PostgreSQL refuses U+0000
            // in a query: such a name is unknown without asking the database.
            let found = if body::has_control(&username) {
                None
            } else {
                users::find_for_login(conn, &username)?
            };
            Ok((attempt, found))
        })
        .await?;
    state.throttle.prune_if_due(&state.db, now_ms_i64()).await;
    // An unknown username still costs one verification, so timing does not reveal it.
    let hash = found.as_ref().map_or_else(
        || state.dummy_password_hash.clone(),
        |user| user.password_hash.clone(),
    );
    let password_ok = match state.hash_slots.verify(password, hash).await {
        Ok(ok) => ok,
        Err(err) => {
            LoginThrottle::take_back(&state.db, attempt).await;
            return Err(err);
        }
    };
    match found {
        Some(user) if password_ok && !user.disabled => Ok((user, attempt)),
        _ => Err(wrong_credentials()),
    }
}

/// Log in with a username and password.
#[utoipa::path(post, path = "/api/v1/auth/login", operation_id = "login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
              (status = 429, body = crate::error::Problem),
              (status = 503, body = crate::error::Problem)))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let LoginRequest { username, password } = body::read_json(&req, payload).await?;
    let client = client_key(&req, state.trust_proxy);
    let (user, attempt) = verify_credentials(&state, client, username, password).await?;
    let shared = state.clone();
    let response = state
        .db
        .write(move |conn| {
            LoginThrottle::forgive(conn, &attempt)?;
            let refresh_token = sessions::start(conn, &shared.refresh, &user, now_ms_i64())?;
            token_response(&shared, &user, refresh_token)
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

/// Exchange a refresh token for new tokens; the old one stops working.
#[utoipa::path(post, path = "/api/v1/auth/refresh", operation_id = "refreshTokens", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem)))]
pub async fn refresh_tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let request: RefreshRequest = body::read_json(&req, payload).await?;
    let shared = state.clone();
    let outcome = state
        .db
        .write(move |conn| {
            sessions::exchange(conn, &shared.refresh, &request.refresh_token, now_ms_i64())
        })
        .await?;
    match outcome {
        Exchange::Rotated {
            refresh_token,
            user,
        } => Ok(HttpResponse::Ok().json(token_response(&state, &user, refresh_token)?)),
        Exchange::Refused(why) => Err(ApiError::Unauthorized(why.into())),
    }
}

/// End one login (`refresh_token`) or every login of the caller (`all: true`): their
/// refresh tokens stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", operation_id = "logout", tag = "auth", request_body = LogoutRequest,
    responses((status = 204), (status = 401, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn logout(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::Me)?;
    let request: LogoutRequest = body::read_json(&req, payload).await?;
    let caller_id = caller.id;
    match (request.all, request.refresh_token) {
        (Some(true), _) => {
            state
                .db
                .write(move |conn| sessions::end_all(conn, caller_id))
                .await?
        }
        (_, Some(token)) => {
            state
                .db
                .write(move |conn| sessions::end_login(conn, caller_id, &token))
                .await?
        }
        (_, None) => {
            return Err(ApiError::validation(
                "send the refresh_token of the login to end, or \"all\": true",
            ))
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The calling user.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "getMe", tag = "auth",
    responses((status = 200, body = User), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn me(caller: Caller) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::Me)?;
    Ok(HttpResponse::Ok().json(caller.user.to_api()))
}
