//! `POST /users`, `GET /users`, `PATCH /users/{id}` (contract section 4).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sync_protocol::Role;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::access::{Endpoint, Grant};
use crate::auth::client_addr::client_key;
use crate::auth::throttle::LoginThrottle;
use crate::auth::{password, sessions, username, Caller};
use crate::db::users::{self, UserChanges, UserRow};
use crate::db::{areas, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{AreaId, Items, Level, User, UserId};
use crate::state::{now_ms_i64, AppState};

/// Body of `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    /// Login name: 1–64 characters without white space, control or format characters;
    /// unique after Unicode NFKC and lower-casing.
    #[schema(min_length = 1, max_length = 64, pattern = r"^\S+$")]
    pub username: String,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// Shown name, 1–200 characters (defaults to the username).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    /// Role.
    #[schema(value_type = crate::model::RoleName)]
    pub role: Role,
    /// Scope: a ward for ward leaders and volunteers, a province or district for
    /// supervisors, null for admins.
    #[serde(default)]
    pub area_id: Option<Uuid>,
}

/// Body of `PATCH /users/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New shown name, 1–200 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    /// New password, 8–256 characters. Ends every login of the user.
    #[serde(default)]
    #[schema(min_length = 8, max_length = 256)]
    pub password: Option<String>,
    /// The caller's present password, required when it changes its own.
    #[serde(default)]
    pub current_password: Option<String>,
    /// Disable or enable. Disabling ends every login of the user.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Filters of `GET /users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only this role.
    #[param(value_type = Option<crate::model::RoleName>)]
    pub role: Option<String>,
    /// Only users in this area's subtree.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub area_id: Option<String>,
}

fn check_display_name(name: &str) -> ApiResult<()> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "display_name must have 1 to 200 characters",
        ));
    }
    Ok(())
}

/// The area a role must be scoped to: checks existence and level.
fn check_role_area(conn: &mut DbConn, role: Role, area_id: Option<Uuid>) -> ApiResult<()> {
    let area = match area_id {
        Some(id) => Some(
            areas::find(conn, id.into())?
                .ok_or_else(|| ApiError::validation("area_id names no known area"))?,
        ),
        None => None,
    };
    let level = area.as_ref().map(|a| a.level);
    let fits = match role {
        Role::Admin => level.is_none(),
        Role::Supervisor => matches!(level, Some(Level::Province | Level::District)),
        Role::WardLeader | Role::Volunteer => level == Some(Level::Ward),
    };
    if fits {
        Ok(())
    } else {
        Err(ApiError::validation(match role {
            Role::Admin => "an admin has no area_id",
            Role::Supervisor => "a supervisor's area_id must be a province or district",
            _ => "a ward leader's or volunteer's area_id must be a ward",
        }))
    }
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", operation_id = "createUser", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let grant = caller.permit(Endpoint::CreateUser)?;
    let new: NewUser = body::read_json(&req, payload).await?;
    if grant == Grant::OwnArea
        && (new.role != Role::Volunteer || new.area_id.map(AreaId::from) != caller.area_id())
    {
        return Err(ApiError::forbidden(
            "a ward leader may only create volunteers of its ward",
        ));
    }
    username::check_new(&new.username)?;
    password::check_new_password(&new.password)?;
    let display_name = new
        .display_name
        .clone()
        .unwrap_or_else(|| new.username.clone());
    check_display_name(&display_name)?;
    let password_hash = state.hash_slots.hash(new.password.clone()).await?;
    let row = UserRow {
        id: UserId::new_v4(),
        username: new.username.clone(),
        display_name,
        role: new.role,
        area_id: new.area_id.map(AreaId::from),
        password_hash,
        disabled: false,
        created_at: now_ms_i64(),
    };
    let user = state
        .db
        .write(move |conn| {
            check_role_area(conn, new.role, new.area_id)?;
            // The unique index decides between concurrent creations; this check only
            // spares the common case a failed insert.
            let taken = || ApiError::Conflict("username is taken".into());
            if users::username_taken(conn, &row.username)? {
                return Err(taken());
            }
            users::insert(conn, &row).map_err(|err| match err {
                DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => taken(),
                other => other.into(),
            })?;
            Ok(row.to_api())
        })
        .await?;
    Ok(HttpResponse::Created().json(user))
}

