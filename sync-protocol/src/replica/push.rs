//! The safe push cycle: a batch is prepared from the outbox without taking anything out of
//! it, and a change leaves the outbox only when the server's result for it comes back. A
//! lost answer, or an app killed in between, loses nothing: the next batch holds the same
//! changes again, and the server answers a re-sent change `unchanged`.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::{Pending, Replica};
use crate::field::Kind;
use crate::rejection::RejectionCode;
use crate::wire::{PushRequest, PushResponse, PushStatus, MAX_PUSH_BYTES, MAX_PUSH_CHANGES};

/// A push prepared by [`Replica::prepare_push`]: the body to send, and what was in it.
///
/// Send [`PushBatch::request`] as the body of `POST /sync/push`, then hand the answer to
/// [`Replica::acknowledge`] with this batch. Prepare a new batch for every attempt: never
/// send an old body again, since changes in it may have been stamped again since.
#[derive(Debug, Clone, PartialEq)]
pub struct PushBatch {
    request: PushRequest,
    sent: Vec<Pending>,
}

impl PushBatch {
    /// The body to send.
    pub fn request(&self) -> &PushRequest {
        &self.request
    }

    /// The outbox entries in the batch, in the order of its changes.
    pub fn pending(&self) -> &[Pending] {
        &self.sent
    }

    /// How many changes it carries.
    pub fn len(&self) -> usize {
        self.sent.len()
    }

    /// Whether it carries nothing (nothing to push for this campaign).
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }
}

/// A change the server refused for good, or a change dropped with it because it depended
/// on it: the app tells the volunteer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalRejection {
    /// The record whose change was dropped.
    pub record_id: Uuid,
    /// Its kind.
    pub kind: Kind,
    /// The server's code (for a dependent: the code of the change it depended on).
    pub code: RejectionCode,
    /// The server's message, for people.
    pub message: String,
    /// For a dependent, the record whose refused creation took it down: its household, or
    /// the visit itself whose creation was refused. `None` for a change the server refused.
    pub because_of: Option<Uuid>,
}

/// What [`Replica::acknowledge`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Changes answered `applied` or `unchanged`: they left the outbox.
    pub accepted: usize,
    /// Changes refused with `unknown_household`, `unknown_record` or `clock_skew`: they
    /// stay in the outbox and go again with a later push.
    pub waiting: usize,
    /// Changes dropped for good, one entry per change the server refused and per record
    /// dropped with it; rolled back locally.
    pub refused: Vec<FinalRejection>,
    /// Changes stamped again because the phone's clock had run ahead (see
    /// [`Replica::acknowledge`]); more than 0 is a good moment to ask the volunteer to check
    /// the phone's clock.
    pub restamped: usize,
}

/// An answer that does not fit the batch it is said to answer. Nothing was changed: treat
/// it like a lost answer and push again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// Not one result per change.
    #[error("{results} results for {sent} changes")]
    ResultCount {
        /// Changes in the batch.
        sent: usize,
        /// Results in the answer.
        results: usize,
    },
    /// A result whose id is not its change's, or a rejection without a code.
    #[error("result {index} does not answer change {index}")]
    Mismatch {
        /// The position of the result.
        index: usize,
    },
}

