//! Pull cost: how long a phone that is up to date takes to pull the next 1,000 changed
//! records, whatever the size of the database around them.

use std::time::{Duration, Instant};

use crate::client::Api;
use crate::ingest::push_out;
use crate::phone::Phone;
use crate::world::{World, VOLUNTEER_PASSWORD};
use crate::BenchError;

/// Records changed between two pulls.
pub const CHANGED: usize = 1_000;

const ROUNDS: u32 = 5;

/// The median time of a pull of `CHANGED` records by a second device of the first
/// volunteer, after the first device edited them; and how long its first, full pull took.
pub fn measure(
    base: &str,
    world: &World,
    pusher: &mut Phone,
) -> Result<(Duration, Duration), BenchError> {
    let volunteer = &world.volunteers[0];
    let api = Api::login(base, &volunteer.username, VOLUNTEER_PASSWORD)?;
    let mut reader = Phone::new("bench-reader", api, 0)?;
    let started = Instant::now();
    reader.pull_all(world.campaign, 5_000)?;
    let full = started.elapsed();

    let mut times = Vec::new();
    for round in 0..ROUNDS {
        let held: Vec<_> = pusher
            .replica
            .records()
            .filter(|(_, r)| r.kind == sync_protocol::Kind::Visit)
            .map(|(id, _)| *id)
            .collect();
        let changed = CHANGED.min(held.len());
        let start = (round as usize * changed) % held.len().max(1);
        let visits: Vec<_> = held
            .iter()
            .cycle()
            .skip(start)
            .take(changed)
            .copied()
            .collect();
        for visit in &visits {
            pusher.edit(*visit, 10 + round)?;
        }
        push_out(pusher, world.campaign)?;
        let started = Instant::now();
        let received = reader.pull_all(world.campaign, 5_000)?;
        times.push(started.elapsed());
        if received != visits.len() {
            return Err(BenchError::Setup(format!(
                "pulled {received} records where {} changed",
                visits.len()
            )));
        }
    }
    times.sort();
    Ok((times[times.len() / 2], full))
}