/// List users in the caller's scope.
#[utoipa::path(get, path = "/api/v1/users", operation_id = "listUsers", tag = "users", params(UserFilter),
    responses((status = 200, body = Items<User>)), security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    filter: web::Query<UserFilter>,
) -> ApiResult<HttpResponse> {
    let grant = caller.permit(Endpoint::ListUsers)?;
    let scope = caller.scope()?;
    let filter = filter.into_inner();
    let role = match filter.role.as_deref() {
        None | Some("") => None,
        Some(text) => {
            Some(users::parse_role(text).ok_or_else(|| ApiError::validation("unknown role"))?)
        }
    };
    let area: Option<AreaId> =
        body::query_id(filter.area_id.as_deref(), "area_id")?.map(AreaId::from);
    let items = state
        .db
        .read(move |conn| {
            let scope_root = match area {
                Some(area) => {
                    if areas::find(conn, area)?.is_none() {
                        return Err(ApiError::not_found("area"));
                    }
                    scope.require(conn, area)?;
                    Some(area)
                }
                None if grant == Grant::Everywhere => None,
                None => scope.area(),
            };
            let area_ids = match scope_root {
                Some(root) => Some(
                    areas::subtree(conn, root)?
                        .into_iter()
                        .map(|a| a.id)
                        .collect::<Vec<_>>(),
                ),
                None => None,
            };
            let rows = users::list(conn, role, area_ids.as_deref())?;
            Ok(rows.iter().map(UserRow::to_api).collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Change a user's name, password or disabled flag.
#[utoipa::path(patch, path = "/api/v1/users/{id}", operation_id = "updateUser",
    params(("id" = Uuid, Path, description = "User id")), tag = "users", request_body = UserPatch,
    responses((status = 200, body = User), (status = 429, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn update(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let grant = caller.permit(Endpoint::UpdateUser)?;
    let id = body::path_id(&path, "user")?;
    let target = state
        .db
        .read(move |conn| Ok(users::find(conn, id.into())?))
        .await?;
    let target = target.ok_or_else(|| ApiError::not_found("user"))?;
    match grant {
        Grant::Everywhere => {}
        Grant::OwnArea => {
            if target.role != Role::Volunteer || target.area_id != caller.area_id() {
                return Err(ApiError::forbidden(
                    "a ward leader may only change its ward's volunteers",
                ));
            }
        }
        _ => {
            if target.id != caller.id {
                return Err(ApiError::forbidden("a volunteer may only change itself"));
            }
        }
    }
    let patch: UserPatch = body::read_json(&req, payload).await?;
    if grant == Grant::OwnRecords && patch.disabled.is_some() {
        return Err(ApiError::forbidden(
            "a volunteer may not change its disabled flag",
        ));
    }
    // An admin that disabled itself would lock itself out, perhaps the last admin with it.
    if target.id == caller.id && patch.disabled == Some(true) {
        return Err(ApiError::validation(
            "a user cannot disable itself; another admin can",
        ));
    }
    if let Some(name) = &patch.display_name {
        check_display_name(name)?;
    }
    let password_hash = match patch.password {
        Some(password) => {
            password::check_new_password(&password)?;
            if target.id == caller.id {
                confirm_own_password(&req, &state, &target, patch.current_password).await?;
            }
            Some(state.hash_slots.hash(password).await?)
        }
        None => None,
    };
    // Disabling a user or setting its password ends every login it has (a lost phone);
    // enabling it again brings none back.
    let end_logins = password_hash.is_some() || patch.disabled == Some(true);
    let changes = UserChanges {
        display_name: patch.display_name,
        password_hash,
        disabled: patch.disabled,
    };
    let user = state
        .db
        .write(move |conn| {
            let user = users::update(conn, id.into(), &changes)?;
            if end_logins {
                sessions::end_all(conn, user.id)?;
            }
            Ok(user.to_api())
        })
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// A user changing its own password proves it knows the present one. A wrong one counts
/// as a failed login of that user, so a stolen access token cannot guess it freely.
async fn confirm_own_password(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    user: &UserRow,
    current: Option<String>,
) -> ApiResult<()> {
    let current = current.ok_or_else(|| {
        ApiError::validation("current_password is required to change your own password")
    })?;
    let client = client_key(req, state.trust_proxy);
    let key = username::key(&user.username);
    let shared = state.clone();
    let attempt = state
        .db
        .write(move |conn| {
            shared
                .throttle
                .begin(conn, &key, &client, now_ms_i64())?
                .into_result()
        })
        .await?;
    let right = match state
        .hash_slots
        .verify(current, user.password_hash.clone())
        .await
    {
        Ok(right) => right,
        Err(err) => {
            LoginThrottle::take_back(&state.db, attempt).await;
            return Err(err);
        }
    };
    if !right {
        return Err(ApiError::validation("current_password is wrong"));
    }
    state
        .db
        .write(move |conn| Ok(LoginThrottle::forgive(conn, &attempt)?))
        .await
}
