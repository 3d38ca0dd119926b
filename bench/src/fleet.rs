//! The fleet simulator: many phones (four per volunteer, sharing its streets) working in
//! rounds against the real server, with the field's troubles: phones offline for several
//! rounds, clocks off by up to two minutes, answers lost on the way back, stale pushes
//! arriving late after newer ones, duplicated pushes. It ends with every phone synced,
//! every replica of a volunteer holding the same records, and `canvass verify` clean.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sync_protocol::{Kind, PushRequest, PushResponse, RecordState};
use uuid::Uuid;

use crate::phone::Phone;
use crate::world::{World, VOLUNTEER_PASSWORD};
use crate::{client::Api, BenchError};

/// Phones per volunteer (the same streets, so their edits meet).
pub const PHONES_PER_VOLUNTEER: usize = 4;

/// How the fleet behaves.
#[derive(Debug, Clone, Copy)]
pub struct FleetPlan {
    /// Rounds of work (each: visits and edits, then a sync when online).
    pub rounds: u32,
    /// Threads driving the phones.
    pub threads: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

/// What the simulator saw.
pub struct FleetReport {
    /// Phones simulated.
    pub phones: usize,
    /// Syncs (push and pull) timed.
    pub syncs: usize,
    /// Sync latency percentiles: p50, p90, p99, max.
    pub latency: [Duration; 4],
    /// Pushes whose answer was dropped.
    pub lost_answers: usize,
    /// Stale push bodies delivered again after newer ones.
    pub stale_redeliveries: usize,
    /// Wall time of the whole run.
    pub wall: Duration,
}

struct SimPhone {
    phone: Phone,
    volunteer: usize,
    houses: Vec<(Uuid, Uuid)>,
    offline_until: u32,
    stale: Option<PushRequest>,
    rng: StdRng,
}

impl SimPhone {
    fn round(&mut self, campaign: Uuid, round: u32, seen: &Mutex<Tally>) -> Result<(), BenchError> {
        for _ in 0..self.rng.gen_range(1..=3) {
            let (street, house) = self.houses[self.rng.gen_range(0..self.houses.len())];
            let people = (self.rng.gen_range(1..=5), 0);
            let people = (people.0, self.rng.gen_range(0..=people.0));
            self.phone
                .visit(campaign, street, house, round % 4, people)?;
        }
        let visits: Vec<Uuid> = self
            .phone
            .replica
            .records()
            .filter(|(_, r)| r.kind == Kind::Visit)
            .map(|(id, _)| *id)
            .collect();
        if !visits.is_empty() && self.rng.gen_bool(0.3) {
            let visit = visits[self.rng.gen_range(0..visits.len())];
            self.phone.edit(visit, round)?;
        }
        if round < self.offline_until {
            return Ok(());
        }
        if self.rng.gen_bool(0.05) {
            self.offline_until = round + self.rng.gen_range(2..6);
        }
        let started = Instant::now();
        if self.rng.gen_bool(0.1) {
            let batch = self.phone.replica.prepare_push(campaign);
            if !batch.is_empty() {
                let _: PushResponse = self.phone.api.post("/sync/push", batch.request())?;
                self.stale = Some(batch.request().clone());
                seen.lock().map_err(|_| poisoned())?.lost_answers += 1;
            }
            return Ok(());
        }
        let batch = self.phone.replica.prepare_push(campaign);
        if !batch.is_empty() {
            let answer: PushResponse = self.phone.api.post("/sync/push", batch.request())?;
            if self.rng.gen_bool(0.05) {
                // The network delivered the body twice; the phone sees one answer.
                let _: PushResponse = self.phone.api.post("/sync/push", batch.request())?;
            }
            self.phone
                .replica
                .acknowledge(&batch, &answer)
                .map_err(|e| BenchError::Setup(e.to_string()))?;
        }
        if let Some(stale) = self.stale.take() {
            let _: PushResponse = self.phone.api.post("/sync/push", &stale)?;
            seen.lock().map_err(|_| poisoned())?.stale_redeliveries += 1;
        }
        self.phone.pull_all(campaign, 1_000)?;
        seen.lock()
            .map_err(|_| poisoned())?
            .latencies
            .push(started.elapsed());
        Ok(())
    }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    lost_answers: usize,
    stale_redeliveries: usize,
}

fn poisoned() -> BenchError {
    BenchError::Setup("a fleet thread panicked".into())
}

/// Runs the fleet over `world` (built with one volunteer per `PHONES_PER_VOLUNTEER` phones).
pub fn run(base: &str, world: &World, plan: FleetPlan) -> Result<FleetReport, BenchError> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let mut phones = Vec::new();
    for (v, volunteer) in world.volunteers.iter().enumerate() {
        let api = Api::login(base, &volunteer.username, VOLUNTEER_PASSWORD)?;
        let houses: Vec<(Uuid, Uuid)> = volunteer
            .streets
            .iter()
            .flat_map(|(s, hs)| hs.iter().map(move |h| (*s, *h)))
            .collect();
        for p in 0..PHONES_PER_VOLUNTEER {
            let skew = rng.gen_range(-120_000..=120_000);
            phones.push(SimPhone {
                phone: Phone::new(&format!("v{v}-p{p}"), api.clone(), skew)?,
                volunteer: v,
                houses: houses.clone(),
                offline_until: 0,
                stale: None,
                rng: StdRng::seed_from_u64(rng.gen()),
            });
        }
    }
    let total = phones.len();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut shares: Vec<Vec<SimPhone>> = (0..plan.threads.max(1)).map(|_| Vec::new()).collect();
    for (n, phone) in phones.into_iter().enumerate() {
        shares[n % plan.threads.max(1)].push(phone);
    }
    let campaign = world.campaign;
    let rounds = plan.rounds;
    let threads: Vec<_> = shares
        .into_iter()
        .map(|mut share| {
            let tally = Arc::clone(&tally);
            std::thread::spawn(move || -> Result<Vec<SimPhone>, BenchError> {
                for round in 0..rounds {
                    for phone in &mut share {
                        phone.round(campaign, round, &tally)?;
                    }
                }
                // Everyone comes back online and syncs until nothing waits.
                for phone in &mut share {
                    for _ in 0..20 {
                        if phone.phone.replica.outbox().is_empty() {
                            break;
                        }
                        phone.phone.push(campaign)?;
                    }
                }
                Ok(share)
            })
        })
        .collect();
    let mut phones = Vec::new();
    for thread in threads {
        phones.extend(thread.join().map_err(|_| poisoned())??);
    }
    for phone in &mut phones {
        if !phone.phone.replica.outbox().is_empty() {
            return Err(BenchError::Setup(format!(
                "phone {} still holds {} change(s) after syncing",
                phone.phone.replica.device_id(),
                phone.phone.replica.outbox().len()
            )));
        }
        phone.phone.pull_all(campaign, 5_000)?;
    }
    check_convergence(&phones)?;
    let tally = Arc::try_unwrap(tally)
        .map_err(|_| poisoned())?
        .into_inner()
        .map_err(|_| poisoned())?;
    let mut latencies = tally.latencies;
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Ok(FleetReport {
        phones: total,
        syncs: latencies.len(),
        latency: [at(0.5), at(0.9), at(0.99), at(1.0)],
        lost_answers: tally.lost_answers,
        stale_redeliveries: tally.stale_redeliveries,
        wall: started.elapsed(),
    })
}

/// Every phone of a volunteer holds the same records in the same state.
fn check_convergence(phones: &[SimPhone]) -> Result<(), BenchError> {
    let mut by_volunteer: BTreeMap<usize, BTreeMap<Uuid, RecordState>> = BTreeMap::new();
    for phone in phones {
        let held: BTreeMap<Uuid, RecordState> = phone
            .phone
            .replica
            .records()
            .map(|(id, r)| (*id, r.state.clone()))
            .collect();
        match by_volunteer.get(&phone.volunteer) {
            None => {
                by_volunteer.insert(phone.volunteer, held);
            }
            Some(first) if *first == held => {}
            Some(first) => {
                let differing = first
                    .iter()
                    .filter(|(id, state)| held.get(id) != Some(state))
                    .count();
                return Err(BenchError::Setup(format!(
                    "phone {} differs from its volunteer's other phones in {differing} record(s)",
                    phone.phone.replica.device_id()
                )));
            }
        }
    }
    Ok(())
}
