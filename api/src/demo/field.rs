//! Four days in the field: simulated phones, each a `sync_protocol::Replica`, record the
//! planned visits and sync them through the real push and pull endpoints. Some phones stay
//! offline for a day and sync late; in some wards the leader and a volunteer edit one visit
//! from two devices; ward leaders verify and reject visits by push, as their app would.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sync_protocol::{
    household_id, FieldName, Kind, NewVisit, Outcome, PullResponse, PushResponse, Replica, Review,
};
use uuid::Uuid;

use super::client::Api;
use super::world::{PlannedVisit, Ward, World, DAYS};
use crate::state::now_ms;

/// The drift limit of every phone: the contract's 5 minutes.
const MAX_DRIFT_MS: u64 = 300_000;

/// What the field days did, for the printed summary and the logs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Visits recorded on phones.
    pub visits: usize,
    /// Houses volunteers found that were not on the ward's list, added from the phone.
    pub houses_found: usize,
    /// Push requests.
    pub pushes: usize,
    /// Pull requests.
    pub pulls: usize,
    /// Changes the server accepted.
    pub accepted: usize,
    /// Changes the server refused for good (a demo that works has none).
    pub refused: usize,
    /// Phones that stayed offline for a day and synced it the next day.
    pub late_phones: usize,
    /// Visits edited from two devices.
    pub conflicts: usize,
    /// Visits verified by ward leaders.
    pub verified: usize,
    /// Visits rejected by ward leaders.
    pub rejected: usize,
}

impl Stats {
    fn add(&mut self, other: Stats) {
        self.visits += other.visits;
        self.houses_found += other.houses_found;
        self.pushes += other.pushes;
        self.pulls += other.pulls;
        self.accepted += other.accepted;
        self.refused += other.refused;
        self.late_phones += other.late_phones;
        self.conflicts += other.conflicts;
        self.verified += other.verified;
        self.rejected += other.rejected;
    }
}

/// A simulated device and the token of its user.
struct Phone {
    replica: Replica,
    token: String,
}

impl Phone {
    fn new(device: &str, token: String) -> Result<Phone, String> {
        Ok(Phone {
            replica: Replica::new(device, MAX_DRIFT_MS).map_err(|e| e.to_string())?,
            token,
        })
    }

    /// Pulls until the server has nothing more.
    fn pull(&mut self, api: &Api, campaign: Uuid, stats: &mut Stats) -> Result<(), String> {
        loop {
            let request = self.replica.pull_request(campaign, Some(5000));
            let answer: PullResponse = api.post("/api/v1/sync/pull", &self.token, &request)?;
            stats.pulls += 1;
            if !self.replica.apply_pull(&request, &answer).has_more {
                return Ok(());
            }
        }
    }

    /// Pushes the whole outbox, batch after batch, as the phone app does.
    fn push(&mut self, api: &Api, campaign: Uuid, stats: &mut Stats) -> Result<(), String> {
        loop {
            let batch = self.replica.prepare_push(campaign);
            if batch.is_empty() {
                return Ok(());
            }
            let answer: PushResponse =
                api.post("/api/v1/sync/push", &self.token, batch.request())?;
            stats.pushes += 1;
            let report = self
                .replica
                .acknowledge(&batch, &answer)
                .map_err(|e| format!("a push answer did not fit its batch: {e}"))?;
            stats.accepted += report.accepted;
            stats.refused += report.refused.len();
            for refusal in &report.refused {
                tracing::warn!(device = self.replica.device_id(), record = %refusal.record_id,
                    code = ?refusal.code, message = %refusal.message, "demo change refused");
            }
            if report.accepted == 0 && report.refused.is_empty() {
                // Only waiting changes are left; they go with the next sync.
                return Ok(());
            }
        }
    }
}

/// A volunteer's phone and what it did.
struct Volunteer {
    phone: Phone,
    index: usize,
    offline_day: Option<usize>,
    /// The visits it recorded, with their day, to pick one to edit later.
    recorded: Vec<(Uuid, usize)>,
}

