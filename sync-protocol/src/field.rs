//! The names of things on the wire: record kinds, field names, and the enumerated values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A text that names none of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a valid {what}")]
pub struct UnknownName {
    /// What was expected, e.g. `"outcome"`.
    pub what: &'static str,
    /// The text that was given.
    pub text: String,
}

/// Implements `as_str`, `Display` and `FromStr` from one table of `(variant, wire name)`.
macro_rules! wire_names {
    ($ty:ident, $what:literal, [$(($variant:ident, $name:literal)),+ $(,)?]) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;

            fn from_str(text: &str) -> Result<$ty, UnknownName> {
                match text {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(UnknownName { what: $what, text: text.to_owned() }),
                }
            }
        }
    };
}

/// The two kinds of synced records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A house on a street: an address and nothing about its residents.
    Household,
    /// One knock on a household's door by a volunteer.
    Visit,
}

wire_names!(Kind, "kind", [(Household, "household"), (Visit, "visit")]);

/// The name of a record field. Each kind accepts only some of them, see [`FieldName::of_kind`].
///
/// ```
/// use sync_protocol::{FieldName, Kind};
///
/// assert_eq!(FieldName::parse(Kind::Visit, "app_users"), Some(FieldName::AppUsers));
/// assert_eq!(FieldName::parse(Kind::Household, "app_users"), None);
/// assert!(FieldName::Note.is_optional());
/// assert!(!FieldName::Outcome.is_optional());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldName {
    /// Household: the house number as written on the door, 1–40 characters.
    HouseNumber,
    /// Household and visit: free text, at most 500 characters. Never names or phone numbers.
    Note,
    /// Household and visit: latitude, −90 to 90.
    Lat,
    /// Household and visit: longitude, −180 to 180.
    Lon,
    /// Household and visit: a tombstone flag; `false` when never written.
    Deleted,
    /// Visit: what happened at the door, see [`Outcome`].
    Outcome,
    /// Visit: people in the household with a smartphone, 0–50; 0 when never written.
    SmartphoneUsers,
    /// Visit: people with the app installed, 0–50; 0 when never written.
    AppUsers,
    /// Visit: when the visit took place, RFC 3339 with an offset.
    VisitedAt,
    /// Visit: accuracy of `lat`/`lon` in metres, at least 0.
    AccuracyM,
    /// Visit: the review verdict, see [`Review`]; ward leaders and admins only.
    Review,
    /// Visit: the reviewer's note, at most 500 characters; ward leaders and admins only.
    ReviewNote,
}

wire_names!(
    FieldName,
    "field name",
    [
        (HouseNumber, "house_number"),
        (Note, "note"),
        (Lat, "lat"),
        (Lon, "lon"),
        (Deleted, "deleted"),
        (Outcome, "outcome"),
        (SmartphoneUsers, "smartphone_users"),
        (AppUsers, "app_users"),
        (VisitedAt, "visited_at"),
        (AccuracyM, "accuracy_m"),
        (Review, "review"),
        (ReviewNote, "review_note"),
    ]
);

const HOUSEHOLD_FIELDS: &[FieldName] = &[
    FieldName::HouseNumber,
    FieldName::Note,
    FieldName::Lat,
    FieldName::Lon,
    FieldName::Deleted,
];

const VISIT_FIELDS: &[FieldName] = &[
    FieldName::Outcome,
    FieldName::SmartphoneUsers,
    FieldName::AppUsers,
    FieldName::VisitedAt,
    FieldName::Note,
    FieldName::Lat,
    FieldName::Lon,
    FieldName::AccuracyM,
    FieldName::Deleted,
    FieldName::Review,
    FieldName::ReviewNote,
];

impl FieldName {
    /// The field names a record of `kind` may carry.
    pub fn of_kind(kind: Kind) -> &'static [FieldName] {
        match kind {
            Kind::Household => HOUSEHOLD_FIELDS,
            Kind::Visit => VISIT_FIELDS,
        }
    }

    /// Parses a wire name, accepting only the names valid for `kind`.
    pub fn parse(kind: Kind, name: &str) -> Option<FieldName> {
        name.parse::<FieldName>()
            .ok()
            .filter(|field| field.belongs_to(kind))
    }

    /// Whether a record of `kind` may carry this field.
    pub fn belongs_to(self, kind: Kind) -> bool {
        FieldName::of_kind(kind).contains(&self)
    }

    /// Whether `null` is accepted, clearing the field: `note`, `lat`, `lon`, `accuracy_m`
    /// and `review_note`. Required fields never take `null`.
    pub fn is_optional(self) -> bool {
        matches!(
            self,
            FieldName::Note
                | FieldName::Lat
                | FieldName::Lon
                | FieldName::AccuracyM
                | FieldName::ReviewNote
        )
    }

    /// Whether only ward leaders and admins may write it: `review` and `review_note`.
    pub fn is_review_field(self) -> bool {
        matches!(self, FieldName::Review | FieldName::ReviewNote)
    }
}

/// What happened at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The app was installed during the visit.
    InstalledNow,
    /// The app was already installed.
    AlreadyInstalled,
    /// The household declined.
    Declined,
    /// Nobody answered: the visit is not conclusive.
    NotHome,
    /// Nobody in the household has a smartphone: counts 0 and 0.
    NoSmartphone,
}

wire_names!(
    Outcome,
    "outcome",
    [
        (InstalledNow, "installed_now"),
        (AlreadyInstalled, "already_installed"),
        (Declined, "declined"),
        (NotHome, "not_home"),
        (NoSmartphone, "no_smartphone"),
    ]
);

impl Outcome {
    /// Whether a visit created with this outcome must carry both counts.
    pub fn requires_counts(self) -> bool {
        matches!(
            self,
            Outcome::InstalledNow | Outcome::AlreadyInstalled | Outcome::Declined
        )
    }
}

/// A reviewer's verdict on a visit. `Pending` is the default and is never stored unwritten.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Not reviewed yet.
    #[default]
    Pending,
    /// Confirmed by a ward leader or admin.
    Verified,
    /// Rejected: the visit no longer counts for coverage.
    Rejected,
}

wire_names!(
    Review,
    "review",
    [
        (Pending, "pending"),
        (Verified, "verified"),
        (Rejected, "rejected"),
    ]
);

/// A user's role (contract §4). The server reuses this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, everywhere.
    Admin,
    /// Reads a province's or district's figures; never pushes.
    Supervisor,
    /// Reviews and pushes on its ward's streets.
    WardLeader,
    /// Pushes its own visits on its assigned streets.
    Volunteer,
}

wire_names!(
    Role,
    "role",
    [
        (Admin, "admin"),
        (Supervisor, "supervisor"),
        (WardLeader, "ward_leader"),
        (Volunteer, "volunteer"),
    ]
);

impl Role {
    /// Whether this role may push `review` and `review_note`.
    pub fn may_review(self) -> bool {
        matches!(self, Role::Admin | Role::WardLeader)
    }
}
