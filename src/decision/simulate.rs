//! What-if: the recorded decisions of a window judged again, now, against the register as it
//! is and against a copy of it with proposed changes (a grant revoked or added, a party
//! suspended, its locations changed, a sub-processor added), by the same pure engine. Nothing is written or counted.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::engine::{self, Outcome, Reason, Request};
use super::record::Decision;
use super::snapshot::{GrantEntry, Snapshot};
use crate::db::DbConn;
use crate::error::{DomainError, FieldError};
use crate::registry::parties::PartyStatus;
use crate::transfers::Enforcement;
use crate::transfers::law::GrantFacts;
use crate::transfers::rules::RuleSet;
use crate::transfers::volumes::Tally;
use crate::types::{CountryCode, Region};

/// The most decisions one simulation replays.
pub const MAX_DECISIONS: i64 = 10_000;

/// A proposed change to the register; `kind` says which.
#[derive(Debug, Clone, serde::Deserialize, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The grant revoked.
    RevokeGrant { grant_id: String },
    /// The party suspended.
    SuspendParty { party_id: String },
    /// The party's processing countries replaced.
    SetDataLocations {
        party_id: String,
        data_locations: Vec<String>,
    },
    /// A grant added, approved (as if a second person had).
    AddGrant {
        party_id: String,
        service: String,
        categories: Vec<String>,
        allowed_regions: Vec<Region>,
        /// RFC 3339; absent: valid since ever.
        #[serde(default)]
        valid_from: Option<String>,
        /// RFC 3339; absent: open-ended.
        #[serde(default)]
        valid_until: Option<String>,
        /// Agreements of the party that would back it.
        #[serde(default)]
        agreements: Vec<String>,
        /// It would carry a PIPIA reference (PIPL Art. 55).
        #[serde(default)]
        pipia_reference: bool,
        /// Separate consent would be on record (PIPL Art. 39).
        #[serde(default)]
        separate_consent: bool,
    },
    /// A sub-processor added to the party (or one it lists replaced).
    AddSubProcessor {
        party_id: String,
        sub_processor: crate::registry::parties::SubProcessor,
    },
}

/// What a simulation asks: the window of decisions (`decided_at`, stored instants, `from`
/// inclusive, `to` exclusive), optionally one service's or one party's, and the changes.
#[derive(Debug, Clone, Default)]
pub struct Question {
    pub from: String,
    pub to: String,
    pub service: Option<String>,
    pub party_id: Option<String>,
    pub changes: Vec<Change>,
}

/// A recorded decision whose outcome the changes would flip.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Flip {
    /// The recorded decision replayed.
    pub decision_id: String,
    /// When it was decided.
    pub decided_at: String,
    /// The service that asked.
    pub service: String,
    /// The party asked about.
    pub party_id: String,
    /// As it was answered.
    pub recorded: Outcome,
    /// Judged now against the register as it is: different from `recorded` when the register
    /// or the time moved on since, whatever the changes.
    pub without_changes: Outcome,
    /// Judged now with the changes.
    pub with_changes: Outcome,
    /// The reasons with the changes (empty when approved).
    pub reasons: Vec<Reason>,
}

/// What the changes would do to the window's decisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"from": "2026-11-01T00:00:00.000000Z", "to": "2026-12-01T00:00:00.000000Z",
    "replayed": 120, "truncated": false, "register_revision": 1290, "judged_at": "2026-12-02T10:00:00.000000Z",
    "flips": [{"decision_id": "0193a0c6-2222-7cc0-9d2a-0c1b2a3d4e5f", "decided_at": "2026-11-20T09:00:00.000000Z",
        "service": "newsletter", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "recorded": "approved",
        "without_changes": "approved", "with_changes": "denied",
        "reasons": [{"category": "user.contact.email", "code": "grant_revoked", "message": "The grant covering this category was revoked."}]}]}))]
pub struct Simulation {
    /// The first instant whose decisions were replayed.
    pub from: String,
    /// The last instant whose decisions were replayed.
    pub to: String,
    /// Decisions of the window judged again.
    pub replayed: usize,
    /// More decisions fell in the window than one simulation replays (10,000, oldest first).
    pub truncated: bool,
    /// The register revision the changes were applied to.
    pub register_revision: i64,
    /// When the replayed decisions were judged again (now).
    pub judged_at: String,
    /// The decisions whose outcome with the changes differs from the one recorded.
    pub flips: Vec<Flip>,
}

