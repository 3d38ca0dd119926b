//! Assignments of volunteers to streets, the unassigned streets, and a ward's whole picture
//! (contract section 5).

use std::collections::{HashMap, HashSet};

use sync_protocol::Role;

use crate::access::Endpoint;
use crate::db::assignments::{self, AssignmentRow};
use crate::db::campaigns::CampaignRow;
use crate::db::streets::{self, StreetRow};
use crate::db::{areas, users, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::model::{
    Area, AreaId, Assignment, AssignmentId, CampaignId, Level, Street, StreetId, User, UserId,
};
use crate::services::{campaigns, Scope};
use crate::state::now_ms_i64;

/// Streets of the campaign's area, or of one ward (or area) of it, in the scope: a `ward`
/// outside the scope is 403, unknown 404.
fn campaign_streets(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_area: AreaId,
    ward: Option<AreaId>,
) -> ApiResult<Vec<StreetRow>> {
    let root = match ward {
        Some(ward) => {
            let ward = areas::find(conn, ward)?.ok_or_else(|| ApiError::not_found("ward"))?;
            scope.require(conn, ward.id)?;
            ward.id
        }
        None => scope.area().unwrap_or(campaign_area),
    };
    let in_campaign: HashSet<AreaId> = areas::wards_within(conn, campaign_area)?
        .into_iter()
        .collect();
    let wards: Vec<AreaId> = areas::wards_within(conn, root)?
        .into_iter()
        .filter(|w| in_campaign.contains(w))
        .collect();
    Ok(streets::in_wards(conn, &wards)?)
}

/// The campaign's live assignments in the scope, optionally of one volunteer or one ward.
/// A volunteer sees only its own (naming another is 403).
pub fn list(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    volunteer: Option<UserId>,
    ward: Option<AreaId>,
) -> ApiResult<Vec<Assignment>> {
    scope.permit(Endpoint::ListAssignments)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let volunteer = match scope.own_records() {
        Some(me) => {
            if volunteer.is_some_and(|v| v != me) {
                return Err(ApiError::forbidden(
                    "a volunteer sees only its own assignments",
                ));
            }
            Some(me)
        }
        None => volunteer,
    };
    // An admin sees everything and a volunteer only its own rows, so neither needs the
    // street filter unless it asked for one ward.
    let unfiltered = scope.area().is_none() || scope.own_records().is_some();
    let rows = if unfiltered && ward.is_none() {
        assignments::list_live(conn, campaign.id, volunteer, None)?
    } else {
        let street_ids: Vec<StreetId> = campaign_streets(conn, scope, campaign.area_id, ward)?
            .into_iter()
            .map(|s| s.id)
            .collect();
        assignments::list_live(conn, campaign.id, volunteer, Some(&street_ids))?
    };
    Ok(rows.iter().map(AssignmentRow::to_api).collect())
}

/// The campaign's streets in the scope (or in one ward of it) that no volunteer holds.
pub fn unassigned(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    ward: Option<AreaId>,
) -> ApiResult<Vec<Street>> {
    scope.permit(Endpoint::ManageAssignments)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let all = campaign_streets(conn, scope, campaign.area_id, ward)?;
    let ids: Vec<StreetId> = all.iter().map(|s| s.id).collect();
    let assigned: HashSet<StreetId> = assignments::assigned_among(conn, campaign.id, &ids)?
        .into_iter()
        .collect();
    Ok(all
        .iter()
        .filter(|s| !assigned.contains(&s.id))
        .map(StreetRow::to_api)
        .collect())
}

/// A volunteer holding a street.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The assignment (what unassigning deletes).
    pub assignment: Assignment,
    /// The volunteer.
    pub volunteer: User,
}

/// A street of the ward and who holds it.
#[derive(Debug, Clone)]
pub struct StreetHolders {
    /// The street.
    pub street: Street,
    /// Its volunteers, oldest assignment first; empty when unassigned.
    pub holders: Vec<Holder>,
}

/// One ward's assignments in a campaign, as the assignment page shows them.
#[derive(Debug, Clone)]
pub struct WardAssignments {
    /// The ward.
    pub ward: Area,
    /// Its streets by code, each with its holders.
    pub streets: Vec<StreetHolders>,
    /// The streets nobody holds, by code.
    pub unassigned: Vec<Street>,
    /// The ward's volunteers (disabled ones included, flagged), who may be assigned.
    pub volunteers: Vec<User>,
}

