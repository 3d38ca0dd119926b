//! The [`Caller`] extractor: a verified bearer token of an enabled user.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use sync_protocol::Role;
use uuid::Uuid;

use crate::access::{permit, Endpoint, Grant};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::model::{AreaId, UserId};
use crate::services::Scope;
use crate::state::AppState;

/// An authenticated, enabled user.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: users::UserRow,
    /// Its id.
    pub id: UserId,
    /// Role.
    pub role: Role,
}

impl Caller {
    /// The caller's area (None for admins).
    pub fn area_id(&self) -> Option<AreaId> {
        self.user.area_id
    }

    /// 403 unless the role may call `endpoint` at all; returns how far it may reach.
    pub fn permit(&self, endpoint: Endpoint) -> ApiResult<Grant> {
        permit(endpoint, self.role)
    }

    /// How far the caller reaches, for the services to take.
    pub fn scope(&self) -> ApiResult<Scope> {
        Scope::of(&self.user)
    }
}

fn bearer_token(req: &HttpRequest) -> ApiResult<String> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
    let text = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let (scheme, token) = text
        .split_once(' ')
        .ok_or_else(|| ApiError::Unauthorized("malformed Authorization header".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized("expected a bearer token".into()));
    }
    Ok(token.trim().to_owned())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token?;
            let claims = state
                .keys
                .verify(&token)
                .map_err(|_| ApiError::Unauthorized("invalid or expired token".into()))?;
            let id: UserId = Uuid::parse_str(&claims.sub)
                .map_err(|_| ApiError::Unauthorized("invalid token subject".into()))?
                .into();
            let user = state
                .db
                .read(move |conn| Ok(users::find(conn, id)?))
                .await?;
            let user = user
                .filter(|user| !user.disabled)
                .ok_or_else(|| ApiError::Unauthorized("user unknown or disabled".into()))?;
            tracing::Span::current().record("user_id", tracing::field::display(&id));
            let role = user.role;
            Ok(Caller { user, id, role })
        })
    }
}
