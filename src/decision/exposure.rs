//! The `decision_categories` table: one row per approved decision and category, written with
//! the decision, so an incident's exposure is one indexed query on either backend.

use diesel::prelude::*;

use super::engine::Outcome;
use super::record::Decision;
use crate::db::DbConn;
use crate::schema::decision_categories;
use crate::transfers::AgreementState;
use crate::types::{List, Region};

/// What an approved decision sent of one category.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = decision_categories)]
pub struct CategoryRow {
    pub decision_id: String,
    pub category: String,
    pub party_id: String,
    pub service: String,
    /// Null for decisions made before `subject_country` existed.
    pub subject_country: Option<String>,
    pub subject_region: Region,
    pub exporter: Option<String>,
    /// Null with `subject_country`.
    pub subject_count: Option<i64>,
    pub decided_at: String,
    pub ledger_seq: i64,
    /// The grant that approved the category (none for non-PII categories).
    pub grant_id: Option<String>,
    /// The agreements in force that the regimes relied on for it.
    pub agreements: List<String>,
}

/// The rows of `decision` (none unless it was approved), one per distinct category.
pub fn rows_of(decision: &Decision) -> Vec<CategoryRow> {
    if decision.outcome != Outcome::Approved {
        return Vec::new();
    }
    let mut seen = std::collections::HashSet::new();
    decision
        .categories
        .iter()
        .filter(|c| seen.insert(c.as_str()))
        .map(|category| {
            let mut agreements: Vec<String> = decision
                .regimes
                .iter()
                .flat_map(|r| &r.agreements)
                .filter(|a| &a.category == category && a.state == AgreementState::InForce)
                .map(|a| a.agreement_id.clone())
                .collect();
            agreements.sort();
            agreements.dedup();
            CategoryRow {
                decision_id: decision.id.clone(),
                category: category.clone(),
                party_id: decision.party_id.clone(),
                service: decision.service.clone(),
                subject_country: Some(decision.subject_country.clone()),
                subject_region: decision.subject_region,
                exporter: decision.exporter.clone(),
                subject_count: Some(decision.subject_count),
                decided_at: decision.decided_at.clone(),
                ledger_seq: decision.ledger_seq,
                grant_id: decision
                    .grants
                    .iter()
                    .find(|g| &g.category == category)
                    .map(|g| g.grant_id.clone()),
                agreements: List(agreements),
            }
        })
        .collect()
}

pub fn insert_all(conn: &mut DbConn, rows: &[CategoryRow]) -> QueryResult<()> {
    crate::db::insert_in_chunks!(conn, decision_categories::table, rows);
    Ok(())
}

/// What party `party_id` was sent by approved decisions from `from` (inclusive, or its first
/// decision) until `until` (exclusive), in ledger order.
pub fn sent_to(
    conn: &mut DbConn,
    party_id: &str,
    from: Option<&str>,
    until: &str,
) -> QueryResult<Vec<CategoryRow>> {
    let mut q = decision_categories::table
        .filter(decision_categories::party_id.eq(party_id))
        .filter(decision_categories::decided_at.lt(until.to_owned()))
        .into_boxed();
    if let Some(f) = from {
        q = q.filter(decision_categories::decided_at.ge(f.to_owned()));
    }
    q.order((
        decision_categories::ledger_seq.asc(),
        decision_categories::category.asc(),
    ))
    .select(CategoryRow::as_select())
    .load(conn)
}
