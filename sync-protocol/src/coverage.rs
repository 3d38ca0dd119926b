//! Coverage rules (contract §9 and §12): what a household contributes to the counters, and
//! the deltas that keep incremental counters equal to a full recount.

use std::iter::Sum;
use std::ops::{Add, AddAssign};

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use crate::field::{Outcome, Review};
use crate::state::RecordState;

/// The facts of one visit that coverage depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitFacts {
    /// The visit's id (breaks ties between equal `visited_at`: the larger wins).
    pub id: Uuid,
    /// When the visit took place.
    pub visited_at: DateTime<FixedOffset>,
    /// `visited_at` exactly as pushed.
    pub visited_at_text: String,
    /// What happened at the door.
    pub outcome: Outcome,
    /// People with a smartphone (0 when never written).
    pub smartphone_users: u32,
    /// People with the app (0 when never written).
    pub app_users: u32,
    /// Whether the visit is a tombstone.
    pub deleted: bool,
    /// The review verdict.
    pub review: Review,
}

impl VisitFacts {
    /// Reads the facts from a visit's state; `None` when `outcome` or `visited_at` is
    /// missing (a visit that was never created).
    pub fn from_state(id: Uuid, state: &RecordState) -> Option<VisitFacts> {
        Some(VisitFacts {
            id,
            visited_at: state.visited_at()?,
            visited_at_text: state.visited_at_text()?.to_owned(),
            outcome: state.outcome()?,
            smartphone_users: state.smartphone_users(),
            app_users: state.app_users(),
            deleted: state.deleted(),
            review: state.review(),
        })
    }

    /// Whether the visit settles the household's counts: not deleted, not rejected, and
    /// someone was home.
    pub fn is_conclusive(&self) -> bool {
        !self.deleted && self.review != Review::Rejected && self.outcome != Outcome::NotHome
    }

    /// The order of "latest": `visited_at` as an instant, ties broken by the larger id.
    fn latest_key(&self) -> (DateTime<FixedOffset>, Uuid) {
        (self.visited_at, self.id)
    }
}

/// What one household contributes to its street's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdCoverage {
    /// The household exists and is not deleted (`households_total`).
    pub counted: bool,
    /// It has a visit not deleted.
    pub attempted: bool,
    /// It has a conclusive visit.
    pub reached: bool,
    /// From the latest conclusive visit (0 for `no_smartphone`).
    pub smartphone_users: u32,
    /// From the latest conclusive visit, capped at `smartphone_users`.
    pub app_users: u32,
    /// The latest `visited_at` of its visits not deleted, with its text as pushed.
    pub last_visit_at: Option<(DateTime<FixedOffset>, String)>,
}

/// A household's contribution, from whether it is deleted and the facts of its visits.
///
/// A deleted household counts nowhere: everything is zero. A household that does not
/// exist yet is [`HouseholdCoverage::default()`].
///
/// ```
/// use chrono::DateTime;
/// use sync_protocol::{household_coverage, Outcome, Review, VisitFacts};
///
/// let visit = |id: u128, at: &str, outcome, users, app| -> Result<VisitFacts, chrono::ParseError> {
///     Ok(VisitFacts {
///         id: uuid::Uuid::from_u128(id),
///         visited_at: DateTime::parse_from_rfc3339(at)?,
///         visited_at_text: at.to_owned(),
///         outcome,
///         smartphone_users: users,
///         app_users: app,
///         deleted: false,
///         review: Review::Pending,
///     })
/// };
/// let visits = [
///     visit(1, "2020-08-18T09:30:00+07:00", Outcome::Declined, 3, 0)?,
///     visit(2, "2020-08-19T09:30:00+07:00", Outcome::InstalledNow, 3, 2)?,
///     visit(3, "2020-08-20T09:30:00+07:00", Outcome::NotHome, 0, 0)?,
/// ];
/// let coverage = household_coverage(false, &visits);
/// assert!(coverage.counted && coverage.attempted && coverage.reached);
/// assert_eq!((coverage.smartphone_users, coverage.app_users), (3, 2));
/// let last = coverage.last_visit_at.map(|(_, text)| text);
/// assert_eq!(last.as_deref(), Some("2020-08-20T09:30:00+07:00"));
///
/// assert_eq!(household_coverage(true, &visits), Default::default());
/// # Ok::<(), chrono::ParseError>(())
/// ```
pub fn household_coverage(household_deleted: bool, visits: &[VisitFacts]) -> HouseholdCoverage {
    if household_deleted {
        return HouseholdCoverage::default();
    }
    let live = || visits.iter().filter(|visit| !visit.deleted);
    let latest_conclusive = visits
        .iter()
        .filter(|visit| visit.is_conclusive())
        .max_by_key(|visit| visit.latest_key());
    let (smartphone_users, app_users) = match latest_conclusive {
        Some(visit) if visit.outcome == Outcome::NoSmartphone => (0, 0),
        Some(visit) => (
            visit.smartphone_users,
            visit.app_users.min(visit.smartphone_users),
        ),
        None => (0, 0),
    };
    HouseholdCoverage {
        counted: true,
        attempted: live().next().is_some(),
        reached: latest_conclusive.is_some(),
        smartphone_users,
        app_users,
        last_visit_at: live()
            .max_by_key(|visit| visit.latest_key())
            .map(|visit| (visit.visited_at, visit.visited_at_text.clone())),
    }
}