impl Replica {
    /// Prepares the next push for `campaign_id` from the outbox, oldest change first,
    /// without taking anything out of it.
    ///
    /// It carries the campaign's visit changes and the household changes (which belong to
    /// every campaign; one goes with this campaign unless this campaign's last pull named
    /// buckets without its street while another campaign's named it), as long as the
    /// contract's limits allow:
    /// [`MAX_PUSH_CHANGES`] changes and [`MAX_PUSH_BYTES`] of body. It takes a prefix, so a
    /// household's creation always travels before, or with, the visits that need it.
    ///
    /// ```
    /// use sync_protocol::Replica;
    ///
    /// let (campaign, street) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(7));
    /// let mut phone = Replica::new("phone-7", 300_000)?;
    /// phone.add_household(street, "12/5A", 1_000)?;
    /// let batch = phone.prepare_push(campaign);
    /// assert_eq!(batch.len(), 1);
    /// assert_eq!(phone.outbox().len(), 1, "still there until the answer comes back");
    /// let body = serde_json::to_value(batch.request())?;
    /// assert_eq!(body["device_id"], "phone-7");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prepare_push(&self, campaign_id: Uuid) -> PushBatch {
        let mut request = PushRequest {
            campaign_id,
            device_id: self.device_id().to_owned(),
            changes: Vec::new(),
        };
        let mut bytes = json_len(&request);
        let mut sent = Vec::new();
        for pending in self
            .outbox
            .iter()
            .filter(|p| self.goes_with(p, campaign_id))
        {
            if sent.len() == MAX_PUSH_CHANGES {
                break;
            }
            let change = pending.change();
            let comma = usize::from(!sent.is_empty());
            let more = json_len(&change).saturating_add(comma);
            if bytes.saturating_add(more) > MAX_PUSH_BYTES {
                break;
            }
            bytes += more;
            request.changes.push(change);
            sent.push(pending.clone());
        }
        PushBatch { request, sent }
    }

    /// Whether `pending` goes with a push of `campaign_id`: a visit's change with its
    /// campaign's; a household's with a campaign whose buckets hold its street, or not known
    /// yet, or with any campaign when no pulled campaign holds it (the server then judges).
    fn goes_with(&self, pending: &Pending, campaign_id: Uuid) -> bool {
        let lists = |sync: &super::CampaignSync| {
            sync.buckets
                .as_ref()
                .map(|buckets| buckets.iter().any(|b| b.street_id == pending.street_id))
        };
        match pending.campaign_id {
            Some(campaign) => campaign == campaign_id,
            None => match self.campaigns.get(&campaign_id).and_then(lists) {
                Some(true) | None => true,
                Some(false) => !self
                    .campaigns
                    .values()
                    .any(|sync| lists(sync) == Some(true)),
            },
        }
    }

    /// Takes the server's answer to `batch` (200 of `POST /sync/push`).
    ///
    /// - `applied` and `unchanged`: the change leaves the outbox (if the outbox still holds
    ///   it as it was sent: a change stamped again since stays).
    /// - `unknown_household`, `unknown_record`, `clock_skew`: the change stays.
    /// - Every other code is final: the change leaves the outbox and so does every change
    ///   that depends on it (when it was the creation of a record the server does not hold:
    ///   the oldest change of that record in the outbox, its record not pulled nor accepted
    ///   before; then the record's other changes go, and for a household the changes of its
    ///   visits the server does not hold either); each is rolled back locally (the fields still holding what it wrote
    ///   are forgotten, a record left with nothing is forgotten, and when the server holds
    ///   the record its street is pulled again from 0 in every campaign, to bring back the
    ///   server's values) and reported in [`PushReport::refused`].
    ///
    /// Then the clock takes in `server_hlc`, and when the replica's clock is more than its
    /// drift limit plus [`super::recovery::RESTAMP_MARGIN_MS`] ahead of it, what a clock
    /// that ran ahead stamped is stamped again (see [`super::recovery`]).
    ///
    /// An answer that does not fit the batch changes nothing and is an [`AckError`].
    ///
    /// ```
    /// use sync_protocol::{PushResponse, PushResult, Replica};
    ///
    /// let (campaign, street) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(7));
    /// let mut phone = Replica::new("phone-7", 300_000)?;
    /// let house = phone.add_household(street, "12/5A", 1_000)?;
    /// let batch = phone.prepare_push(campaign);
    /// // The body went out; this is the server's answer (200).
    /// let answer = PushResponse {
    ///     results: vec![PushResult::applied(house.to_string().into())],
    ///     server_hlc: "0000000002000-0000-server".parse()?,
    /// };
    /// let report = phone.acknowledge(&batch, &answer)?;
    /// assert_eq!(report.accepted, 1);
    /// assert!(phone.outbox().is_empty());
    /// assert!(phone.record(house).ok_or("no house")?.on_server);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn acknowledge(
        &mut self,
        batch: &PushBatch,
        response: &PushResponse,
    ) -> Result<PushReport, AckError> {
        check_fit(batch, response)?;
        self.clock.witness(&response.server_hlc);
        self.settle(&response.server_hlc);
        let mut report = PushReport::default();
        let answered = || batch.sent.iter().zip(&response.results);
        for (sent, result) in answered() {
            let accepted = matches!(result.status, PushStatus::Applied | PushStatus::Unchanged);
            if accepted && self.remove_if_current(sent) {
                report.accepted += 1;
                if let Some(record) = self.records.get_mut(&sent.id) {
                    record.on_server = true;
                }
                if let Some(hlc) = sent.hlc() {
                    self.settle(hlc);
                }
            }
        }
        for (sent, result) in answered() {
            let Some(code) = result
                .code
                .filter(|_| result.status == PushStatus::Rejected)
            else {
                continue;
            };
            if !self.outbox.contains(sent) {
                continue;
            }
            if code.is_retryable() {
                report.waiting += 1;
            } else {
                let message = result.message.clone().unwrap_or_default();
                self.drop_with_dependents(sent, code, &message, &mut report.refused);
            }
        }
        report.restamped = self.recover_clock(&response.server_hlc);
        Ok(report)
    }

    /// Removes `sent` from the outbox if it is still there unchanged.
    fn remove_if_current(&mut self, sent: &Pending) -> bool {
        match self.outbox.iter().position(|p| p == sent) {
            Some(index) => {
                self.outbox.remove(index);
                true
            }
            None => false,
        }
    }

    /// Drops a change refused for good, and what depends on it, rolling all of it back.
    fn drop_with_dependents(
        &mut self,
        refused: &Pending,
        code: RejectionCode,
        message: &str,
        report: &mut Vec<FinalRejection>,
    ) {
        let on_server =
            |replica: &Replica, id: &Uuid| replica.records.get(id).is_some_and(|r| r.on_server);
        // Records none of whose changes may go on: a record the server does not hold whose
        // creation (its oldest change in the outbox) was refused, and for a household, its
        // visits the server does not hold.
        let creation = self
            .outbox
            .iter()
            .find(|p| p.id == refused.id)
            .is_some_and(|first| first.entry == refused.entry);
        let mut doomed: BTreeSet<Uuid> = BTreeSet::new();
        if creation && !on_server(self, &refused.id) {
            doomed.insert(refused.id);
            if refused.kind == Kind::Household {
                for pending in &self.outbox {
                    let of_house =
                        pending.kind == Kind::Visit && pending.household_id == Some(refused.id);
                    if of_house && !on_server(self, &pending.id) {
                        doomed.insert(pending.id);
                    }
                }
            }
        }
        let (dropped, kept): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.outbox)
            .into_iter()
            .partition(|p| p.entry == refused.entry || doomed.contains(&p.id));
        self.outbox = kept;
        report.push(FinalRejection {
            record_id: refused.id,
            kind: refused.kind,
            code,
            message: message.to_owned(),
            because_of: None,
        });
        let mut reported = BTreeSet::from([refused.id]);
        for pending in &dropped {
            if reported.insert(pending.id) {
                report.push(FinalRejection {
                    record_id: pending.id,
                    kind: pending.kind,
                    code,
                    message: format!(
                        "dropped with the {} {} ({code}: {message})",
                        refused.kind, refused.id
                    ),
                    because_of: Some(refused.id),
                });
            }
        }
        for pending in &dropped {
            self.roll_back(pending);
        }
    }

    /// Forgets the local fields that still hold what `pending` wrote; the record too when
    /// nothing is left of it. When the server holds the record, its street is pulled again
    /// from 0, which brings back the server's values.
    fn roll_back(&mut self, pending: &Pending) {
        let Some(record) = self.records.get_mut(&pending.id) else {
            return;
        };
        let mut forgot = false;
        for (field, stamped) in &pending.fields {
            if record.state.get(*field) == Some(stamped) {
                record.state.fields.remove(field);
                forgot = true;
            }
        }
        let (on_server, street) = (record.on_server, record.street_id);
        if record.state.is_empty() {
            self.records.remove(&pending.id);
        }
        if on_server && forgot {
            for sync in self.campaigns.values_mut() {
                if let Some(cursor) = sync.cursors.get_mut(&street) {
                    *cursor = 0;
                }
            }
        }
    }
}

/// Checks that `response` answers `batch`: one result per change, each with its change's
/// id, and a code on every rejection.
fn check_fit(batch: &PushBatch, response: &PushResponse) -> Result<(), AckError> {
    if batch.sent.len() != response.results.len() {
        return Err(AckError::ResultCount {
            sent: batch.sent.len(),
            results: response.results.len(),
        });
    }
    for (index, (sent, result)) in batch.sent.iter().zip(&response.results).enumerate() {
        let id = result
            .id
            .as_str()
            .and_then(|text| Uuid::try_parse(text).ok());
        let coded = result.status != PushStatus::Rejected || result.code.is_some();
        if id != Some(sent.id) || !coded {
            return Err(AckError::Mismatch { index });
        }
    }
    Ok(())
}

/// The length of a value's compact JSON.
fn json_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len())
}