/// Everything the field days need from the setup.
pub struct Cast {
    /// The campaign.
    pub campaign: Uuid,
    /// Street ids by code.
    pub streets: HashMap<String, Uuid>,
    /// Per ward (in world order): the leader's token, and its volunteers' tokens.
    pub tokens: Vec<(String, Vec<String>)>,
}

fn visited_at(day: usize, minute: i64, second: i64) -> String {
    let first = NaiveDate::from_ymd_opt(2020, 8, 17).unwrap_or_default();
    let at = first.and_hms_opt(7, 30, 0).unwrap_or_default()
        + Duration::days(day as i64)
        + Duration::minutes(minute)
        + Duration::seconds(second);
    format!("{}+07:00", at.format("%Y-%m-%dT%H:%M:%S"))
}

fn new_visit(plan: &PlannedVisit, at: String) -> NewVisit {
    NewVisit {
        outcome: plan.outcome,
        visited_at: at,
        smartphone_users: plan.smartphone_users,
        app_users: plan.app_users,
    }
}

/// How many threads play the wards: the server has two cores to work with, and a phone
/// waits for each answer, so two crews at a time keep both busy.
const THREADS: usize = 2;

/// Plays the four days on every ward and returns what happened. Each ward draws from its
/// own random stream, so the outcome does not depend on how wards are shared out.
pub fn play(api: &Api, world: &World, cast: &Cast, seed: u64) -> Result<Stats, String> {
    let mut crews = Vec::with_capacity(world.wards.len());
    for (index, ward) in world.wards.iter().enumerate() {
        crews.push(Crew::new(cast, index, seed, ward)?);
    }
    let mut shares: Vec<Vec<Crew>> = (0..THREADS).map(|_| Vec::new()).collect();
    for (index, crew) in crews.into_iter().enumerate() {
        shares[index % THREADS].push(crew);
    }
    let outcomes: Vec<Result<Stats, String>> = std::thread::scope(|scope| {
        let running: Vec<_> = shares
            .into_iter()
            .map(|mut share| {
                scope.spawn(move || {
                    let mut stats = Stats::default();
                    for day in 0..DAYS {
                        for crew in share.iter_mut() {
                            crew.day(api, day, &mut stats)?;
                        }
                    }
                    for crew in share.iter_mut() {
                        crew.finish(api, &mut stats)?;
                    }
                    Ok(stats)
                })
            })
            .collect();
        running
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|_| Err("a field thread panicked".into()))
            })
            .collect()
    });
    let mut total = Stats::default();
    for outcome in outcomes {
        total.add(outcome?);
    }
    Ok(total)
}

/// One ward's people in the field: its leader and volunteers with their phones.
struct Crew<'a> {
    ward: &'a Ward,
    number: usize,
    campaign: Uuid,
    streets: &'a HashMap<String, Uuid>,
    leader: Phone,
    volunteers: Vec<Volunteer>,
    rng: StdRng,
}

