//! Recovering from a wall clock that ran ahead.
//!
//! A phone whose clock was hours ahead stamped its edits hours ahead; the server refuses
//! them (`clock_skew`), and even once the phone's clock is right again its HLC clock, which
//! never goes back, would keep stamping hours ahead. So when an answer's `server_hlc` shows
//! the replica's clock more than its drift limit plus [`RESTAMP_MARGIN_MS`] ahead:
//!
//! 1. The *stale* changes are the outbox changes stamped beyond that limit. The server
//!    never accepted any of them: it accepts nothing more than its skew ahead of its own
//!    clock, `server_hlc` is at or above that clock, and the margin covers a copy of an
//!    earlier push still on its way.
//! 2. The clock is set back to the largest HLC kept anywhere else: `server_hlc`, every HLC
//!    received from the server or accepted by it, every other outbox change, every field
//!    the records hold that is not a stale change's. So no value the server holds, and no
//!    value this replica keeps, is ever above what the clock issues next.
//! 3. Each stale change, in outbox order, is stamped again with the next HLC from that
//!    clock (against the server's time, so it goes through even if the phone's clock is
//!    still wrong), and every record field holding a stale change's value and HLC takes the
//!    new HLC. The local state so holds the re-stamped values, in the order they were
//!    written, and no later edit can lose to a stale far-future stamp of the phone's own.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::Replica;
use crate::field::FieldName;
use crate::hlc::Hlc;
use crate::state::Stamped;

/// How far beyond the server's skew limit a change's HLC must be before it is stamped
/// again: a change just past the limit is sent again as it is (it goes through within this
/// time), and a copy of an earlier push still in flight can no longer be accepted with a
/// stamp that is being replaced.
pub const RESTAMP_MARGIN_MS: u64 = 60_000;

impl Replica {
    /// Stamps again what a clock that ran ahead stamped (see the [module](self)); returns
    /// how many outbox changes were stamped again.
    pub(super) fn recover_clock(&mut self, server_hlc: &Hlc) -> usize {
        let limit = server_hlc
            .ms()
            .saturating_add(self.clock.max_drift_ms())
            .saturating_add(RESTAMP_MARGIN_MS);
        if self.clock.last().ms() <= limit {
            return 0;
        }
        let is_stale = |hlc: Option<&Hlc>| hlc.is_some_and(|hlc| hlc.ms() > limit);
        let stale_writes: BTreeSet<(Uuid, FieldName, Hlc)> = self
            .outbox
            .iter()
            .filter(|p| is_stale(p.hlc()))
            .flat_map(|p| p.fields.iter().map(|(f, s)| (p.id, *f, s.hlc.clone())))
            .collect();
        let mut floor = (server_hlc.ms(), server_hlc.counter());
        let mut raise = |hlc: &Hlc| floor = floor.max((hlc.ms(), hlc.counter()));
        if let Some(settled) = &self.settled {
            raise(settled);
        }
        for pending in self.outbox.iter().filter(|p| !is_stale(p.hlc())) {
            pending.hlc().into_iter().for_each(&mut raise);
        }
        for (id, record) in &self.records {
            for (field, stamped) in &record.state.fields {
                if !stale_writes.contains(&(*id, *field, stamped.hlc.clone())) {
                    raise(&stamped.hlc);
                }
            }
        }
        let (ms, counter) = floor;
        self.clock
            .rewind(&Hlc::from_checked_parts(ms, counter, self.clock.node()));
        let mut restamped = 0;
        for pending in self.outbox.iter_mut() {
            if !is_stale(pending.hlc()) {
                continue;
            }
            let new = self.clock.tick(server_hlc.ms());
            let mut state = self.records.get_mut(&pending.id).map(|r| &mut r.state);
            for (field, stamped) in pending.fields.iter_mut() {
                if let Some(state) = state.as_deref_mut() {
                    if state.get(*field) == Some(stamped) {
                        state
                            .fields
                            .insert(*field, Stamped::new(stamped.value.clone(), new.clone()));
                    }
                }
                stamped.hlc = new.clone();
            }
            restamped += 1;
        }
        restamped
    }
}
