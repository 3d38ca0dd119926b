//! The role table of contract section 11, in one place. Handlers ask [`permit`] before they
//! look at ids or bodies, so a request is judged 401 → 403 (role) → 404 → 403 (scope) → body.

use sync_protocol::Role;

use crate::db::users::role_text;
use crate::error::{ApiError, ApiResult};

/// Every guarded endpoint of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /me`, `POST /auth/logout`.
    Me,
    /// `POST /users`.
    CreateUser,
    /// `GET /users`.
    ListUsers,
    /// `PATCH /users/{id}`.
    UpdateUser,
    /// `POST /areas`, `POST /areas/import`.
    WriteAreas,
    /// `POST /campaigns`.
    CreateCampaign,
    /// `GET /areas…`, `GET /areas/{id}/streets`, `GET /campaigns…`.
    ReadCatalogue,
    /// `POST /streets`, `POST /streets/import`, `POST /households/import`.
    WriteStreets,
    /// Create or delete an assignment; list unassigned streets.
    ManageAssignments,
    /// `GET /campaigns/{cid}/assignments`.
    ListAssignments,
    /// `POST /sync/push`.
    Push,
    /// `POST /sync/pull`.
    Pull,
    /// Visit list and history.
    ReadVisits,
    /// `POST /visits/{id}/review`.
    Review,
    /// Coverage, `coverage.csv`, progress.
    ReadCoverage,
}

/// How far a role's permission reaches for one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Anything, anywhere.
    Everywhere,
    /// Inside the caller's area subtree.
    OwnArea,
    /// Only what belongs to the caller itself (its own visits, its own assignments, itself).
    OwnRecords,
    /// 403.
    Denied,
}

/// Section 11 as data.
pub fn grant(endpoint: Endpoint, role: Role) -> Grant {
    use Endpoint as E;
    use Grant::{Denied, Everywhere, OwnArea, OwnRecords};
    match (endpoint, role) {
        (E::Me | E::ReadCatalogue, _) => Everywhere,
        (_, Role::Admin) => match endpoint {
            E::Pull => Denied,
            _ => Everywhere,
        },
        (E::ListUsers | E::ListAssignments | E::ReadVisits | E::ReadCoverage, Role::Supervisor) => {
            OwnArea
        }
        (
            E::CreateUser
            | E::ListUsers
            | E::UpdateUser
            | E::WriteStreets
            | E::ManageAssignments
            | E::ListAssignments
            | E::Push
            | E::Pull
            | E::ReadVisits
            | E::Review
            | E::ReadCoverage,
            Role::WardLeader,
        ) => OwnArea,
        (E::UpdateUser | E::ListAssignments | E::ReadVisits, Role::Volunteer) => OwnRecords,
        (E::Push | E::Pull, Role::Volunteer) => OwnRecords,
        (E::ReadCoverage, Role::Volunteer) => OwnArea,
        _ => Denied,
    }
}

/// [`grant`] as an answer: 403 when denied, how far the role reaches otherwise.
pub fn permit(endpoint: Endpoint, role: Role) -> ApiResult<Grant> {
    match grant(endpoint, role) {
        Grant::Denied => Err(ApiError::forbidden(format!(
            "a {} may not do this",
            role_text(role)
        ))),
        granted => Ok(granted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_write_areas_and_campaigns() {
        for endpoint in [Endpoint::WriteAreas, Endpoint::CreateCampaign] {
            assert_eq!(grant(endpoint, Role::Admin), Grant::Everywhere);
            for role in [Role::Supervisor, Role::WardLeader, Role::Volunteer] {
                assert_eq!(
                    grant(endpoint, role),
                    Grant::Denied,
                    "{endpoint:?} {role:?}"
                );
            }
        }
    }

    #[test]
    fn pull_is_for_volunteers_and_ward_leaders_only() {
        assert_eq!(grant(Endpoint::Pull, Role::Admin), Grant::Denied);
        assert_eq!(grant(Endpoint::Pull, Role::Supervisor), Grant::Denied);
        assert_eq!(grant(Endpoint::Pull, Role::WardLeader), Grant::OwnArea);
        assert_eq!(grant(Endpoint::Pull, Role::Volunteer), Grant::OwnRecords);
    }

    #[test]
    fn supervisors_only_read() {
        for endpoint in [
            Endpoint::CreateUser,
            Endpoint::UpdateUser,
            Endpoint::WriteStreets,
            Endpoint::ManageAssignments,
            Endpoint::Push,
            Endpoint::Review,
        ] {
            assert_eq!(
                grant(endpoint, Role::Supervisor),
                Grant::Denied,
                "{endpoint:?}"
            );
        }
    }
}
