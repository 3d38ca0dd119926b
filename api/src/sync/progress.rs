//! Progress per local date and the projected date of reaching the target (contract
//! sections 9 and 12), computed from the visits as they stand today.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use sync_protocol::{delta, household_coverage, Counters, HouseholdCoverage, VisitFacts};

/// The end-of-day figures that changed on `date`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The local date.
    pub date: NaiveDate,
    /// Figures at the end of it.
    pub counters: Counters,
}

/// End-of-day figures of an area, as a step function over local dates.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    steps: Vec<Step>,
    /// Local dates holding a visit not deleted, ascending.
    visit_dates: Vec<NaiveDate>,
}

/// `app / smartphone`, or None when there are no smartphone users.
pub fn ratio(counters: &Counters) -> Option<f64> {
    // Counts stay far below 2^53, so the conversions are exact.
    #[allow(clippy::cast_precision_loss)]
    (counters.smartphone_users > 0)
        .then(|| counters.app_users as f64 / counters.smartphone_users as f64)
}

impl Timeline {
    /// Builds the timeline from `(household, visit)` pairs of households not deleted.
    pub fn build<H: Eq + Hash>(mut visits: Vec<(H, VisitFacts)>, tz: Tz) -> Timeline {
        let local = |v: &VisitFacts| v.visited_at.with_timezone(&tz).date_naive();
        visits.sort_by_key(|(_, v)| local(v));
        let mut visit_dates: Vec<NaiveDate> = visits
            .iter()
            .filter(|(_, v)| !v.deleted)
            .map(|(_, v)| local(v))
            .collect();
        visit_dates.dedup();
        let mut per_household: HashMap<H, (Vec<VisitFacts>, HouseholdCoverage)> = HashMap::new();
        let mut counters = Counters::default();
        let mut steps: Vec<Step> = Vec::new();
        for (household, visit) in visits {
            let date = local(&visit);
            let entry = per_household.entry(household).or_default();
            entry.0.push(visit);
            let now = household_coverage(false, &entry.0);
            counters.apply(delta(&entry.1, &now));
            entry.1 = now;
            match steps.last_mut() {
                Some(step) if step.date == date => step.counters = counters,
                _ => steps.push(Step { date, counters }),
            }
        }
        Timeline { steps, visit_dates }
    }

    /// Figures at the end of `date`.
    pub fn at(&self, date: NaiveDate) -> Counters {
        let index = self.steps.partition_point(|s| s.date <= date);
        index
            .checked_sub(1)
            .map(|i| self.steps[i].counters)
            .unwrap_or_default()
    }

