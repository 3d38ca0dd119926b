//! Push ingest and edits: simulated phones pushing to the real server over HTTP, one
//! thread per phone, all started together.

use std::sync::{Arc, Barrier};
use std::time::Instant;

use uuid::Uuid;

use crate::client::Api;
use crate::phone::Phone;
use crate::world::{World, VOLUNTEER_PASSWORD};
use crate::BenchError;

/// Changes per push, as the measurement and a phone back from a day offline.
pub const PUSH_BATCH: usize = 500;

/// One phone per volunteer, signed in.
pub fn phones(base: &str, world: &World) -> Result<Vec<Phone>, BenchError> {
    world
        .volunteers
        .iter()
        .enumerate()
        .map(|(n, v)| {
            let api = Api::login(base, &v.username, VOLUNTEER_PASSWORD)?;
            Phone::new(&format!("bench-{n}"), api, 0)
        })
        .collect()
}

/// Runs `work` on every phone at once; the phones back, and the changes per second of the
/// whole fleet (`work` returns how many changes it pushed).
fn all_at_once<F>(phones: Vec<Phone>, work: F) -> Result<(Vec<Phone>, f64), BenchError>
where
    F: Fn(usize, &mut Phone) -> Result<usize, BenchError> + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let start = Arc::new(Barrier::new(phones.len() + 1));
    let threads: Vec<_> = phones
        .into_iter()
        .enumerate()
        .map(|(n, mut phone)| {
            let (work, start) = (Arc::clone(&work), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                work(n, &mut phone).map(|pushed| (phone, pushed))
            })
        })
        .collect();
    start.wait();
    let started = Instant::now();
    let mut back = Vec::new();
    let mut total = 0;
    for thread in threads {
        let (phone, pushed) = thread
            .join()
            .map_err(|_| BenchError::Setup("a phone thread panicked".into()))??;
        back.push(phone);
        total += pushed;
    }
    Ok((back, total as f64 / started.elapsed().as_secs_f64()))
}

/// Every volunteer's phone visits each of its households `visits_each` times (the visit
/// of day d on day d), pushing `PUSH_BATCH` new visits at a time. Changes per second, and
/// the phones holding their visits.
pub fn push_new_visits(
    phones: Vec<Phone>,
    world: &World,
    visits_each: u32,
) -> Result<(Vec<Phone>, f64), BenchError> {
    let campaign = world.campaign;
    let holdings: Vec<Vec<(Uuid, Uuid)>> = world
        .volunteers
        .iter()
        .map(|v| {
            v.streets
                .iter()
                .flat_map(|(street, houses)| houses.iter().map(move |h| (*street, *h)))
                .collect()
        })
        .collect();
    let holdings = Arc::new(holdings);
    all_at_once(phones, move |n, phone| {
        let mut pushed = 0;
        for day in 0..visits_each {
            for chunk in holdings[n].chunks(PUSH_BATCH) {
                for (k, (street, household)) in chunk.iter().enumerate() {
                    let people = (3, u32::from(!k.is_multiple_of(3)) * 2);
                    phone.visit(campaign, *street, *household, day, people)?;
                }
                pushed += push_out(phone, campaign)?;
            }
        }
        Ok(pushed)
    })
}

/// Every phone edits `edits_each` of its visits (two or three fields each), pushing
/// `PUSH_BATCH` edits at a time. Changes per second.
pub fn push_edits(
    phones: Vec<Phone>,
    campaign: Uuid,
    edits_each: usize,
    round: u32,
) -> Result<(Vec<Phone>, f64), BenchError> {
    all_at_once(phones, move |_, phone| {
        let visits: Vec<Uuid> = phone
            .replica
            .records()
            .filter(|(_, r)| r.kind == sync_protocol::Kind::Visit)
            .map(|(id, _)| *id)
            .take(edits_each)
            .collect();
        let mut pushed = 0;
        for chunk in visits.chunks(PUSH_BATCH) {
            for visit in chunk {
                phone.edit(*visit, round)?;
            }
            pushed += push_out(phone, campaign)?;
        }
        Ok(pushed)
    })
}

/// Pushes until the outbox is empty; every change must be accepted.
pub fn push_out(phone: &mut Phone, campaign: Uuid) -> Result<usize, BenchError> {
    let mut pushed = 0;
    while !phone.replica.outbox().is_empty() {
        let answer = phone.push(campaign)?;
        if answer.refused > 0 || answer.accepted == 0 {
            return Err(BenchError::Setup(format!(
                "the server refused {} change(s) of the bench",
                answer.refused
            )));
        }
        pushed += answer.accepted;
    }
    Ok(pushed)
}