/// A change of the five summable figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CounterDelta {
    /// Change of `households_total`.
    pub households_total: i64,
    /// Change of `households_attempted`.
    pub households_attempted: i64,
    /// Change of `households_reached`.
    pub households_reached: i64,
    /// Change of `smartphone_users`.
    pub smartphone_users: i64,
    /// Change of `app_users`.
    pub app_users: i64,
}

impl CounterDelta {
    /// Whether nothing changes.
    pub fn is_zero(&self) -> bool {
        *self == CounterDelta::default()
    }

    /// What one household adds to the figures.
    pub fn of(coverage: &HouseholdCoverage) -> CounterDelta {
        CounterDelta {
            households_total: i64::from(coverage.counted),
            households_attempted: i64::from(coverage.attempted),
            households_reached: i64::from(coverage.reached),
            smartphone_users: i64::from(coverage.smartphone_users),
            app_users: i64::from(coverage.app_users),
        }
    }

    fn minus(self, other: CounterDelta) -> CounterDelta {
        CounterDelta {
            households_total: self.households_total - other.households_total,
            households_attempted: self.households_attempted - other.households_attempted,
            households_reached: self.households_reached - other.households_reached,
            smartphone_users: self.smartphone_users - other.smartphone_users,
            app_users: self.app_users - other.app_users,
        }
    }
}

impl Add for CounterDelta {
    type Output = CounterDelta;

    fn add(self, other: CounterDelta) -> CounterDelta {
        CounterDelta {
            households_total: self.households_total + other.households_total,
            households_attempted: self.households_attempted + other.households_attempted,
            households_reached: self.households_reached + other.households_reached,
            smartphone_users: self.smartphone_users + other.smartphone_users,
            app_users: self.app_users + other.app_users,
        }
    }
}

impl AddAssign for CounterDelta {
    fn add_assign(&mut self, other: CounterDelta) {
        *self = *self + other;
    }
}

impl Sum for CounterDelta {
    fn sum<I: Iterator<Item = CounterDelta>>(iter: I) -> CounterDelta {
        iter.fold(CounterDelta::default(), Add::add)
    }
}

/// How the figures change when a household's coverage goes from `old` to `new`.
///
/// ```
/// use sync_protocol::{delta, HouseholdCoverage};
///
/// let before = HouseholdCoverage { counted: true, ..Default::default() };
/// let after = HouseholdCoverage { counted: true, attempted: true, ..Default::default() };
/// assert_eq!(delta(&before, &after).households_attempted, 1);
/// assert!(delta(&after, &after).is_zero());
/// ```
pub fn delta(old: &HouseholdCoverage, new: &HouseholdCoverage) -> CounterDelta {
    CounterDelta::of(new).minus(CounterDelta::of(old))
}

/// The five summable coverage figures of a street or area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Households not deleted.
    pub households_total: i64,
    /// Households with a visit not deleted.
    pub households_attempted: i64,
    /// Households with a conclusive visit.
    pub households_reached: i64,
    /// Smartphone users of the reached households.
    pub smartphone_users: i64,
    /// App users of the reached households.
    pub app_users: i64,
}

impl Counters {
    /// The figures recounted from every household's coverage.
    pub fn recount<'a>(households: impl IntoIterator<Item = &'a HouseholdCoverage>) -> Counters {
        let mut counters = Counters::default();
        for household in households {
            counters.apply(CounterDelta::of(household));
        }
        counters
    }

    /// Adds a delta.
    pub fn apply(&mut self, delta: CounterDelta) {
        self.households_total += delta.households_total;
        self.households_attempted += delta.households_attempted;
        self.households_reached += delta.households_reached;
        self.smartphone_users += delta.smartphone_users;
        self.app_users += delta.app_users;
    }
}
