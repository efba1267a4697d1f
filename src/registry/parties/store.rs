//! The `parties` table.

use diesel::prelude::*;

use super::{PartyKind, PartyRow, PartyStatus};
use crate::db::DbConn;
use crate::schema::parties;
use crate::types::Region;

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<PartyRow>> {
    parties::table
        .find(id)
        .select(PartyRow::as_select())
        .first(conn)
        .optional()
}

/// The parties with these ids (in no particular order; unknown ids are left out).
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<PartyRow>> {
    parties::table
        .filter(parties::id.eq_any(ids))
        .select(PartyRow::as_select())
        .load(conn)
}

pub fn find_by_external_ref(
    conn: &mut DbConn,
    external_ref: &str,
) -> QueryResult<Option<PartyRow>> {
    parties::table
        .filter(parties::external_ref.eq(external_ref))
        .select(PartyRow::as_select())
        .first(conn)
        .optional()
}

/// Whether a party other than `except` holds `external_ref`.
pub fn external_ref_taken(
    conn: &mut DbConn,
    external_ref: &str,
    except: Option<&str>,
) -> QueryResult<bool> {
    let mut q = parties::table
        .filter(parties::external_ref.eq(external_ref))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(parties::id.ne(id.to_owned()));
    }
    q.count().get_result::<i64>(conn).map(|n| n > 0)
}

pub fn insert(conn: &mut DbConn, row: &PartyRow) -> QueryResult<()> {
    diesel::insert_into(parties::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Writes a changed party row.
pub fn save(conn: &mut DbConn, row: &PartyRow) -> QueryResult<()> {
    diesel::update(parties::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// Every party (for the decision snapshot).
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<PartyRow>> {
    parties::table.select(PartyRow::as_select()).load(conn)
}

/// Filters of the party list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub kind: Option<PartyKind>,
    pub region: Option<Region>,
    pub status: Option<PartyStatus>,
    /// Case-insensitive text in the legal name.
    pub name_contains: Option<String>,
    pub review_due_before: Option<String>,
    pub external_ref: Option<String>,
    /// Only these parties.
    pub ids: Option<Vec<String>>,
}

impl Filter {
    /// Whether `party` (a state the ledger recorded) passes the filter, as [`list`] judges rows.
    pub fn matches(&self, party: &super::Party) -> bool {
        self.kind.is_none_or(|k| party.kind == k)
            && self.region.is_none_or(|r| party.region == Some(r))
            && self.status.is_none_or(|s| party.status == s)
            && self.review_due_before.as_ref().is_none_or(|d| {
                party
                    .next_review_due
                    .as_ref()
                    .is_some_and(|due| due.as_str() < d.as_str())
            })
            && self
                .external_ref
                .as_ref()
                .is_none_or(|r| party.external_ref.as_ref() == Some(r))
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&party.id))
            && self
                .name_contains
                .as_ref()
                .is_none_or(|t| party.legal_name.to_lowercase().contains(&t.to_lowercase()))
    }
}

/// The parties that pass `filter` as the ledger recorded them at `until`, by id after `after`,
/// at most `limit`, each with the seq of the entry behind it. Read in slices of ids, so memory
/// stays bounded whatever the register's size.
pub fn list_as_of(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
    until: &str,
) -> Result<Vec<super::Party>, crate::error::DomainError> {
    const SLICE: i64 = 500;
    let mut found = Vec::new();
    let mut cursor = after.map(str::to_owned);
    loop {
        let mut ids = parties::table.select(parties::id).into_boxed();
        if let Some(c) = &cursor {
            ids = ids.filter(parties::id.gt(c.clone()));
        }
        let ids: Vec<String> = ids.order(parties::id.asc()).limit(SLICE).load(conn)?;
        let subjects: Vec<String> = ids
            .iter()
            .map(|id| crate::ledger::Subject::Party(id).to_string())
            .collect();
        let wanted = limit as usize - found.len();
        let states = crate::ledger::store::states_in_order::<super::Party>(
            conn,
            &subjects,
            until,
            wanted,
            |p| filter.matches(p),
        )?;
        for (mut party, seq) in states {
            party.as_of_ledger_seq = Some(seq);
            found.push(party);
        }
        if found.len() as i64 >= limit {
            return Ok(found);
        }
        if (ids.len() as i64) < SLICE {
            return Ok(found);
        }
        cursor = ids.last().cloned();
    }
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Parties with an id after `after`, by id, at most `limit`.
pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<PartyRow>> {
    let mut query = parties::table.into_boxed();
    if let Some(after) = after {
        query = query.filter(parties::id.gt(after.to_owned()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(parties::kind.eq(kind.as_str()));
    }
    if let Some(region) = filter.region {
        query = query.filter(parties::region.eq(region.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(parties::status.eq(status.as_str()));
    }
    if let Some(date) = &filter.review_due_before {
        query = query.filter(parties::next_review_due.lt(date.clone()));
    }
    if let Some(r) = &filter.external_ref {
        query = query.filter(parties::external_ref.eq(r.clone()));
    }
    if let Some(ids) = &filter.ids {
        query = query.filter(parties::id.eq_any(ids.clone()));
    }
    if let Some(text) = &filter.name_contains {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{}%", escaped.to_lowercase());
        query = query.filter(lower(parties::legal_name).like(pattern).escape('\\'));
    }
    query
        .order(parties::id.asc())
        .limit(limit)
        .select(PartyRow::as_select())
        .load(conn)
}

/// Parties not offboarded whose review falls due on or before `until` (a date), or whose DPF
/// certification lapses on or before it: what the reminders list reads.
/// Trusted parties with no `next_review_due`: their reviews fall due by risk-tier cadence.
pub fn trusted_without_review_date(conn: &mut DbConn) -> QueryResult<Vec<PartyRow>> {
    parties::table
        .filter(parties::status.eq(PartyStatus::Trusted.as_str()))
        .filter(parties::next_review_due.is_null())
        .order(parties::id.asc())
        .select(PartyRow::as_select())
        .load(conn)
}

pub fn with_dates_due(conn: &mut DbConn, until: &str) -> QueryResult<Vec<PartyRow>> {
    parties::table
        .filter(parties::status.ne(PartyStatus::Offboarded.as_str()))
        .filter(
            parties::next_review_due
                .le(until.to_owned())
                .or(parties::dpf_certified_until.le(until.to_owned())),
        )
        .order(parties::id.asc())
        .select(PartyRow::as_select())
        .load(conn)
}

/// Parties not offboarded that list sub-processors (for their objection deadlines).
pub fn with_sub_processors(conn: &mut DbConn) -> QueryResult<Vec<PartyRow>> {
    parties::table
        .filter(parties::status.ne(PartyStatus::Offboarded.as_str()))
        .filter(parties::sub_processors.ne("[]"))
        .order(parties::id.asc())
        .select(PartyRow::as_select())
        .load(conn)
}
