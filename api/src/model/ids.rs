//! Typed ids, one per kind of stored thing, so that an area id cannot be passed where a
//! street id is meant. Stored as canonical UUID text (lowercase, hyphenated) on both
//! backends; `db/` decodes them once, at its edge, and names any row whose id does not.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id (UUIDv4).
            pub fn new_v4() -> $name {
                $name(Uuid::new_v4())
            }

            /// The UUID behind the id.
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> $name {
                $name(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        /// The stored and wire text: lowercase, hyphenated.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<$name, uuid::Error> {
                Uuid::parse_str(text).map($name)
            }
        }
    )+};
}

ids!(
    /// A user (`users.id`).
    UserId,
    /// An area of the tree: province, district or ward (`areas.id`).
    AreaId,
    /// A street, alley, ngõ or hẻm (`streets.id`).
    StreetId,
    /// A campaign (`campaigns.id`).
    CampaignId,
    /// An assignment of a volunteer to a street (`assignments.id`).
    AssignmentId,
    /// A synced record, household or visit (`records.id`). Households and visits share one
    /// table, one id space and one pull stream, and a visit's `household_id` names a
    /// record, so one id type serves both; the record's `kind` says which it is.
    RecordId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_canonical_uuid_text_and_sort_like_it() -> Result<(), uuid::Error> {
        let a: AreaId = "0A1B2C3D-0000-4000-8000-00000000000A".parse()?;
        assert_eq!(a.to_string(), "0a1b2c3d-0000-4000-8000-00000000000a");
        let mut ids: Vec<StreetId> = (0..50).map(|_| StreetId::new_v4()).collect();
        let mut texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        ids.sort();
        texts.sort();
        assert_eq!(
            ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
            texts
        );
        Ok(())
    }
}
