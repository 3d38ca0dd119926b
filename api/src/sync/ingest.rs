//! Ingesting changes in one transaction: the push endpoint, reviews and household imports
//! all come through here, so the rules and the bookkeeping exist once.
//!
//! Per request: decode every change, take the row locks of the streets it touches (sorted,
//! so concurrent pushes never deadlock), load the records and the visits of the households
//! involved, then judge and merge each change in order with `sync-protocol`. At the end the
//! changed records get new seqs in their street's bucket, the history gets a row per change
//! with every distinct value it wrote, and the ward counters get the deltas of the
//! households whose state changed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use sync_protocol::{
    decode, merge, validate, Change, DecodedChange, ExistingRecord, FieldName, Hlc, HouseholdFacts,
    Kind, PushContext, PushResult, RecordState, Rejection, Role, StreetAccess,
};

use super::coverage_keeper::CoverageKeeper;
use super::derive::derive;
use crate::db::campaigns::CampaignRow;
use crate::db::history::{self, NewChange, NewEntry};
use crate::db::records::{self, MergeRow, NamedHousehold, RecordRow};
use crate::db::{areas, assignments, streets, DbConn};
use crate::error::ApiResult;
use crate::model::{AreaId, CampaignId, RecordId, StreetId, UserId};
use crate::state::now_ms_i64;

/// How far ahead of the server clock an HLC or `visited_at` may be.
pub const MAX_SKEW_MS: u64 = 5 * 60 * 1000;
/// How long after unassignment a volunteer may still push to a street.
pub const UNASSIGNED_GRACE_MS: i64 = 7 * 24 * 3600 * 1000;

/// Who is writing.
#[derive(Debug, Clone)]
pub struct Writer {
    /// The user.
    pub user_id: UserId,
    /// Its role.
    pub role: Role,
    /// Its area (a ward for ward leaders and volunteers).
    pub area_id: Option<AreaId>,
    /// The pushing device (`server` for reviews and imports).
    pub device_id: String,
}

/// What an ingest did.
#[derive(Debug)]
pub struct Ingested {
    /// One result per change, in order.
    pub results: Vec<PushResult>,
    /// The largest HLC of the records this ingest touched, stored before or now, for the
    /// server clock to witness.
    pub max_hlc: Option<Hlc>,
}

/// Changes decoded before the write transaction: parsing them, and dropping the wire JSON
/// they came in, is work no other push has to wait for.
#[derive(Debug)]
pub struct Decoded {
    /// Each change's `id` as sent (a result echoes it), and the change or why it is refused.
    items: Vec<(Value, Result<DecodedChange, Rejection>)>,
}

impl Decoded {
    /// Decodes `changes`, in order.
    pub fn new(changes: Vec<Change>) -> Decoded {
        Decoded {
            items: changes
                .into_iter()
                .map(|change| {
                    let decoded = decode(&change);
                    (change.id, decoded)
                })
                .collect(),
        }
    }
}

/// A record as this transaction sees it.
#[derive(Debug, Clone)]
pub(crate) struct Working {
    pub(crate) kind: Kind,
    pub(crate) street_id: StreetId,
    pub(crate) ward_id: AreaId,
    pub(crate) household_id: Option<RecordId>,
    pub(crate) campaign_id: Option<CampaignId>,
    pub(crate) volunteer_id: Option<UserId>,
    pub(crate) seq: i64,
    /// The merged state; empty for a household the push only names, whose state is not
    /// read (`named_deleted` holds what is needed of it).
    pub(crate) state: RecordState,
    /// For a household the push only names: whether it is deleted.
    named_deleted: Option<bool>,
    first_device: Option<String>,
    conflict: bool,
    touch: Touch,
}

/// What this transaction did to a record.
#[derive(Debug, Clone, Copy)]
struct Touch {
    /// Its merged state changed: it takes a new seq.
    state: bool,
    /// Its first device or conflict flag changed.
    meta: bool,
    /// The first change that changed its state (`usize::MAX`: none), which orders the
    /// new seqs.
    first_change: usize,
}

impl Touch {
    /// Loaded or created, not changed yet.
    const NONE: Touch = Touch {
        state: false,
        meta: false,
        first_change: usize::MAX,
    };
}

impl Working {
    fn from_row(row: MergeRow) -> Working {
        Working {
            kind: row.kind,
            street_id: row.street_id,
            ward_id: row.ward_id,
            household_id: row.household_id,
            campaign_id: row.campaign_id,
            volunteer_id: row.volunteer_id,
            seq: row.seq,
            state: row.state,
            named_deleted: None,
            first_device: row.first_device,
            conflict: row.conflict,
            touch: Touch::NONE,
        }
    }

