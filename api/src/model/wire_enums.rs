//! The names `sync-protocol` gives roles, outcomes and review states, as schemas of the
//! OpenAPI document. `sync-protocol` stays free of web crates (it ships in phone apps), so
//! these mirror its enums here; a test keeps the two lists equal.

use serde::Serialize;
use utoipa::ToSchema;

/// A user's role (contract section 4).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// Everything, everywhere.
    Admin,
    /// Reads a province's or district's figures.
    Supervisor,
    /// Reviews and pushes on its ward's streets.
    WardLeader,
    /// Pushes its own visits on its assigned streets.
    Volunteer,
}

/// What happened at the door (contract section 6).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    /// The app was installed during the visit.
    InstalledNow,
    /// The app was already installed.
    AlreadyInstalled,
    /// The household declined.
    Declined,
    /// Nobody answered.
    NotHome,
    /// Nobody in the household has a smartphone.
    NoSmartphone,
}

/// A visit's review state (contract section 8).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewName {
    /// Not reviewed yet.
    Pending,
    /// Confirmed by a ward leader or admin.
    Verified,
    /// Rejected: no longer counts for coverage.
    Rejected,
}

/// A reviewer's verdict: what the review endpoint takes.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Confirmed.
    Verified,
    /// Rejected.
    Rejected,
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_protocol::{Outcome, Review, Role};

    fn name<T: Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    // Exhaustive matches: a variant added to sync-protocol stops this from compiling.
    fn role(role: Role) -> RoleName {
        match role {
            Role::Admin => RoleName::Admin,
            Role::Supervisor => RoleName::Supervisor,
            Role::WardLeader => RoleName::WardLeader,
            Role::Volunteer => RoleName::Volunteer,
        }
    }

    fn outcome(outcome: Outcome) -> OutcomeName {
        match outcome {
            Outcome::InstalledNow => OutcomeName::InstalledNow,
            Outcome::AlreadyInstalled => OutcomeName::AlreadyInstalled,
            Outcome::Declined => OutcomeName::Declined,
            Outcome::NotHome => OutcomeName::NotHome,
            Outcome::NoSmartphone => OutcomeName::NoSmartphone,
        }
    }

    fn review(review: Review) -> ReviewName {
        match review {
            Review::Pending => ReviewName::Pending,
            Review::Verified => ReviewName::Verified,
            Review::Rejected => ReviewName::Rejected,
        }
    }

    #[test]
    fn the_mirrored_names_are_sync_protocols() {
        for r in [
            Role::Admin,
            Role::Supervisor,
            Role::WardLeader,
            Role::Volunteer,
        ] {
            assert_eq!(name(role(r)), r.as_str());
        }
        for o in [
            Outcome::InstalledNow,
            Outcome::AlreadyInstalled,
            Outcome::Declined,
            Outcome::NotHome,
            Outcome::NoSmartphone,
        ] {
            assert_eq!(name(outcome(o)), o.as_str());
        }
        for r in [Review::Pending, Review::Verified, Review::Rejected] {
            assert_eq!(name(review(r)), r.as_str());
        }
        assert_eq!(name(Verdict::Verified), Review::Verified.as_str());
        assert_eq!(name(Verdict::Rejected), Review::Rejected.as_str());
    }
}
