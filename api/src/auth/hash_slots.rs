//! A cap on Argon2 work in flight. Each hash or verification holds about 19 MiB for tens of
//! milliseconds; unbounded, a few hundred concurrent logins take gigabytes and starve every
//! other request. So hashes run on one dedicated thread per core, others queue briefly, and
//! those that would wait longer are answered 503 `unavailable` with `Retry-After`.
//!
//! Dedicated threads, not the shared blocking pool: where the allocator keeps a freed
//! 19 MiB in the arena of the thread that used it (glibc does, unless it is told to map
//! buffers that large from the kernel, as a serving process does: `crate::memory`), hashes
//! spread over hundreds of pool threads left a 19–58 MiB residue in every arena (over
//! 1 GiB measured under a flood), while a few threads that always hash leave at most one
//! each.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Semaphore};

use super::password;
use crate::error::{ApiError, ApiResult};

/// How long a request waits for a hashing slot before 503.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// The `Retry-After` of that 503, in seconds.
pub const RETRY_AFTER_SECS: u64 = 2;

type Job = Box<dyn FnOnce() + Send>;

/// Slots for password hashing, shared by every worker of the process.
#[derive(Debug, Clone)]
pub struct HashSlots {
    slots: Arc<Semaphore>,
    wait: Duration,
    jobs: SyncSender<Job>,
}

fn hash_thread(jobs: Arc<Mutex<Receiver<Job>>>) {
    loop {
        let job = {
            let receiver = jobs.lock().unwrap_or_else(|p| p.into_inner());
            receiver.recv()
        };
        match job {
            Ok(job) => job(),
            // Every sender is gone: the server is shutting down.
            Err(_) => return,
        }
    }
}

impl HashSlots {
    /// `slots` hashes may run at once (at least one), each on its own thread; a request
    /// waits at most `wait` for one.
    pub fn new(slots: usize, wait: Duration) -> Result<HashSlots, String> {
        let slots = slots.max(1);
        // Never more jobs than slots are sent, so the channel never blocks a sender.
        let (sender, receiver) = sync_channel::<Job>(slots);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..slots {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || hash_thread(receiver))
                .map_err(|err| format!("cannot start a hashing thread: {err}"))?;
        }
        Ok(HashSlots {
            slots: Arc::new(Semaphore::new(slots)),
            wait,
            jobs: sender,
        })
    }

    /// One slot per core.
    pub fn per_core() -> Result<HashSlots, String> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        HashSlots::new(cores, QUEUE_WAIT)
    }

    /// Runs `work` on a hashing thread once a slot is free; 503 when none frees in time.
    async fn run<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce() -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| {
                ApiError::unavailable(
                    "too many password checks at once; try again shortly",
                    RETRY_AFTER_SECS,
                )
            })?
            .map_err(ApiError::internal)?;
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            // The slot stays taken until the work is done, even if the client has gone.
            let _permit = permit;
            let _ = reply.send(span.in_scope(work));
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal("the hashing threads are gone"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("a hashing thread failed"))?
    }

    /// Whether `password` matches the PHC string `phc`.
    pub async fn verify(&self, password: String, phc: String) -> ApiResult<bool> {
        self.run(move || Ok(password::verify(&password, &phc)))
            .await
    }

    /// The PHC string of a new password.
    pub async fn hash(&self, password: String) -> ApiResult<String> {
        self.run(move || password::hash(&password)).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_request_that_finds_no_free_slot_in_time_is_answered_503() {
        let slots = HashSlots::new(1, Duration::from_millis(50)).unwrap();
        let held = slots.slots.clone().acquire_owned().await.unwrap();
        let err = slots.verify("x".into(), "y".into()).await.unwrap_err();
        assert_eq!(err.code(), "unavailable");
        drop(held);
        assert!(!slots.verify("x".into(), "not a hash".into()).await.unwrap());
    }
}
