//! Pulling, per campaign: cursors belong to one campaign, so a replica keeps one cursor map
//! per campaign.

use uuid::Uuid;

use super::{merge_into, CampaignSync, Replica, ReplicaRecord};
use crate::field::Kind;
use crate::state::RecordState;
use crate::wire::{PullRequest, PullResponse, PulledRecord};

/// What [`Replica::apply_pull`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullReport {
    /// Records merged from the page.
    pub changes: usize,
    /// More changes wait: pull again (with a new [`Replica::pull_request`]).
    pub has_more: bool,
    /// Streets no longer the caller's, whose cursors were forgotten.
    pub dropped: Vec<Uuid>,
    /// Outbox changes stamped again because the phone's clock had run ahead (see
    /// [`super::recovery`]).
    pub restamped: usize,
}

impl Replica {
    /// The body of the next `POST /sync/pull` for `campaign_id`, with this campaign's
    /// cursors (none before its first pull: every bucket starts at 0).
    ///
    /// ```
    /// use sync_protocol::Replica;
    ///
    /// let phone = Replica::new("phone-7", 300_000)?;
    /// let request = phone.pull_request(uuid::Uuid::from_u128(1), Some(500));
    /// assert!(request.cursors.is_empty());
    /// assert_eq!(serde_json::to_value(&request)?["limit"], 500);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pull_request(&self, campaign_id: Uuid, limit: Option<u32>) -> PullRequest {
        PullRequest {
            campaign_id,
            device_id: self.device_id().to_owned(),
            cursors: self
                .campaigns
                .get(&campaign_id)
                .map(|sync| sync.cursors.clone())
                .unwrap_or_default(),
            limit,
        }
    }

    /// Takes the answer (200) to `request`, a body made by [`Replica::pull_request`].
    ///
    /// Every pulled record merges field by field (the server's word is taken for its kind,
    /// street, household and creator; a visit belongs to the request's campaign), and the
    /// clock is raised above each of its HLCs (the server stored them, so they are honoured
    /// whatever the drift). The campaign's cursors become the answer's, without the
    /// `dropped` streets; a cursor set back to 0 while the pull was on its way (a change of
    /// a record on that street was rolled back) stays at 0. The buckets are remembered:
    /// household changes then go only with pushes of a campaign that lists their street.
    ///
    /// ```
    /// use sync_protocol::{PullResponse, Replica};
    ///
    /// let campaign = uuid::Uuid::from_u128(1);
    /// let mut phone = Replica::new("phone-7", 300_000)?;
    /// let request = phone.pull_request(campaign, Some(500));
    /// // The server's answer (200): one street, one household on it.
    /// let answer: PullResponse = serde_json::from_value(serde_json::json!({
    ///     "buckets": [{"street_id": "ca41459a-228f-4513-b479-e934348a81aa",
    ///                  "ward_id": "2765b098-713b-493d-9bb6-d3c7e0b14148",
    ///                  "code": "25741-H12", "name": "Hẻm 12"}],
    ///     "dropped": [],
    ///     "changes": [{"kind": "household", "id": "cd204d15-0527-5827-9e6d-6bff87ec69dd",
    ///                  "street_id": "ca41459a-228f-4513-b479-e934348a81aa", "seq": 1,
    ///                  "fields": {"house_number": {"value": "12/5A",
    ///                                              "hlc": "1795931793795-0000-phone-lan"}}}],
    ///     "cursors": {"ca41459a-228f-4513-b479-e934348a81aa": 1},
    ///     "has_more": false, "remaining": 0,
    ///     "server_hlc": "1795931853800-0000-server"
    /// }))?;
    /// let report = phone.apply_pull(&request, &answer);
    /// assert!(!report.has_more);
    /// assert_eq!(phone.records().count(), 1);
    /// assert_eq!(phone.pull_request(campaign, None).cursors.values().next(), Some(&1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_pull(&mut self, request: &PullRequest, response: &PullResponse) -> PullReport {
        let campaign_id = request.campaign_id;
        for pulled in &response.changes {
            self.apply_pulled(campaign_id, pulled);
        }
        self.clock.witness(&response.server_hlc);
        self.settle(&response.server_hlc);
        let sync = self.campaigns.entry(campaign_id).or_default();
        let mut cursors = response.cursors.clone();
        for (street, cursor) in cursors.iter_mut() {
            let now = sync.cursors.get(street).copied().unwrap_or(0);
            let sent = request.cursors.get(street).copied().unwrap_or(0);
            if now != sent {
                *cursor = now.min(*cursor);
            }
        }
        for street in &response.dropped {
            cursors.remove(street);
        }
        *sync = CampaignSync {
            cursors,
            buckets: Some(response.buckets.clone()),
        };
        PullReport {
            changes: response.changes.len(),
            has_more: response.has_more,
            dropped: response.dropped.clone(),
            restamped: self.recover_clock(&response.server_hlc),
        }
    }

    /// Merges one pulled record.
    fn apply_pulled(&mut self, campaign_id: Uuid, pulled: &PulledRecord) {
        for stamped in pulled.fields.fields.values() {
            self.clock.witness(&stamped.hlc);
            self.settle(&stamped.hlc);
        }
        let campaign = (pulled.kind == Kind::Visit).then_some(campaign_id);
        let record = self
            .records
            .entry(pulled.id)
            .or_insert_with(|| ReplicaRecord {
                kind: pulled.kind,
                street_id: pulled.street_id,
                household_id: pulled.household_id,
                campaign_id: campaign,
                volunteer_id: pulled.volunteer_id,
                on_server: true,
                state: RecordState::new(),
            });
        record.kind = pulled.kind;
        record.street_id = pulled.street_id;
        record.household_id = pulled.household_id;
        record.campaign_id = record.campaign_id.or(campaign);
        record.volunteer_id = pulled.volunteer_id.or(record.volunteer_id);
        record.on_server = true;
        merge_into(&mut record.state, pulled.fields.fields.iter());
    }
}
