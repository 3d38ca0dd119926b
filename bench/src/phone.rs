//! A simulated phone: a `sync_protocol::Replica` and a signed-in client, pushing and
//! pulling exactly as a phone app built on the library would.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sync_protocol::{
    FieldName, NewVisit, Outcome, PullRequest, PullResponse, PushResponse, Replica,
};
use uuid::Uuid;

use crate::client::Api;
use crate::BenchError;

/// Milliseconds since the epoch on this machine's clock, moved by `skew_ms`.
pub fn now_ms(skew_ms: i64) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    u64::try_from(now.saturating_add(skew_ms)).unwrap_or(0)
}

/// A phone.
pub struct Phone {
    /// Its local replica.
    pub replica: Replica,
    /// Its connection to the server.
    pub api: Api,
    /// How far its clock is off, in milliseconds.
    pub skew_ms: i64,
    /// How it picks the ids of new visits.
    pub visit_ids: VisitIds,
}

/// How a phone picks the ids of new visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitIds {
    /// The `Replica`'s own: UUIDv7, from the visit's HLC.
    TimeOrdered,
    /// UUIDv4, as an app that draws its own random ids would send.
    Random,
}

/// The server's answer to one push, as the phone saw it.
pub struct Pushed {
    /// Changes that left the outbox.
    pub accepted: usize,
    /// Changes refused for good (each a bug in the bench's data).
    pub refused: usize,
}

impl Phone {
    /// A phone of `device_id` signed in as `api`.
    pub fn new(device_id: &str, api: Api, skew_ms: i64) -> Result<Phone, BenchError> {
        Ok(Phone {
            replica: Replica::new(device_id, 300_000)
                .map_err(|e| BenchError::Setup(e.to_string()))?,
            api,
            skew_ms,
            visit_ids: VisitIds::TimeOrdered,
        })
    }

    /// Records a visit to `household` on `street`, dated on `day` (days after the
    /// campaign's first day), and returns its id.
    pub fn visit(
        &mut self,
        campaign: Uuid,
        street: Uuid,
        household: Uuid,
        day: u32,
        people: (u32, u32),
    ) -> Result<Uuid, BenchError> {
        let visit = NewVisit {
            outcome: if people.1 > 0 {
                Outcome::InstalledNow
            } else {
                Outcome::Declined
            },
            visited_at: format!("2020-08-{:02}T09:30:00+07:00", 17 + day.min(10)),
            smartphone_users: Some(people.0),
            app_users: Some(people.1),
        };
        let now = now_ms(self.skew_ms);
        match self.visit_ids {
            VisitIds::TimeOrdered => self
                .replica
                .record_visit(campaign, street, household, visit, now),
            VisitIds::Random => self.replica.record_visit_with_id(
                Uuid::new_v4(),
                campaign,
                street,
                household,
                visit,
                now,
            ),
        }
        .map_err(|e| BenchError::Setup(e.to_string()))
    }

    /// Edits two or three fields of a visit it holds.
    pub fn edit(&mut self, visit: Uuid, round: u32) -> Result<(), BenchError> {
        let mut fields = vec![
            (FieldName::SmartphoneUsers, Value::from(4 + round % 3)),
            (FieldName::AppUsers, Value::from(3)),
        ];
        if round.is_multiple_of(2) {
            fields.push((FieldName::Note, Value::from(format!("lần {round}"))));
        }
        self.replica
            .edit(visit, fields, now_ms(self.skew_ms))
            .map(|_| ())
            .map_err(|e| BenchError::Setup(e.to_string()))
    }

    /// Sends one push of what the outbox holds for `campaign` (the replica keeps it within
    /// the contract's limits) and hands the answer to the replica.
    pub fn push(&mut self, campaign: Uuid) -> Result<Pushed, BenchError> {
        let batch = self.replica.prepare_push(campaign);
        if batch.is_empty() {
            return Ok(Pushed {
                accepted: 0,
                refused: 0,
            });
        }
        let answer: PushResponse = self.api.post("/sync/push", batch.request())?;
        let report = self
            .replica
            .acknowledge(&batch, &answer)
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        Ok(Pushed {
            accepted: report.accepted,
            refused: report.refused.len(),
        })
    }

    /// Pulls until nothing more waits; the number of records received.
    pub fn pull_all(&mut self, campaign: Uuid, limit: u32) -> Result<usize, BenchError> {
        let mut received = 0;
        loop {
            let request: PullRequest = self.replica.pull_request(campaign, Some(limit));
            let answer: PullResponse = self.api.post("/sync/pull", &request)?;
            received += answer.changes.len();
            let more = answer.has_more;
            self.replica.apply_pull(&request, &answer);
            if !more {
                return Ok(received);
            }
        }
    }
}