    fn named(row: NamedHousehold) -> Working {
        Working {
            kind: Kind::Household,
            street_id: row.street_id,
            ward_id: row.ward_id,
            household_id: None,
            campaign_id: None,
            volunteer_id: None,
            seq: row.seq,
            state: RecordState::new(),
            named_deleted: Some(row.deleted),
            first_device: None,
            conflict: false,
            touch: Touch::NONE,
        }
    }

    /// Whether the record is deleted.
    pub(crate) fn deleted(&self) -> bool {
        self.named_deleted.unwrap_or_else(|| self.state.deleted())
    }
}

/// The records loaded in this transaction, by id.
pub(crate) type WorkingSet = HashMap<RecordId, Working>;

fn street_access(
    conn: &mut DbConn,
    writer: &Writer,
    campaign: Option<&CampaignRow>,
    street_ids: &BTreeSet<StreetId>,
    now_ms: i64,
) -> ApiResult<HashMap<StreetId, (StreetAccess, AreaId)>> {
    let ids: Vec<StreetId> = street_ids.iter().copied().collect();
    let found = streets::by_ids(conn, &ids)?;
    let assigned: BTreeSet<StreetId> = match (writer.role, campaign) {
        (Role::Volunteer, Some(campaign)) => assignments::pushable_streets(
            conn,
            campaign.id,
            writer.user_id,
            now_ms,
            UNASSIGNED_GRACE_MS,
        )?
        .into_iter()
        .collect(),
        _ => BTreeSet::new(),
    };
    let mut ward_in_campaign: HashMap<AreaId, bool> = HashMap::new();
    let mut access = HashMap::new();
    for street in found {
        let in_campaign = match campaign {
            None => true,
            Some(campaign) => match ward_in_campaign.get(&street.ward_id) {
                Some(known) => *known,
                None => {
                    let within = areas::is_within(conn, street.ward_id, campaign.area_id)?;
                    ward_in_campaign.insert(street.ward_id, within);
                    within
                }
            },
        };
        let allowed = in_campaign
            && match writer.role {
                Role::Admin => true,
                Role::WardLeader => writer.area_id == Some(street.ward_id),
                Role::Volunteer => assigned.contains(&street.id),
                Role::Supervisor => false,
            };
        let verdict = if allowed {
            StreetAccess::Allowed
        } else {
            StreetAccess::NotAllowed
        };
        access.insert(street.id, (verdict, street.ward_id));
    }
    Ok(access)
}

