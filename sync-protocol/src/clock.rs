//! The hybrid logical clock that issues [`Hlc`]s (Kulkarni et al. 2014).
//!
//! The caller passes the wall clock in (`now_ms`): this crate never reads a clock.

use crate::hlc::{check_node, Hlc, HlcError};

/// A remote HLC that is too far ahead of the local wall clock to be observed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HLC {remote} is more than {max_drift_ms} ms ahead of the local wall clock ({now_ms} ms)")]
pub struct ClockDrift {
    /// The refused remote HLC.
    pub remote: Hlc,
    /// The local wall clock when it was refused.
    pub now_ms: u64,
    /// The largest drift the clock accepts.
    pub max_drift_ms: u64,
}

/// A hybrid logical clock for one node.
///
/// It keeps the largest `(ms, counter)` it has issued or observed; every [`Clock::tick`]
/// returns an HLC strictly greater than all of them, whatever the wall clock does.
///
/// ```
/// use sync_protocol::{Clock, Hlc};
///
/// let mut phone = Clock::new("phone-7", 300_000)?;
/// let first = phone.tick(1_000);
/// let second = phone.tick(900); // the wall clock went backwards
/// assert!(second > first);
/// assert_eq!(second.to_string(), "0000000001000-0001-phone-7");
///
/// // A server stamp 2 s ahead is observed; the next tick goes past it.
/// let server: Hlc = "0000000003000-0005-server".parse()?;
/// phone.observe(&server, 1_000)?;
/// assert!(phone.tick(1_000) > server);
///
/// // One 10 minutes ahead is refused and leaves the clock as it was.
/// let wild: Hlc = "0000000601000-0000-server".parse()?;
/// assert!(phone.observe(&wild, 1_000).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    node: String,
    ms: u64,
    counter: u16,
    max_drift_ms: u64,
}

impl Clock {
    /// A clock for `node` that refuses to observe HLCs more than `max_drift_ms` ahead of
    /// the wall clock. Fails when `node` is not a valid HLC node.
    pub fn new(node: &str, max_drift_ms: u64) -> Result<Clock, HlcError> {
        check_node(node)?;
        Ok(Clock {
            node: node.to_owned(),
            ms: 0,
            counter: 0,
            max_drift_ms,
        })
    }

    /// The node this clock stamps its HLCs with.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The largest drift [`Clock::observe`] accepts, in milliseconds.
    pub fn max_drift_ms(&self) -> u64 {
        self.max_drift_ms
    }

    /// The largest HLC this clock has issued, observed or witnessed (its state): the next
    /// [`Clock::tick`] is above it. `0000000000000-0000-<node>` for a new clock.
    ///
    /// ```
    /// use sync_protocol::Clock;
    ///
    /// let mut clock = Clock::new("phone-7", 300_000)?;
    /// let issued = clock.tick(5_000);
    /// assert_eq!(clock.last(), issued);
    /// # Ok::<(), sync_protocol::HlcError>(())
    /// ```
    pub fn last(&self) -> Hlc {
        Hlc::from_checked_parts(self.ms, self.counter, &self.node)
    }

    /// Sets the clock's state to `to` (its `ms` and counter), even backwards.
    ///
    /// Only for recovering from a wall clock that ran ahead (see [`crate::Replica`]): the
    /// caller makes sure nothing it keeps holds an HLC above `to`.
    pub(crate) fn rewind(&mut self, to: &Hlc) {
        self.set(to.ms(), to.counter());
    }

    /// Issues a new HLC for a local event at wall-clock time `now_ms`.
    ///
    /// The result is strictly greater than every HLC this clock issued, observed or
    /// witnessed before. When the counter would overflow, the clock moves to the next
    /// millisecond with counter 0 (contract §12). `now_ms` above [`Hlc::MAX_MS`] counts as
    /// [`Hlc::MAX_MS`]; at that ceiling (the year 2286) the clock can no longer advance and
    /// repeats its last HLC.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        let physical = now_ms.min(Hlc::MAX_MS);
        if physical > self.ms {
            self.set(physical, 0);
        } else {
            self.set_after(self.ms, u32::from(self.counter) + 1);
        }
        Hlc::from_checked_parts(self.ms, self.counter, &self.node)
    }

    /// Takes a remote HLC into account (the receive rule of Kulkarni et al. 2014).
    ///
    /// Refuses, with the clock unchanged, a remote whose `ms` is more than `max_drift_ms`
    /// ahead of `now_ms`: one broken phone clock must not drag every clock into the future.
    pub fn observe(&mut self, remote: &Hlc, now_ms: u64) -> Result<(), ClockDrift> {
        if remote.ms() > now_ms.saturating_add(self.max_drift_ms) {
            return Err(ClockDrift {
                remote: remote.clone(),
                now_ms,
                max_drift_ms: self.max_drift_ms,
            });
        }
        let physical = now_ms.min(Hlc::MAX_MS);
        let ms = self.ms.max(remote.ms()).max(physical);
        let local = u32::from(self.counter);
        let theirs = u32::from(remote.counter());
        let counter = match (ms == self.ms, ms == remote.ms()) {
            (true, true) => local.max(theirs) + 1,
            (true, false) => local + 1,
            (false, true) => theirs + 1,
            (false, false) => 0,
        };
        self.set_after(ms, counter);
        Ok(())
    }

    /// Raises the clock to at least `stored`, without any drift check.
    ///
    /// For HLCs that are already stored and must be honoured, e.g. when a server restarts:
    /// its clock always stays above every HLC it has stored.
    pub fn witness(&mut self, stored: &Hlc) {
        if (stored.ms(), stored.counter()) > (self.ms, self.counter) {
            self.set(stored.ms(), stored.counter());
        }
    }

    fn set(&mut self, ms: u64, counter: u16) {
        self.ms = ms;
        self.counter = counter;
    }

    /// Sets `(ms, counter)`, carrying a counter overflow into the next millisecond.
    fn set_after(&mut self, ms: u64, counter: u32) {
        match u16::try_from(counter) {
            Ok(counter) => self.set(ms, counter),
            Err(_) if ms < Hlc::MAX_MS => self.set(ms + 1, 0),
            Err(_) => self.set(Hlc::MAX_MS, u16::MAX),
        }
    }
}