impl<'a> Crew<'a> {
    fn new(cast: &'a Cast, number: usize, seed: u64, ward: &'a Ward) -> Result<Crew<'a>, String> {
        let Some((leader_token, tokens)) = cast.tokens.get(number) else {
            return Err(format!("no users for ward {}", ward.area.code));
        };
        let mut rng =
            StdRng::seed_from_u64(seed ^ (number as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let code = &ward.area.code;
        let leader = Phone::new(&format!("phone-phuong-{code}"), leader_token.clone())?;
        let mut volunteers = Vec::with_capacity(tokens.len());
        for (index, token) in tokens.iter().enumerate() {
            let offline_day = rng.gen_bool(0.15).then(|| rng.gen_range(1..DAYS - 1));
            volunteers.push(Volunteer {
                phone: Phone::new(&format!("phone-tnv-{code}-{}", index + 1), token.clone())?,
                index,
                offline_day,
                recorded: Vec::new(),
            });
        }
        Ok(Crew {
            ward,
            number,
            campaign: cast.campaign,
            streets: &cast.streets,
            leader,
            volunteers,
            rng,
        })
    }

    fn street(&self, code: &str) -> Result<Uuid, String> {
        self.streets
            .get(code)
            .copied()
            .ok_or_else(|| format!("street {code} was not imported"))
    }

    /// One day of the ward: its volunteers knock, then (from the second day) a visit is
    /// edited from two devices, then the leader pulls, reviews and pushes.
    fn day(&mut self, api: &Api, day: usize, stats: &mut Stats) -> Result<(), String> {
        if day == 0 {
            stats.late_phones += self
                .volunteers
                .iter()
                .filter(|v| v.offline_day.is_some())
                .count();
        }
        for index in 0..self.volunteers.len() {
            self.work(api, index, day, stats)?;
        }
        if day > 0 && self.number.is_multiple_of(4) {
            self.edit_twice(api, day, stats)?;
        }
        self.leader.pull(api, self.campaign, stats)?;
        self.review(day, stats)?;
        self.leader.push(api, self.campaign, stats)
    }

    /// Pushes what is left on any phone.
    fn finish(&mut self, api: &Api, stats: &mut Stats) -> Result<(), String> {
        for volunteer in self.volunteers.iter_mut() {
            volunteer.phone.push(api, self.campaign, stats)?;
        }
        Ok(())
    }

    /// One volunteer's day: pull, knock, push (unless offline today).
    fn work(&mut self, api: &Api, who: usize, day: usize, stats: &mut Stats) -> Result<(), String> {
        let campaign = self.campaign;
        let ward = self.ward;
        let Some(volunteer) = self.volunteers.get(who) else {
            return Ok(());
        };
        let online = volunteer.offline_day != Some(day);
        let index = volunteer.index;
        let mut knocks = Vec::new();
        for street in &ward.streets {
            for house in street.houses.iter().filter(|h| h.volunteer == index) {
                for visit in house.visits.iter().filter(|v| v.day == day) {
                    knocks.push((street, house, visit));
                }
            }
        }
        let mut planned = Vec::with_capacity(knocks.len());
        let gap = (600 / knocks.len().max(1) as i64).clamp(1, 8);
        for (n, (street, house, plan)) in knocks.into_iter().enumerate() {
            let at = visited_at(day, n as i64 * gap, self.rng.gen_range(0..60));
            planned.push((self.street(&street.code)?, house, plan, at));
        }
        let double_tap = day == 0 && self.number % 5 == 2;
        let Some(volunteer) = self.volunteers.get_mut(who) else {
            return Ok(());
        };
        if online {
            volunteer.phone.pull(api, campaign, stats)?;
        }
        for (n, (street_id, house, plan, at)) in planned.into_iter().enumerate() {
            let now = now_ms();
            let replica = &mut volunteer.phone.replica;
            let house_id = if house.registered {
                household_id(street_id, &house.number)
                    .ok_or_else(|| format!("house number {:?} has no id", house.number))?
            } else if let Some(id) =
                household_id(street_id, &house.number).filter(|id| replica.record(*id).is_some())
            {
                id
            } else {
                stats.houses_found += 1;
                replica
                    .add_household(street_id, &house.number, now)
                    .map_err(|e| e.to_string())?
            };
            let id = replica
                .record_visit(
                    campaign,
                    street_id,
                    house_id,
                    new_visit(plan, at.clone()),
                    now,
                )
                .map_err(|e| e.to_string())?;
            stats.visits += 1;
            volunteer.recorded.push((id, day));
            // Now and then a double tap records a visit twice; the volunteer deletes the copy.
            if n == 0 && double_tap {
                let copy = replica
                    .record_visit(campaign, street_id, house_id, new_visit(plan, at), now)
                    .map_err(|e| e.to_string())?;
                replica
                    .edit(copy, vec![(FieldName::Deleted, json!(true))], now_ms())
                    .map_err(|e| e.to_string())?;
            }
        }
        if online {
            volunteer.phone.push(api, campaign, stats)?;
        }
        Ok(())
    }

    /// The first volunteer corrects yesterday's first visit on its phone while the ward
    /// leader, who went back to the house, corrects it on theirs. The leader syncs first;
    /// the volunteer's older edit arrives later and loses field by field, and the visit is
    /// marked as a conflict.
    fn edit_twice(&mut self, api: &Api, day: usize, stats: &mut Stats) -> Result<(), String> {
        let campaign = self.campaign;
        let leader = &mut self.leader;
        let Some(volunteer) = self.volunteers.first_mut() else {
            return Ok(());
        };
        let target = volunteer.recorded.iter().find(|(id, recorded_on)| {
            *recorded_on + 1 == day
                && leader.replica.record(*id).is_some_and(|r| {
                    r.state.outcome().is_some_and(|o| {
                        matches!(o, Outcome::InstalledNow | Outcome::AlreadyInstalled)
                    })
                })
        });
        let Some((visit, _)) = target.copied() else {
            return Ok(());
        };
        let phones = leader
            .replica
            .record(visit)
            .map_or(1, |r| r.state.smartphone_users().max(1));
        volunteer
            .phone
            .replica
            .edit(
                visit,
                vec![
                    (FieldName::AppUsers, json!(0)),
                    (FieldName::Note, json!("Hẹn quay lại hướng dẫn cài đặt")),
                ],
                now_ms(),
            )
            .map_err(|e| e.to_string())?;
        leader
            .replica
            .edit(
                visit,
                vec![
                    (FieldName::SmartphoneUsers, json!(phones)),
                    (FieldName::AppUsers, json!(phones)),
                    (
                        FieldName::Note,
                        json!("Tổ trưởng kiểm tra lại: cả nhà đã cài"),
                    ),
                ],
                now_ms(),
            )
            .map_err(|e| e.to_string())?;
        leader.push(api, campaign, stats)?;
        if volunteer.offline_day != Some(day) {
            volunteer.phone.push(api, campaign, stats)?;
        }
        stats.conflicts += 1;
        Ok(())
    }

    /// The ward leader goes through today's visits: most stay pending, many are verified,
    /// a few rejected with a note.
    fn review(&mut self, day: usize, stats: &mut Stats) -> Result<(), String> {
        let today = visited_at(day, 0, 0);
        let today = &today[..10];
        let campaign = self.campaign;
        let mut todays: Vec<(String, Uuid)> = self
            .leader
            .replica
            .records()
            .filter(|(_, r)| r.kind == Kind::Visit && r.campaign_id == Some(campaign))
            .filter(|(_, r)| !r.state.deleted() && r.state.review() == Review::Pending)
            .filter(|(_, r)| r.state.outcome().is_some_and(|o| o != Outcome::NotHome))
            .filter_map(|(id, r)| {
                let at = r.state.visited_at_text()?;
                at.starts_with(today).then(|| (at.to_owned(), *id))
            })
            .collect();
        // By time, not by id: ids come from clocks, and the seed should decide.
        todays.sort();
        let diligence = if self.number % 3 == 1 { 0.1 } else { 0.45 };
        let now = now_ms();
        for (_, visit) in todays {
            let roll = self.rng.gen_range(0.0..1.0);
            let fields = if roll < 0.03 {
                stats.rejected += 1;
                vec![
                    (FieldName::Review, json!("rejected")),
                    (
                        FieldName::ReviewNote,
                        json!("Số liệu chưa khớp, cần thăm lại"),
                    ),
                ]
            } else if roll < diligence {
                stats.verified += 1;
                vec![(FieldName::Review, json!("verified"))]
            } else {
                continue;
            };
            self.leader
                .replica
                .edit(visit, fields, now)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
