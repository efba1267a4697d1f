//! The `grants` table.

use std::collections::HashMap;

use diesel::prelude::*;

use super::{GrantRow, GrantStatus};
use crate::db::DbConn;
use crate::schema::grants;

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<GrantRow>> {
    grants::table
        .find(id)
        .select(GrantRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &GrantRow) -> QueryResult<()> {
    diesel::insert_into(grants::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn save(conn: &mut DbConn, row: &GrantRow) -> QueryResult<()> {
    diesel::update(grants::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// A party's grants by id, optionally for one service, after `after`, at most `limit`.
pub fn of_party(
    conn: &mut DbConn,
    party_id: &str,
    service: Option<&str>,
    after: Option<&str>,
    limit: Option<i64>,
) -> QueryResult<Vec<GrantRow>> {
    let mut query = grants::table
        .filter(grants::party_id.eq(party_id.to_owned()))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(grants::id.gt(after.to_owned()));
    }
    if let Some(service) = service {
        query = query.filter(grants::service.eq(service.to_owned()));
    }
    let query = query.order(grants::id.asc());
    match limit {
        Some(n) => query.limit(n).select(GrantRow::as_select()).load(conn),
        None => query.select(GrantRow::as_select()).load(conn),
    }
}

/// The amendment of grant `id` that waits for approval, if any.
pub fn pending_amendment_of(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
    grants::table
        .filter(grants::supersedes.eq(id))
        .filter(grants::status.eq(GrantStatus::Active.as_str()))
        .filter(grants::approved_at.is_null())
        .select(grants::id)
        .first(conn)
        .optional()
}

/// A party's active grants, by id.
pub fn active_of_party(conn: &mut DbConn, party_id: &str) -> QueryResult<Vec<GrantRow>> {
    grants::table
        .filter(grants::party_id.eq(party_id))
        .filter(grants::status.eq(GrantStatus::Active.as_str()))
        .order(grants::id.asc())
        .select(GrantRow::as_select())
        .load(conn)
}

/// The grants of several parties, by party.
pub fn of_parties(
    conn: &mut DbConn,
    party_ids: &[&str],
) -> QueryResult<HashMap<String, Vec<GrantRow>>> {
    let gs: Vec<GrantRow> = grants::table
        .filter(grants::party_id.eq_any(party_ids))
        .order(grants::id.asc())
        .select(GrantRow::as_select())
        .load(conn)?;
    let mut by_party: HashMap<String, Vec<GrantRow>> = HashMap::new();
    for g in gs {
        by_party.entry(g.party_id.clone()).or_default().push(g);
    }
    Ok(by_party)
}

/// The parties that own these grants.
pub fn owners(conn: &mut DbConn, grant_ids: &[String]) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in grant_ids.chunks(500) {
        let owners: Vec<String> = grants::table
            .filter(grants::id.eq_any(chunk))
            .select(grants::party_id)
            .load(conn)?;
        out.extend(owners);
    }
    Ok(out)
}

/// The columns of a grant that a decision needs, as stored (the snapshot parses them itself
/// without copying their strings: loading a million grants is mostly allocation otherwise).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = grants)]
pub struct DecisionColumns {
    pub id: String,
    pub party_id: String,
    pub service: String,
    pub categories: String,
    pub allowed_regions: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub status: String,
    pub agreements: String,
    pub exemptions: String,
    pub pipia_reference: Option<String>,
    pub separate_consent: bool,
    pub approved_at: Option<String>,
}

impl DecisionColumns {
    /// The columns of a grant as its ledger entry recorded it (the state after a change), to
    /// judge the register as it was; `None` when the entry is not a grant's state.
    pub fn from_state(state: &serde_json::Value) -> Option<DecisionColumns> {
        let text = |k: &str| state[k].as_str().map(str::to_owned);
        let list = |k: &str| match &state[k] {
            serde_json::Value::Null => Some("[]".to_owned()),
            v @ serde_json::Value::Array(_) => Some(v.to_string()),
            _ => None,
        };
        Some(DecisionColumns {
            id: text("id")?,
            party_id: text("party_id")?,
            service: text("service")?,
            categories: list("categories")?,
            allowed_regions: list("allowed_regions")?,
            valid_from: text("valid_from")?,
            valid_until: text("valid_until"),
            status: text("status")?,
            agreements: list("agreements")?,
            exemptions: list("exemptions")?,
            pipia_reference: text("pipia_reference"),
            separate_consent: state["separate_consent"].as_bool().unwrap_or(false),
            approved_at: if super::approved_in_state(state) {
                text("approved_at").or_else(|| text("created_at"))
            } else {
                None
            },
        })
    }
}

/// Grants read per query while loading a snapshot.
const PAGE: i64 = 20_000;

/// Calls `f` with every grant's decision columns in id order, a page at a time and one row at
/// a time (each row's strings are freed as soon as `f` returns, which keeps the allocator's free
/// lists short).
pub fn for_each_decision_columns(
    conn: &mut DbConn,
    mut f: impl FnMut(&DecisionColumns) -> QueryResult<()>,
) -> QueryResult<()> {
    let mut after = String::new();
    loop {
        let rows = grants::table
            .filter(grants::id.gt(&after))
            .order(grants::id.asc())
            .limit(PAGE)
            .select(DecisionColumns::as_select())
            .load_iter::<DecisionColumns, diesel::connection::DefaultLoadingMode>(conn)?;
        let mut last = None;
        for g in rows {
            let g = g?;
            f(&g)?;
            last = Some(g.id);
        }
        let Some(last) = last else { return Ok(()) };
        after = last;
    }
}

/// One party's grants' decision columns, in id order.
pub fn decision_columns_of_party(
    conn: &mut DbConn,
    party_id: &str,
) -> QueryResult<Vec<DecisionColumns>> {
    grants::table
        .filter(grants::party_id.eq(party_id))
        .order(grants::id.asc())
        .select(DecisionColumns::as_select())
        .load(conn)
}

/// Active grants that carry a `transfer_mechanism` label and list no agreement: what relied on
/// a label before agreements were evidence (for `GET /v1/transfer-readiness`).
pub fn labelled_without_agreements(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<GrantRow>> {
    grants::table
        .filter(grants::status.eq(super::GrantStatus::Active))
        .filter(grants::transfer_mechanism.ne(super::TransferMechanism::None))
        .filter(grants::agreements.eq("[]"))
        .order(grants::id.asc())
        .limit(limit)
        .select(GrantRow::as_select())
        .load(conn)
}

/// What `GET /v1/grants` asks of the grants table; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub service: Option<String>,
    pub party_id: Option<String>,
    /// Grants with a key that covers this category (the key itself or an ancestor of it).
    pub category: Option<String>,
    /// The effective state at `now`.
    pub effective: Option<super::Effective>,
    /// Only grants with a `valid_until` before this instant (stored form).
    pub expires_before: Option<String>,
}

impl Search {
    fn covers(&self, row: &GrantRow) -> bool {
        self.category.as_deref().is_none_or(|wanted| {
            row.categories.0.iter().any(|granted| {
                wanted == granted
                    || wanted
                        .strip_prefix(granted.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        })
    }
}

/// The grants `search` finds at `now` (a stored instant), by id after `after`, at most `limit`.
/// The table's columns filter in SQL (stored instants compare as text); the category, held in
/// a list column, is judged on slices of rows, so memory stays bounded.
pub fn search(
    conn: &mut DbConn,
    search: &Search,
    now: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<GrantRow>> {
    use super::Effective;
    const SLICE: i64 = 500;
    let mut found = Vec::new();
    let mut cursor = after.map(str::to_owned);
    loop {
        let mut query = grants::table.into_boxed();
        if let Some(c) = &cursor {
            query = query.filter(grants::id.gt(c.clone()));
        }
        if let Some(s) = &search.service {
            query = query.filter(grants::service.eq(s.clone()));
        }
        if let Some(p) = &search.party_id {
            query = query.filter(grants::party_id.eq(p.clone()));
        }
        if let Some(before) = &search.expires_before {
            query = query.filter(grants::valid_until.lt(before.clone()));
        }
        let now = now.to_owned();
        let active = GrantStatus::Active.as_str();
        query = match search.effective {
            None => query,
            Some(Effective::Revoked) => {
                query.filter(grants::status.eq(GrantStatus::Revoked.as_str()))
            }
            Some(Effective::PendingApproval) => query
                .filter(grants::status.eq(active))
                .filter(grants::approved_at.is_null()),
            Some(Effective::NotYetValid) => query
                .filter(grants::status.eq(active))
                .filter(grants::approved_at.is_not_null())
                .filter(grants::valid_from.gt(now)),
            Some(Effective::Expired) => query
                .filter(grants::status.eq(active))
                .filter(grants::approved_at.is_not_null())
                .filter(grants::valid_from.le(now.clone()))
                .filter(grants::valid_until.le(now)),
            Some(Effective::Active) => query
                .filter(grants::status.eq(active))
                .filter(grants::approved_at.is_not_null())
                .filter(grants::valid_from.le(now.clone()))
                .filter(
                    grants::valid_until
                        .is_null()
                        .or(grants::valid_until.gt(now)),
                ),
        };
        let rows: Vec<GrantRow> = query
            .order(grants::id.asc())
            .limit(SLICE)
            .select(GrantRow::as_select())
            .load(conn)?;
        let last = rows.last().map(|r| r.id.clone());
        let full = rows.len() as i64 == SLICE;
        for row in rows {
            if search.covers(&row) {
                found.push(row);
                if found.len() as i64 >= limit {
                    return Ok(found);
                }
            }
        }
        if !full {
            return Ok(found);
        }
        cursor = last;
    }
}

/// Active grants whose `valid_until` falls in `(after, until]` (stored instants).
pub fn expiring(conn: &mut DbConn, after: &str, until: &str) -> QueryResult<Vec<GrantRow>> {
    grants::table
        .filter(grants::status.eq(GrantStatus::Active.as_str()))
        .filter(grants::valid_until.gt(after.to_owned()))
        .filter(grants::valid_until.le(until.to_owned()))
        .order(grants::valid_until.asc())
        .select(GrantRow::as_select())
        .load(conn)
}
