//! An incident's exposure, from the recorded decisions only: every approved decision for the
//! party from `exposure_from` (or its first decision) until `occurred_until` (or now) — data at
//! rest with a vendor is exposed, not only what was sent during the breach — grouped by service
//! × category × subject country × exporter.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;

use super::Incident;
use crate::db::DbConn;
use crate::decision::exposure::{CategoryRow, sent_to};
use crate::types::Region;

/// What one service sent of one category about the subjects of one country, from one exporter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExposureGroup {
    /// The service that shared.
    pub service: String,
    /// The category shared.
    pub category: String,
    /// Null for decisions made before `subject_country` existed; they group by region.
    pub subject_country: Option<String>,
    pub subject_region: Region,
    /// The entity that exported.
    pub exporter: Option<String>,
    /// Approved decisions in the group.
    pub decisions: usize,
    /// The sum of their `subject_count`: an upper bound (people are not de-duplicated); null
    /// for decisions made before `subject_count` existed.
    pub subject_count: Option<i64>,
    /// The grants relied on.
    pub grants: Vec<String>,
    /// The agreements in force relied on.
    pub agreements: Vec<String>,
    /// The decisions' ledger entries.
    pub ledger_seqs: Vec<i64>,
}

/// An incident's exposure.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"incident_id": "0193a0c9-5555-7cc0-9d2a-0c1b2a3d4e5f", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f",
    "from": null, "until": "2026-12-01T08:10:00.000000Z", "decisions": 2,
    "groups": [{"service": "newsletter", "category": "user.contact.email", "subject_country": "DE", "subject_region": "OTHER",
        "exporter": "acme-de", "decisions": 2, "subject_count": 1500, "grants": ["0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f"],
        "agreements": [], "ledger_seqs": [40, 41]}]}))]
pub struct Exposure {
    /// The incident.
    pub incident_id: String,
    /// The party where it happened.
    pub party_id: String,
    /// Decisions from this instant (inclusive); null: from the party's first decision.
    pub from: Option<String>,
    /// Until this instant (exclusive): `occurred_until`, or the time of the read.
    pub until: String,
    /// Distinct decisions exposed.
    pub decisions: usize,
    /// Approved shares to the party in the exposure window, grouped by service, exporter, category and where the people are.
    pub groups: Vec<ExposureGroup>,
}

type Key = (String, String, Option<String>, &'static str, Option<String>);

/// Groups the rows, in the order of their keys.
pub fn group(rows: Vec<CategoryRow>) -> Vec<ExposureGroup> {
    let mut groups: BTreeMap<Key, ExposureGroup> = BTreeMap::new();
    let mut grants: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    let mut agreements: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        let key: Key = (
            r.service.clone(),
            r.category.clone(),
            r.subject_country.clone(),
            r.subject_region.as_str(),
            r.exporter.clone(),
        );
        let g = groups.entry(key.clone()).or_insert_with(|| ExposureGroup {
            service: r.service,
            category: r.category,
            subject_country: r.subject_country,
            subject_region: r.subject_region,
            exporter: r.exporter,
            decisions: 0,
            subject_count: Some(0),
            grants: Vec::new(),
            agreements: Vec::new(),
            ledger_seqs: Vec::new(),
        });
        g.decisions += 1;
        g.subject_count = match (g.subject_count, r.subject_count) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            _ => None,
        };
        g.ledger_seqs.push(r.ledger_seq);
        grants.entry(key.clone()).or_default().extend(r.grant_id);
        agreements.entry(key).or_default().extend(r.agreements.0);
    }
    groups
        .into_iter()
        .map(|(key, mut g)| {
            g.grants = grants
                .remove(&key)
                .unwrap_or_default()
                .into_iter()
                .collect();
            g.agreements = agreements
                .remove(&key)
                .unwrap_or_default()
                .into_iter()
                .collect();
            g
        })
        .collect()
}

/// The exposure of `incident`, read at `now`.
pub fn of(conn: &mut DbConn, incident: &Incident, now: &str) -> diesel::QueryResult<Exposure> {
    let until = incident
        .occurred_until
        .clone()
        .unwrap_or_else(|| now.to_owned());
    let rows = sent_to(
        conn,
        &incident.party_id,
        incident.exposure_from.as_deref(),
        &until,
    )?;
    let decisions = rows
        .iter()
        .map(|r| r.decision_id.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    Ok(Exposure {
        incident_id: incident.id.clone(),
        party_id: incident.party_id.clone(),
        from: incident.exposure_from.clone(),
        until,
        decisions,
        groups: group(rows),
    })
}