/// Ingests `changes` for `campaign` (None: households only, e.g. an import) in the caller's
/// transaction, judged against the server clock as it reads once the street locks are held.
pub fn ingest(
    conn: &mut DbConn,
    campaign: Option<&CampaignRow>,
    writer: &Writer,
    changes: Decoded,
) -> ApiResult<Ingested> {
    let items = changes.items;
    let decoded = || items.iter().filter_map(|(_, d)| d.as_ref().ok());
    let street_ids: BTreeSet<StreetId> = decoded().map(|d| StreetId(d.street_id)).collect();
    let access = street_access(conn, writer, campaign, &street_ids, now_ms_i64())?;
    // Row locks in one global order: concurrent pushes queue instead of deadlocking, and a
    // bucket's seqs become visible in the order they are handed out.
    for (street_id, (verdict, _)) in access.iter().collect::<BTreeMap<_, _>>() {
        if *verdict == StreetAccess::Allowed {
            streets::lock(conn, *street_id)?;
        }
    }
    // The locks may have taken a while: judge clocks against the time they were granted,
    // and stamp history with it, so a record's history is in received order.
    let now_ms = now_ms_i64();
    // The records the changes write are loaded whole; the households their visits only
    // name, without their state (most pushes are new visits to known households).
    let pushed: BTreeSet<RecordId> = decoded().map(|d| RecordId(d.id)).collect();
    let named: Vec<RecordId> = decoded()
        .filter_map(|d| d.household_id.map(RecordId))
        .filter(|id| !pushed.contains(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut working: WorkingSet = HashMap::new();
    for row in records::for_merge(conn, &pushed.iter().copied().collect::<Vec<_>>())? {
        working.insert(row.id, Working::from_row(row));
    }
    for row in records::named_households(conn, &named)? {
        working.insert(row.id, Working::named(row));
    }
    let households: BTreeSet<RecordId> = decoded()
        .filter_map(|d| match d.kind {
            Kind::Household => Some(RecordId(d.id)),
            Kind::Visit => d.household_id.map(RecordId),
        })
        .collect();
    // A visit is stored only once its household is, on the same street: households not
    // stored yet have no stored visits.
    let stored_households: Vec<(StreetId, RecordId)> = households
        .iter()
        .filter_map(|id| {
            working
                .get(id)
                .filter(|w| w.kind == Kind::Household)
                .map(|w| (w.street_id, *id))
        })
        .collect();
    for row in records::visits_of_households(conn, &stored_households)? {
        working
            .entry(row.id)
            .or_insert_with(|| Working::from_row(row));
    }
    let campaign_id = campaign.map(|c| c.id);
    let visits_from_ms = campaign.and_then(campaign_starts_ms);
    let keeper = CoverageKeeper::before(&working, &households, campaign_id)?;

    let now = u64::try_from(now_ms).unwrap_or(0);
    let mut results = Vec::with_capacity(items.len());
    let mut changed: Vec<NewChange> = Vec::new();
    let mut max_hlc: Option<Hlc> = None;
    for (index, (change_id, decoded)) in items.into_iter().enumerate() {
        let decoded = match decoded {
            Ok(decoded) => decoded,
            Err(rejection) => {
                results.push(PushResult::rejected(change_id, &rejection));
                continue;
            }
        };
        let id = RecordId(decoded.id);
        let (verdict, ward_id) = match access.get(&StreetId(decoded.street_id)) {
            Some((verdict, ward_id)) => (*verdict, Some(*ward_id)),
            None => (StreetAccess::Unknown, None),
        };
        let verdict = match (decoded.kind, &campaign_id) {
            // Visits belong to a campaign; an ingest without one (an import) takes none.
            (Kind::Visit, None) => StreetAccess::NotAllowed,
            _ => verdict,
        };
        let judged = {
            let existing = working.get(&id).map(|w| ExistingRecord {
                kind: w.kind,
                street_id: w.street_id.uuid(),
                household_id: w.household_id.map(RecordId::uuid),
                volunteer_id: w.volunteer_id.map(UserId::uuid),
                other_campaign: w.kind == Kind::Visit && w.campaign_id != campaign_id,
                state: &w.state,
            });
            let household = decoded
                .household_id
                .and_then(|h| working.get(&RecordId(h)))
                .filter(|w| w.kind == Kind::Household)
                .map(|w| HouseholdFacts {
                    street_id: w.street_id.uuid(),
                });
            let ctx = PushContext {
                now_ms: now,
                max_skew_ms: MAX_SKEW_MS,
                visits_from_ms,
                pusher_id: writer.user_id.uuid(),
                role: writer.role,
                street: verdict,
                existing,
                household,
            };
            validate(decoded, &ctx)
        };
        let valid = match judged {
            Ok(valid) => valid,
            Err(rejection) => {
                results.push(PushResult::rejected(change_id, &rejection));
                continue;
            }
        };
        // Only a change on a known street that the writer may write to validates, and every
        // known street has its ward: a valid change without one is a bug, not a default.
        let Some(ward_id) = ward_id else {
            return Err(crate::error::ApiError::internal(format!(
                "change {id} validated on street {} without a ward",
                valid.street_id()
            )));
        };
        let record = working.entry(id).or_insert_with(|| Working {
            kind: valid.kind(),
            street_id: StreetId(valid.street_id()),
            ward_id,
            household_id: valid.household_id().map(RecordId),
            campaign_id: match valid.kind() {
                Kind::Visit => campaign_id,
                Kind::Household => None,
            },
            // The creator: who may delete a household it created (imports create none).
            volunteer_id: (valid.kind() == Kind::Visit
                || writer.device_id != crate::state::SERVER_NODE)
                .then_some(writer.user_id),
            seq: 0,
            state: RecordState::new(),
            named_deleted: None,
            first_device: None,
            conflict: false,
            touch: Touch::NONE,
        });
        if record.named_deleted.is_some() {
            return Err(crate::error::ApiError::internal(format!(
                "change {id} would merge into a record loaded without its state"
            )));
        }
        let outcome = merge(&mut record.state, &valid);
        let written: Vec<FieldName> = outcome
            .won
            .iter()
            .chain(outcome.lost.iter())
            .copied()
            .collect();
        let logged: Vec<NewEntry> = written
            .iter()
            .filter_map(|field| {
                valid.fields().get(field).map(|stamped| NewEntry {
                    field: *field,
                    value: stamped.value.clone(),
                    hlc: stamped.hlc.clone(),
                    lost: outcome.lost.contains(field),
                })
            })
            .collect();
        if !logged.is_empty() {
            changed.push(NewChange {
                record_id: id,
                entries: logged,
                device_id: writer.device_id.clone(),
                user_id: writer.user_id,
                received_at: now_ms,
            });
        }
        if writer.device_id != crate::state::SERVER_NODE
            && written.iter().any(|f| !f.is_review_field())
        {
            match &record.first_device {
                None => {
                    record.first_device = Some(writer.device_id.clone());
                    record.touch.meta = true;
                }
                Some(first) if *first != writer.device_id && !record.conflict => {
                    record.conflict = true;
                    record.touch.meta = true;
                }
                Some(_) => {}
            }
        }
        if let Some(hlc) = valid.max_hlc() {
            if max_hlc.as_ref().is_none_or(|m| hlc > m) {
                max_hlc = Some(hlc.clone());
            }
        }
        if outcome.applied() {
            record.touch.state = true;
            record.touch.first_change = record.touch.first_change.min(index);
            results.push(PushResult::applied(change_id));
        } else {
            results.push(PushResult::unchanged(change_id));
        }
    }

    // What the touched records hold may come from another process: witnessing it keeps
    // this process's clock above every HLC of the records it just wrote. (A household the
    // push only names is not touched, and its state was not read.)
    for stored in working
        .values()
        .filter(|w| w.named_deleted.is_none())
        .filter_map(|w| w.state.max_hlc())
    {
        if max_hlc.as_ref().is_none_or(|m| stored > m) {
            max_hlc = Some(stored.clone());
        }
    }
    write_records(conn, &mut working, now_ms)?;
    history::append(conn, &changed)?;
    keeper.apply(conn, &working)?;
    Ok(Ingested { results, max_hlc })
}

/// Gives changed records new seqs in their buckets (in the order of the changes that first
/// changed them) and writes them.
fn write_records(conn: &mut DbConn, working: &mut WorkingSet, now_ms: i64) -> ApiResult<()> {
    let mut changed: Vec<(&RecordId, &mut Working)> = working
        .iter_mut()
        .filter(|(_, w)| w.touch.state || w.touch.meta)
        .collect();
    changed.sort_by(|a, b| (a.1.touch.first_change, a.0).cmp(&(b.1.touch.first_change, b.0)));
    // Per street: how many records changed, and the newest HLC they hold. A value that
    // lost changes no state, and is older than one of its record that was kept before.
    let mut per_street: BTreeMap<StreetId, (i64, Option<&Hlc>)> = BTreeMap::new();
    for (_, w) in changed.iter().filter(|(_, w)| w.touch.state) {
        let (count, newest) = per_street.entry(w.street_id).or_default();
        *count += 1;
        *newest = (*newest).max(w.state.max_hlc());
    }
    let mut next_seq: HashMap<StreetId, i64> = HashMap::new();
    for (street_id, (count, newest)) in &per_street {
        next_seq.insert(
            *street_id,
            streets::allocate_seqs(conn, *street_id, *count, *newest)?,
        );
    }
    let mut rows = Vec::with_capacity(changed.len());
    for (id, w) in changed {
        if w.touch.state {
            let seq = next_seq.entry(w.street_id).or_insert(1);
            w.seq = *seq;
            *seq += 1;
        }
        let derived = derive(*id, w.kind, &w.state)?;
        rows.push(RecordRow {
            id: *id,
            kind: w.kind,
            street_id: w.street_id,
            ward_id: w.ward_id,
            household_id: w.household_id,
            campaign_id: w.campaign_id,
            volunteer_id: w.volunteer_id,
            seq: w.seq,
            state: w.state.clone(),
            deleted: derived.deleted,
            house_number: derived.house_number,
            outcome: derived.outcome,
            visited_at: derived.visited_at,
            visited_at_us: derived.visited_at_us,
            review: derived.review,
            first_device: w.first_device.clone(),
            conflict: w.conflict,
            updated_at: now_ms,
        });
    }
    records::upsert_many(conn, &rows)?;
    Ok(())
}

/// The first instant of a campaign: local midnight of its `starts_on` in its time zone, in
/// Unix milliseconds (where midnight does not exist that day, the first instant after it).
fn campaign_starts_ms(campaign: &CampaignRow) -> Option<i64> {
    use chrono::TimeZone;
    (0..=24).find_map(|hour| {
        let local = campaign.starts_on.and_hms_opt(hour, 0, 0)?;
        campaign
            .timezone
            .from_local_datetime(&local)
            .earliest()
            .map(|start| start.timestamp_millis())
    })
}