/// What a proposal changes of a party in the copy of the snapshot.
impl super::snapshot::PartyEntry {
    /// Replaces where the party processes data, and what is derived from it.
    fn set_data_locations(&mut self, locations: Vec<String>) {
        self.facts.processes_outside_mainland = locations.iter().any(|c| c != "CN");
        self.data_locations = locations;
        self.index_locations();
    }

    /// Adds an indexed grant for the service with interned id `service`, after its others.
    fn add_grant(&mut self, service: u32, grant: GrantEntry) {
        match self.by_service.iter_mut().find(|(id, _)| *id == service) {
            Some((_, gs)) => gs.push(grant),
            None => {
                self.by_service.push((service, vec![grant]));
                self.by_service.sort_unstable_by_key(|(id, _)| *id);
            }
        }
    }
}

fn bad(i: usize, field: &str, message: &str) -> DomainError {
    DomainError::Invalid(vec![FieldError::new(
        format!("changes[{i}].{field}"),
        message,
    )])
}

/// `snap` with `change` made; the snapshot's other parties stay shared.
fn apply(snap: &mut Snapshot, i: usize, change: &Change) -> Result<(), DomainError> {
    match change {
        Change::RevokeGrant { grant_id } => {
            let owner = snap
                .parties
                .iter()
                .find(|(_, p)| {
                    p.by_service
                        .iter()
                        .any(|(_, gs)| gs.iter().any(|g| g.id == *grant_id))
                })
                .map(|(id, _)| id.clone())
                .ok_or_else(|| bad(i, "grant_id", "no such grant"))?;
            if let Some(party) = snap.parties.get_mut(&owner) {
                for (_, gs) in &mut Arc::make_mut(party).by_service {
                    for g in gs.iter_mut().filter(|g| g.id == *grant_id) {
                        g.revoked = true;
                    }
                }
            }
        }
        Change::SuspendParty { party_id } => {
            let party = snap
                .parties
                .get_mut(party_id)
                .ok_or_else(|| bad(i, "party_id", "no such party"))?;
            let party = Arc::make_mut(party);
            party.trusted = false;
            party.status = Some(PartyStatus::Suspended);
        }
        Change::SetDataLocations {
            party_id,
            data_locations,
        } => {
            if let Some(c) = data_locations
                .iter()
                .find(|c| CountryCode::parse(c).is_none())
            {
                return Err(bad(
                    i,
                    "data_locations",
                    &format!("{c} is not an ISO 3166-1 alpha-2 code"),
                ));
            }
            let party = snap
                .parties
                .get_mut(party_id)
                .ok_or_else(|| bad(i, "party_id", "no such party"))?;
            Arc::make_mut(party).set_data_locations(data_locations.clone());
        }
        Change::AddGrant {
            party_id,
            service,
            categories,
            allowed_regions,
            valid_from,
            valid_until,
            agreements,
            pipia_reference,
            separate_consent,
        } => {
            let micros = |field: &str, v: &Option<String>| {
                v.as_deref()
                    .map(|t| {
                        crate::time::parse(t)
                            .map(|t| t.timestamp_micros())
                            .ok_or_else(|| bad(i, field, "must be an RFC 3339 timestamp"))
                    })
                    .transpose()
            };
            let (valid_from, valid_until) = (
                micros("valid_from", valid_from)?,
                micros("valid_until", valid_until)?,
            );
            let service_id = snap
                .services
                .get(service)
                .map(|s| s.id)
                .ok_or_else(|| bad(i, "service", "no such service"))?;
            if let Some(k) = categories.iter().find(|k| snap.id(k).is_none()) {
                return Err(bad(i, "categories", &format!("{k} is not a category key")));
            }
            let category_ids = snap.ids_of(categories.iter().map(String::as_str));
            let party = snap
                .parties
                .get_mut(party_id)
                .ok_or_else(|| bad(i, "party_id", "no such party"))?;
            let party = Arc::make_mut(party);
            if let Some(a) = agreements
                .iter()
                .find(|a| !party.facts.agreements.iter().any(|f| f.id == **a))
            {
                return Err(bad(
                    i,
                    "agreements",
                    &format!("{a} is not an agreement of this party"),
                ));
            }
            let grant = GrantEntry {
                id: format!("proposed-{}", i + 1),
                category_ids,
                regions: super::snapshot::regions_of(allowed_regions.iter().copied()),
                valid_from: valid_from.unwrap_or(i64::MIN),
                valid_until,
                revoked: false,
                approved: true,
                facts: GrantFacts {
                    agreements: agreements.clone(),
                    exemptions: 0,
                    pipia: *pipia_reference,
                    separate_consent: *separate_consent,
                },
            };
            party.add_grant(service_id, grant);
        }
        Change::AddSubProcessor {
            party_id,
            sub_processor: s,
        } => {
            if !snap.parties.contains_key(&s.party_id) || s.party_id == *party_id {
                return Err(bad(i, "sub_processor.party_id", "no such other party"));
            }
            if let Some(k) = s.categories.iter().find(|k| snap.id(k).is_none()) {
                return Err(bad(
                    i,
                    "sub_processor.categories",
                    &format!("{k} is not a category key"),
                ));
            }
            if let Some(c) = s.countries.iter().find(|c| CountryCode::parse(c).is_none()) {
                let message = format!("{c} is not an ISO 3166-1 alpha-2 code");
                return Err(bad(i, "sub_processor.countries", &message));
            }
            if s.authorised_on
                .as_deref()
                .is_some_and(|d| crate::time::parse_date(d).is_none())
            {
                return Err(bad(
                    i,
                    "sub_processor.authorised_on",
                    "must be a date as YYYY-MM-DD",
                ));
            }
            let party = snap
                .parties
                .get_mut(party_id)
                .ok_or_else(|| bad(i, "party_id", "no such party"))?;
            let list = &mut Arc::make_mut(party).sub_processors;
            list.retain(|e| e.processor.party_id != s.party_id);
            list.push(super::onward::SubEntry::new(s.clone()));
        }
    }
    Ok(())
}

