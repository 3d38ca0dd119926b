//! The saved form of a replica: everything it holds, so that an app restart or a phone
//! reboot loses nothing. Stable and versioned; `docs/phone-app.md` describes it.
//!
//! ```json
//! {"format": "canvass-replica", "version": 1,
//!  "device_id": "phone-7", "max_drift_ms": 300000,
//!  "clock": "1597742400000-0003-phone-7", "settled": "1597742400000-0001-server",
//!  "next_entry": 4,
//!  "records": {"<id>": {"kind", "street_id", "household_id", "campaign_id", "volunteer_id",
//!                       "on_server", "fields": {"<name>": {"value", "hlc"}}}},
//!  "outbox": [{"entry", "campaign_id", "kind", "id", "street_id", "household_id",
//!              "fields": {"<name>": {"value", "hlc"}}}],
//!  "campaigns": {"<campaign id>": {"cursors": {"<street id>": 12}, "buckets": [Bucket] | null}}}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::{CampaignSync, Pending, Replica, ReplicaRecord};
use crate::hlc::Hlc;

/// The `format` of a saved replica.
pub const SAVED_FORMAT: &str = "canvass-replica";
/// The `version` this crate writes and reads.
pub const SAVED_VERSION: u32 = 1;

/// The saved form, borrowed for writing.
#[derive(Serialize)]
struct SavedRef<'a> {
    format: &'a str,
    version: u32,
    device_id: &'a str,
    max_drift_ms: u64,
    clock: Hlc,
    settled: &'a Option<Hlc>,
    next_entry: u64,
    records: &'a BTreeMap<Uuid, ReplicaRecord>,
    outbox: &'a [Pending],
    campaigns: &'a BTreeMap<Uuid, CampaignSync>,
}

/// The saved form, owned for reading.
#[derive(Deserialize)]
struct Saved {
    format: String,
    version: u32,
    device_id: String,
    max_drift_ms: u64,
    clock: Hlc,
    #[serde(default)]
    settled: Option<Hlc>,
    next_entry: u64,
    #[serde(default)]
    records: BTreeMap<Uuid, ReplicaRecord>,
    #[serde(default)]
    outbox: Vec<Pending>,
    #[serde(default)]
    campaigns: BTreeMap<Uuid, CampaignSync>,
}

impl Serialize for Replica {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SavedRef {
            format: SAVED_FORMAT,
            version: SAVED_VERSION,
            device_id: self.device_id(),
            max_drift_ms: self.clock.max_drift_ms(),
            clock: self.clock.last(),
            settled: &self.settled,
            next_entry: self.next_entry,
            records: &self.records,
            outbox: &self.outbox,
            campaigns: &self.campaigns,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Replica {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Replica, D::Error> {
        let saved = Saved::deserialize(deserializer)?;
        Replica::from_saved(saved).map_err(serde::de::Error::custom)
    }
}

impl Replica {
    /// The replica in its saved form (JSON): store it after every call that changes the
    /// replica (an edit, an acknowledged push, an applied pull), and [`Replica::restore`]
    /// it when the app starts.
    pub fn save(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// A replica from its saved form. Refuses another format or version, and a form whose
    /// parts do not agree (a clock of another device, outbox entries out of order).
    ///
    /// ```
    /// use sync_protocol::Replica;
    ///
    /// let phone = Replica::new("phone-7", 300_000)?;
    /// let mut saved: serde_json::Value = serde_json::from_str(&phone.save()?)?;
    /// assert_eq!(saved["version"], 1);
    /// saved["version"] = 2.into();
    /// assert!(Replica::restore(&saved.to_string()).is_err(), "a newer form is not guessed at");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore(saved: &str) -> Result<Replica, serde_json::Error> {
        serde_json::from_str(saved)
    }

    fn from_saved(saved: Saved) -> Result<Replica, String> {
        if saved.format != SAVED_FORMAT || saved.version != SAVED_VERSION {
            return Err(format!(
                "a saved replica of format {:?} version {} (this app reads {SAVED_FORMAT:?} version {SAVED_VERSION})",
                saved.format, saved.version
            ));
        }
        let mut replica =
            Replica::new(&saved.device_id, saved.max_drift_ms).map_err(|e| e.to_string())?;
        if saved.clock.node() != saved.device_id {
            return Err("the saved clock belongs to another device".to_owned());
        }
        replica.clock.witness(&saved.clock);
        let mut previous: Option<u64> = None;
        for pending in &saved.outbox {
            let in_order = previous.is_none_or(|p| p < pending.entry);
            if !in_order || pending.entry >= saved.next_entry || pending.fields.is_empty() {
                return Err(format!(
                    "outbox entry {} is out of order or empty",
                    pending.entry
                ));
            }
            previous = Some(pending.entry);
        }
        replica.settled = saved.settled;
        replica.next_entry = saved.next_entry;
        replica.records = saved.records;
        replica.outbox = saved.outbox;
        replica.campaigns = saved.campaigns;
        Ok(replica)
    }
}
