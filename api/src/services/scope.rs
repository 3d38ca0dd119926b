//! The caller's reach, resolved once per request: every read service takes a [`Scope`] and
//! refuses an id outside it (403) before it reads anything behind that id.

use sync_protocol::Role;

use crate::access::{permit, Endpoint, Grant};
use crate::db::users::{self, UserRow};
use crate::db::{areas, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::model::{AreaId, UserId};

/// How far a signed-in user reaches (contract sections 4 and 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An admin: everything.
    Everywhere {
        /// The admin.
        user: UserId,
    },
    /// A supervisor: the subtree of its province or district.
    Subtree {
        /// The supervisor.
        user: UserId,
        /// Its province or district.
        area: AreaId,
    },
    /// A ward leader: its ward.
    Ward {
        /// The ward leader.
        user: UserId,
        /// Its ward.
        ward: AreaId,
    },
    /// A volunteer: its own visits and assignments, its ward's coverage.
    OwnVisits {
        /// The volunteer.
        user: UserId,
        /// Its ward.
        ward: AreaId,
    },
}

impl Scope {
    /// The scope of a stored user. A non-admin without an area is a corrupt row (user
    /// creation requires one), reported rather than treated as "nowhere" or "everywhere".
    pub fn of(user: &UserRow) -> ApiResult<Scope> {
        let id = user.id;
        let area = || {
            user.area_id.ok_or_else(|| {
                ApiError::internal(format!(
                    "user {id}: a {} without an area",
                    users::role_text(user.role)
                ))
            })
        };
        Ok(match user.role {
            Role::Admin => Scope::Everywhere { user: id },
            Role::Supervisor => Scope::Subtree {
                user: id,
                area: area()?,
            },
            Role::WardLeader => Scope::Ward {
                user: id,
                ward: area()?,
            },
            Role::Volunteer => Scope::OwnVisits {
                user: id,
                ward: area()?,
            },
        })
    }

    /// The user behind the scope.
    pub fn user(&self) -> UserId {
        match *self {
            Scope::Everywhere { user }
            | Scope::Subtree { user, .. }
            | Scope::Ward { user, .. }
            | Scope::OwnVisits { user, .. } => user,
        }
    }

    /// Its role.
    pub fn role(&self) -> Role {
        match self {
            Scope::Everywhere { .. } => Role::Admin,
            Scope::Subtree { .. } => Role::Supervisor,
            Scope::Ward { .. } => Role::WardLeader,
            Scope::OwnVisits { .. } => Role::Volunteer,
        }
    }

    /// The root of the area it reaches (None: everywhere). A volunteer's is its ward: it
    /// reads that ward's coverage and names it in filters, though it lists only its own
    /// visits and assignments (see [`Scope::own_records`]).
    pub fn area(&self) -> Option<AreaId> {
        match *self {
            Scope::Everywhere { .. } => None,
            Scope::Subtree { area, .. } => Some(area),
            Scope::Ward { ward, .. } | Scope::OwnVisits { ward, .. } => Some(ward),
        }
    }

    /// The user whose own records are all it may list (a volunteer), None for the others.
    pub fn own_records(&self) -> Option<UserId> {
        match *self {
            Scope::OwnVisits { user, .. } => Some(user),
            _ => None,
        }
    }

    /// 403 unless the role may call `endpoint` at all (section 11); how far it may reach.
    pub fn permit(&self, endpoint: Endpoint) -> ApiResult<Grant> {
        permit(endpoint, self.role())
    }

    /// Whether `area_id` lies in the scope's area.
    pub fn covers(&self, conn: &mut DbConn, area_id: AreaId) -> ApiResult<bool> {
        match self.area() {
            None => Ok(true),
            Some(root) => Ok(areas::is_within(conn, area_id, root)?),
        }
    }

    /// 403 unless `area_id` lies in the scope's area.
    pub fn require(&self, conn: &mut DbConn, area_id: AreaId) -> ApiResult<()> {
        if self.covers(conn, area_id)? {
            Ok(())
        } else {
            Err(ApiError::forbidden("outside your area"))
        }
    }

    /// The wards it reaches (None: every ward).
    pub fn wards(&self, conn: &mut DbConn) -> ApiResult<Option<Vec<AreaId>>> {
        match self.area() {
            None => Ok(None),
            Some(root) => Ok(Some(areas::wards_within(conn, root)?)),
        }
    }
}