/// A recorded decision as the request that made it (the exporter as it was resolved).
fn request_of(d: Decision) -> Request {
    Request {
        service: d.service,
        party_id: d.party_id,
        purpose: d.purpose,
        categories: d.categories,
        destination_country: d.destination_country,
        subject_country: d.subject_country,
        data_origin_country: d.data_origin_country,
        subject_count: d.subject_count.max(1),
        device_count: d.device_count,
        exporter: d.exporter,
        exemption: d.exemption,
        subjects_include_minors_under_14: d.subjects_include_minors_under_14,
        us_government_related: d.us_government_related,
    }
}

/// Answers `q` against the register now (read through `slot`, as an evaluation does).
pub fn simulate(
    conn: &mut DbConn,
    slot: &std::sync::RwLock<Arc<Snapshot>>,
    q: &Question,
    enforcement: Enforcement,
) -> Result<Simulation, DomainError> {
    let snap = super::evaluate::current_snapshot(conn, slot)?;
    let mut proposed = (*snap).clone();
    for (i, change) in q.changes.iter().enumerate() {
        apply(&mut proposed, i, change)?;
    }
    let filter = super::store::Filter {
        service: q.service.clone(),
        party_id: q.party_id.clone(),
        outcome: None,
        from: Some(q.from.clone()),
        to: Some(q.to.clone()),
    };
    let rows = super::store::list(conn, &filter, None, MAX_DECISIONS + 1)?;
    let truncated = rows.len() as i64 > MAX_DECISIONS;
    let rules = RuleSet::current();
    let now = crate::time::now();
    let mut flips = Vec::new();
    let mut replayed = 0;
    for row in rows.into_iter().take(MAX_DECISIONS as usize) {
        let decision: Decision = serde_json::from_str(&row.body)?;
        let recorded = decision.outcome;
        let (id, at) = (decision.id.clone(), decision.decided_at.clone());
        let request = request_of(decision);
        replayed += 1;
        // A key the taxonomy no longer has cannot be judged again: it is left as it was.
        if super::batch::check_keys(&snap, &request).is_err() {
            continue;
        }
        let mut tally = Tally::new(rules.published.us_dsp.window_days);
        super::batch::load_counters(conn, &mut tally, &snap, &request, now, rules)?;
        let without = engine::decide_with(&snap, rules, &tally, enforcement, &request, now).outcome;
        let verdict = engine::decide_with(&proposed, rules, &tally, enforcement, &request, now);
        if verdict.outcome == recorded {
            continue;
        }
        let mut reasons = verdict.reasons(&request, rules);
        super::explain::explain(&proposed, &request, now, &mut reasons);
        flips.push(Flip {
            decision_id: id,
            decided_at: at,
            service: request.service.clone(),
            party_id: request.party_id.clone(),
            recorded,
            without_changes: without,
            with_changes: verdict.outcome,
            reasons,
        });
    }
    Ok(Simulation {
        from: q.from.clone(),
        to: q.to.clone(),
        replayed,
        truncated,
        register_revision: snap.revision,
        judged_at: crate::time::format(now),
        flips,
    })
}