    /// The date the target is (or was) reached at the recent daily gain (section 12).
    pub fn projected_date(&self, today: NaiveDate, target: f64) -> Option<NaiveDate> {
        if self.visit_dates.is_empty() {
            return None;
        }
        let coverage = |date: NaiveDate| ratio(&self.at(date)).unwrap_or(0.0);
        let now = coverage(today);
        if ratio(&self.at(today)).is_some_and(|c| c >= target) {
            // Walk back while the target held; the last date it held on is the answer.
            let mut date = today;
            let first = self.steps.first().map_or(today, |s| s.date);
            while date > first {
                let Some(before) = date.checked_sub_days(Days::new(1)) else {
                    break;
                };
                if ratio(&self.at(before)).is_some_and(|c| c >= target) {
                    date = before;
                } else {
                    break;
                }
            }
            return Some(date);
        }
        let recent: Vec<NaiveDate> = self
            .visit_dates
            .iter()
            .rev()
            .filter(|d| **d <= today)
            .take(3)
            .copied()
            .collect();
        if recent.is_empty() {
            return None;
        }
        let gains: f64 = recent
            .iter()
            .map(|d| coverage(*d) - d.checked_sub_days(Days::new(1)).map_or(0.0, coverage))
            .sum();
        // At most 3 dates: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let gain = gains / recent.len() as f64;
        if gain <= 0.0 {
            return None;
        }
        let days = ((target - now) / gain).ceil().max(1.0);
        if !days.is_finite() || days > 36_500.0 {
            return None;
        }
        // Bounded above, positive: the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let mut date = today.checked_add_days(Days::new(days as u64))?;
        // Guard against rounding: the first date whose straight-line coverage reaches it.
        while let Some(earlier) = date.checked_sub_days(Days::new(1)) {
            let n = (earlier - today).num_days();
            #[allow(clippy::cast_precision_loss)]
            if n >= 1 && now + gain * n as f64 >= target {
                date = earlier;
            } else {
                break;
            }
        }
        Some(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_protocol::{Outcome, Review};

    fn visit(id: u128, at: &str, outcome: Outcome, phones: u32, apps: u32) -> VisitFacts {
        VisitFacts {
            id: uuid::Uuid::from_u128(id),
            visited_at: chrono::DateTime::parse_from_rfc3339(at).unwrap_or_default(),
            visited_at_text: at.to_owned(),
            outcome,
            smartphone_users: phones,
            app_users: apps,
            deleted: false,
            review: Review::Pending,
        }
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn a_day_ends_at_local_midnight_of_the_campaign_zone() {
        let tz: Tz = chrono_tz::Asia::Ho_Chi_Minh;
        // 23:30 UTC on the 17th is 06:30 on the 18th in Vietnam.
        let timeline = Timeline::build(
            vec![(
                "h1",
                visit(1, "2020-08-17T23:30:00Z", Outcome::InstalledNow, 2, 1),
            )],
            tz,
        );
        assert_eq!(timeline.at(date("2020-08-17")).households_reached, 0);
        assert_eq!(timeline.at(date("2020-08-18")).households_reached, 1);
    }

    #[test]
    fn projection_follows_the_mean_gain_of_the_last_three_visit_dates() {
        let tz: Tz = chrono_tz::Asia::Ho_Chi_Minh;
        // Day 1: 1/10 = 0.1; day 2: 2/20 = 0.1 → gain 0; day 3: 4/20 = 0.2.
        let timeline = Timeline::build(
            vec![
                (
                    "h1",
                    visit(1, "2020-08-17T09:00:00+07:00", Outcome::InstalledNow, 10, 1),
                ),
                (
                    "h2",
                    visit(2, "2020-08-18T09:00:00+07:00", Outcome::Declined, 10, 1),
                ),
                (
                    "h3",
                    visit(3, "2020-08-19T09:00:00+07:00", Outcome::Declined, 0, 0),
                ),
                (
                    "h1",
                    visit(4, "2020-08-19T10:00:00+07:00", Outcome::InstalledNow, 10, 3),
                ),
            ],
            tz,
        );
        // gains: 17th 0.1-0 = 0.1; 18th 0.1-0.1 = 0; 19th 0.2-0.1 = 0.1 → mean 0.0667.
        // From 0.2 to 0.6 takes 0.4/0.0667 = 6 days → 2020-08-25.
        assert_eq!(
            timeline.projected_date(date("2020-08-19"), 0.6),
            Some(date("2020-08-25"))
        );
    }

    #[test]
    fn once_met_the_projection_is_the_first_day_of_the_current_run_at_target() {
        let tz: Tz = chrono_tz::Asia::Ho_Chi_Minh;
        let timeline = Timeline::build(
            vec![
                (
                    "h1",
                    visit(1, "2020-08-17T09:00:00+07:00", Outcome::InstalledNow, 2, 2),
                ),
                (
                    "h2",
                    visit(2, "2020-08-18T09:00:00+07:00", Outcome::Declined, 8, 0),
                ),
                (
                    "h3",
                    visit(
                        3,
                        "2020-08-19T09:00:00+07:00",
                        Outcome::InstalledNow,
                        10,
                        10,
                    ),
                ),
            ],
            tz,
        );
        // 17th: 1.0 ≥ 0.6; 18th: 0.2; 19th: 0.6; 20th: 0.6.
        assert_eq!(
            timeline.projected_date(date("2020-08-20"), 0.6),
            Some(date("2020-08-19"))
        );
    }

    #[test]
    fn no_visits_means_no_projection() {
        let timeline = Timeline::build(
            Vec::<(&str, VisitFacts)>::new(),
            chrono_tz::Asia::Ho_Chi_Minh,
        );
        assert_eq!(timeline.projected_date(date("2020-08-20"), 0.6), None);
    }
}