/// The streets of one ward, who holds each, the unassigned ones and the ward's volunteers.
/// For admins, supervisors (read only: the API lists; the page does not change) and ward
/// leaders; a volunteer is 403 (it lists only its own assignments).
pub fn ward_assignments(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    ward: AreaId,
) -> ApiResult<WardAssignments> {
    scope.permit(Endpoint::ListAssignments)?;
    if scope.own_records().is_some() {
        return Err(ApiError::forbidden(
            "a volunteer sees only its own assignments",
        ));
    }
    let campaign = campaigns::load(conn, campaign_id)?;
    let ward_row = areas::find(conn, ward)?.ok_or_else(|| ApiError::not_found("ward"))?;
    scope.require(conn, ward_row.id)?;
    if ward_row.level != Level::Ward {
        return Err(ApiError::validation("ward_id must name a ward"));
    }
    if !areas::is_within(conn, ward_row.id, campaign.area_id)? {
        return Err(ApiError::validation(
            "the ward is outside the campaign's area",
        ));
    }
    let mut street_rows = streets::in_ward(conn, ward_row.id)?;
    street_rows.sort_by(|a, b| a.code.cmp(&b.code));
    let ids: Vec<StreetId> = street_rows.iter().map(|s| s.id).collect();
    let live = assignments::list_live(conn, campaign.id, None, Some(&ids))?;
    let volunteers = users::list(conn, Some(Role::Volunteer), Some(&[ward_row.id]))?;
    let mut people: HashMap<UserId, User> = volunteers.iter().map(|u| (u.id, u.to_api())).collect();
    let mut by_street: HashMap<StreetId, Vec<Holder>> = HashMap::new();
    for row in &live {
        let volunteer = match people.get(&row.volunteer_id) {
            Some(user) => user.clone(),
            // Assigned while it belonged to this ward; moved or changed since.
            None => {
                let user = users::find(conn, row.volunteer_id)?.ok_or_else(|| {
                    ApiError::internal(format!("assignment {}: no volunteer", row.id))
                })?;
                let user = user.to_api();
                people.insert(row.volunteer_id, user.clone());
                user
            }
        };
        by_street.entry(row.street_id).or_default().push(Holder {
            assignment: row.to_api(),
            volunteer,
        });
    }
    let streets: Vec<StreetHolders> = street_rows
        .iter()
        .map(|s| StreetHolders {
            street: s.to_api(),
            holders: by_street.remove(&s.id).unwrap_or_default(),
        })
        .collect();
    let unassigned = streets
        .iter()
        .filter(|s| s.holders.is_empty())
        .map(|s| s.street.clone())
        .collect();
    Ok(WardAssignments {
        ward: ward_row.to_api(),
        streets,
        unassigned,
        volunteers: volunteers.iter().map(users::UserRow::to_api).collect(),
    })
}

/// Assigns a volunteer of the street's ward to the street, in the caller's write
/// transaction: 422 for an unknown street or user, a non-volunteer, a volunteer of another
/// ward or a street outside the campaign; 403 for a street outside the scope; 409 for a
/// duplicate.
pub fn assign(
    conn: &mut DbConn,
    scope: &Scope,
    campaign: &CampaignRow,
    street_id: StreetId,
    volunteer_id: UserId,
) -> ApiResult<Assignment> {
    scope.permit(Endpoint::ManageAssignments)?;
    let street = streets::find(conn, street_id)?
        .ok_or_else(|| ApiError::validation("street_id names no known street"))?;
    if !scope.covers(conn, street.ward_id)? {
        return Err(ApiError::forbidden("the street is outside your ward"));
    }
    let volunteer = users::find(conn, volunteer_id)?
        .ok_or_else(|| ApiError::validation("volunteer_id names no known user"))?;
    if volunteer.role != Role::Volunteer {
        return Err(ApiError::validation(
            "only volunteers can be assigned to streets",
        ));
    }
    if volunteer.area_id != Some(street.ward_id) {
        return Err(ApiError::validation(
            "the volunteer belongs to another ward",
        ));
    }
    if !areas::is_within(conn, street.ward_id, campaign.area_id)? {
        return Err(ApiError::validation(
            "the street is outside the campaign's area",
        ));
    }
    if assignments::live_exists(conn, campaign.id, street.id, volunteer.id)? {
        return Err(ApiError::Conflict(
            "this volunteer is already assigned here".into(),
        ));
    }
    let row = AssignmentRow {
        id: AssignmentId::new_v4(),
        campaign_id: campaign.id,
        street_id: street.id,
        volunteer_id: volunteer.id,
        created_at: chrono::Utc::now(),
        deleted_at: None,
    };
    assignments::insert(conn, &row)?;
    Ok(row.to_api())
}

/// Ends an assignment (its volunteer may still push for 7 days), in the caller's write
/// transaction: 404 unknown, 403 for a street outside the scope.
pub fn unassign(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    id: AssignmentId,
) -> ApiResult<()> {
    scope.permit(Endpoint::ManageAssignments)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let row = assignments::find_live(conn, campaign.id, id)?
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    let street =
        streets::find(conn, row.street_id)?.ok_or_else(|| ApiError::not_found("street"))?;
    scope.require(conn, street.ward_id)?;
    assignments::end(conn, row.id, now_ms_i64())?;
    Ok(())
}
