//! Coverage figures of an area: sums of its wards' counters (contract section 9).

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::areas::AreaRow;
use crate::db::counters::WardCounts;
use crate::model::{AreaId, Level};

/// The summed figures of a set of wards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Households not deleted.
    pub households_total: i64,
    /// Households with a visit not deleted.
    pub households_attempted: i64,
    /// Households with a conclusive visit.
    pub households_reached: i64,
    /// Smartphone users.
    pub smartphone_users: i64,
    /// App users.
    pub app_users: i64,
    /// Latest visit (µs, text).
    pub last_visit_at: Option<(i64, String)>,
}

impl Figures {
    /// Adds one ward's counters.
    pub fn add(&mut self, households: i64, counters: Option<&WardCounts>) {
        self.households_total += households;
        if let Some(c) = counters {
            self.households_attempted += c.households_attempted;
            self.households_reached += c.households_reached;
            self.smartphone_users += c.smartphone_users;
            self.app_users += c.app_users;
            if let (Some(us), Some(text)) = (c.last_visit_at_us, &c.last_visit_at) {
                if self
                    .last_visit_at
                    .as_ref()
                    .is_none_or(|(best, _)| us > *best)
                {
                    self.last_visit_at = Some((us, text.clone()));
                }
            }
        }
    }

    /// `app_users / smartphone_users`, null when nobody has a smartphone.
    pub fn coverage(&self) -> Option<f64> {
        // Counts stay far below 2^53, so the conversions are exact.
        #[allow(clippy::cast_precision_loss)]
        (self.smartphone_users > 0).then(|| self.app_users as f64 / self.smartphone_users as f64)
    }
}

/// `Coverage` of section 9.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Coverage {
    /// Area.
    pub area_id: uuid::Uuid,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: Level,
    /// Households not deleted on the area's streets.
    pub households_total: i64,
    /// Households with a visit not deleted.
    pub households_attempted: i64,
    /// Households with a conclusive visit.
    pub households_reached: i64,
    /// Smartphone users of reached households.
    pub smartphone_users: i64,
    /// App users of reached households.
    pub app_users: i64,
    /// `app_users / smartphone_users`, null when 0.
    pub coverage: Option<f64>,
    /// The campaign's target.
    pub target_ratio: f64,
    /// `coverage >= target_ratio`.
    pub target_met: bool,
    /// Latest `visited_at` of the area's visits not deleted.
    pub last_visit_at: Option<String>,
    /// The children's coverage (without their own children).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub children: Option<Vec<Coverage>>,
}

impl Coverage {
    /// Builds the wire form of an area's figures.
    pub fn of(area: &AreaRow, figures: &Figures, target_ratio: f64) -> Coverage {
        let coverage = figures.coverage();
        Coverage {
            area_id: area.id.uuid(),
            code: area.code.clone(),
            name: area.name.clone(),
            level: area.level,
            households_total: figures.households_total,
            households_attempted: figures.households_attempted,
            households_reached: figures.households_reached,
            smartphone_users: figures.smartphone_users,
            app_users: figures.app_users,
            coverage,
            target_ratio,
            target_met: coverage.is_some_and(|c| c >= target_ratio),
            last_visit_at: figures.last_visit_at.as_ref().map(|(_, text)| text.clone()),
            children: None,
        }
    }
}

/// The figures of every area of a subtree, from its wards' counters.
pub fn roll_up(
    subtree: &[AreaRow],
    households: &HashMap<AreaId, i64>,
    counters: &HashMap<AreaId, WardCounts>,
) -> HashMap<AreaId, Figures> {
    let parent: HashMap<AreaId, Option<AreaId>> =
        subtree.iter().map(|a| (a.id, a.parent_id)).collect();
    let mut figures: HashMap<AreaId, Figures> = HashMap::new();
    for ward in subtree.iter().filter(|a| a.level == Level::Ward) {
        // A ward without a `ward_totals` row has had no household yet.
        let households = households.get(&ward.id).copied().unwrap_or(0);
        let counters = counters.get(&ward.id);
        // The ward counts for itself and for every ancestor inside the subtree; the walk
        // is bounded by the subtree, whose parent links cannot cycle.
        let mut node = Some(ward.id);
        for _ in 0..=subtree.len() {
            let Some(id) = node else { break };
            figures.entry(id).or_default().add(households, counters);
            node = parent
                .get(&id)
                .copied()
                .flatten()
                .filter(|p| parent.contains_key(p));
        }
    }
    figures
}
