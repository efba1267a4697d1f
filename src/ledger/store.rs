//! The `ledger`, `ledger_head` and `checkpoints` tables.

use diesel::prelude::*;

use super::Row;
use super::signing::Checkpoint;
use super::subject::action;
use crate::db::DbConn;
use crate::error::DomainError;
use crate::schema::{checkpoints, ledger, ledger_head};

/// The head: `(seq, hash, register_revision)`.
pub fn head(conn: &mut DbConn) -> QueryResult<(i64, String, i64)> {
    ledger_head::table
        .find(1)
        .select((
            ledger_head::seq,
            ledger_head::hash,
            ledger_head::register_revision,
        ))
        .first(conn)
}

/// The head, locked for the rest of the transaction: a row lock on PostgreSQL; on SQLite the
/// immediate transaction already holds the database's single write lock.
pub fn lock_head(conn: &mut DbConn) -> QueryResult<(i64, String, i64)> {
    let query = ledger_head::table.find(1).select((
        ledger_head::seq,
        ledger_head::hash,
        ledger_head::register_revision,
    ));
    match conn {
        DbConn::Pg(c) => query.for_update().first(c),
        DbConn::Sqlite(c) => query.first(c),
    }
}

pub(super) fn set_head(conn: &mut DbConn, seq: i64, hash: &str, revision: i64) -> QueryResult<()> {
    diesel::update(ledger_head::table.find(1))
        .set((
            ledger_head::seq.eq(seq),
            ledger_head::hash.eq(hash),
            ledger_head::register_revision.eq(revision),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A write that changes nothing, to learn whether storage takes writes again.
pub fn probe_write(conn: &mut DbConn) -> QueryResult<()> {
    diesel::update(ledger_head::table.find(1))
        .set(ledger_head::seq.eq(ledger_head::seq))
        .execute(conn)
        .map(|_| ())
}

/// Entries in `seq` order after `after`, at most `limit`, optionally filtered.
pub fn list(
    conn: &mut DbConn,
    after: i64,
    action: Option<&str>,
    subject: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Row>> {
    let mut query = ledger::table.filter(ledger::seq.gt(after)).into_boxed();
    if let Some(a) = action {
        query = query.filter(ledger::action.eq(a.to_owned()));
    }
    if let Some(s) = subject {
        query = query.filter(ledger::subject.eq(s.to_owned()));
    }
    query
        .order(ledger::seq.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
}

/// Entries `after + 1 ..= upto`, in `seq` order.
pub fn between(conn: &mut DbConn, after: i64, upto: i64) -> QueryResult<Vec<Row>> {
    ledger::table
        .filter(ledger::seq.gt(after))
        .filter(ledger::seq.le(upto))
        .order(ledger::seq.asc())
        .select(Row::as_select())
        .load(conn)
}

/// Entry `seq`, when there is one.
pub fn entry_at(conn: &mut DbConn, seq: i64) -> QueryResult<Option<Row>> {
    ledger::table
        .find(seq)
        .select(Row::as_select())
        .first(conn)
        .optional()
}

/// The entries of one subject up to an instant (for point-in-time reads).
pub fn subject_history(conn: &mut DbConn, subject: &str, until: &str) -> QueryResult<Vec<Row>> {
    ledger::table
        .filter(ledger::subject.eq(subject))
        .filter(ledger::at.le(until))
        .order(ledger::seq.asc())
        .select(Row::as_select())
        .load(conn)
}

/// Whether `subject` has an entry of `action`.
pub fn subject_has_action(conn: &mut DbConn, subject: &str, action: &str) -> QueryResult<bool> {
    use diesel::dsl::exists;
    diesel::select(exists(
        ledger::table
            .filter(ledger::subject.eq(subject))
            .filter(ledger::action.eq(action)),
    ))
    .get_result(conn)
}

/// The latest entry of `action` on `subject` (e.g. who last changed a party's status).
pub fn latest_of_subject_action(
    conn: &mut DbConn,
    subject: &str,
    action: &str,
) -> QueryResult<Option<Row>> {
    ledger::table
        .filter(ledger::subject.eq(subject))
        .filter(ledger::action.eq(action))
        .order(ledger::seq.desc())
        .select(Row::as_select())
        .first(conn)
        .optional()
}

/// The latest entry of an action.
pub fn latest_of_action(conn: &mut DbConn, action: &str) -> QueryResult<Option<Row>> {
    ledger::table
        .filter(ledger::action.eq(action))
        .order(ledger::seq.desc())
        .select(Row::as_select())
        .first(conn)
        .optional()
}

/// The subjects of the register changes in `after + 1 ..= upto` (decisions left out), in
/// `seq` order: what a snapshot must read again to move from one revision to another.
pub fn register_subjects(conn: &mut DbConn, after: i64, upto: i64) -> QueryResult<Vec<String>> {
    register_entries()
        .filter(ledger::seq.gt(after))
        .filter(ledger::seq.le(upto))
        .select(ledger::subject)
        .load(conn)
}

/// The entries that change the register (not decisions, rule activations or volume
/// adjustments).
fn register_entries() -> ledger::BoxedQuery<'static, crate::db::MultiBackend> {
    ledger::table
        .filter(ledger::action.ne(action::DECISION_RECORDED))
        .filter(ledger::action.ne(action::RULES_ACTIVATED))
        .filter(ledger::action.ne(action::VOLUME_ADJUSTED))
        .into_boxed()
}

/// The register revision as of entry `seq`: the last register change at or before it (0: none).
pub fn register_revision_at(conn: &mut DbConn, seq: i64) -> QueryResult<i64> {
    register_entries()
        .filter(ledger::seq.le(seq))
        .order(ledger::seq.desc())
        .select(ledger::seq)
        .first(conn)
        .optional()
        .map(Option::unwrap_or_default)
}

/// The `seq` of the last entry written at or before the instant `at` (stored form), 0 when
/// none: a binary search over `seq` (entries are written in time order, without gaps), so
/// O(log n) point reads however long the ledger.
pub fn seq_at(conn: &mut DbConn, at: &str) -> QueryResult<i64> {
    let (mut low, mut high) = (0i64, head(conn)?.0);
    while low < high {
        let mid = low + (high - low + 1) / 2;
        let written: String = ledger::table.find(mid).select(ledger::at).first(conn)?;
        if written.as_str() <= at {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    Ok(low)
}

#[derive(Queryable, Insertable, Selectable)]
#[diesel(table_name = checkpoints)]
struct CheckpointRow {
    size: i64,
    root_hash: String,
    signed_at: String,
    key_id: String,
    signature: String,
}

impl From<CheckpointRow> for Checkpoint {
    fn from(r: CheckpointRow) -> Self {
        Checkpoint {
            size: r.size,
            root_hash: r.root_hash,
            signed_at: r.signed_at,
            key_id: r.key_id,
            signature: r.signature,
            cosignatures: Vec::new(),
        }
    }
}

/// Every checkpoint, smallest first.
pub fn all_checkpoints(conn: &mut DbConn) -> QueryResult<Vec<Checkpoint>> {
    let rows: Vec<CheckpointRow> = checkpoints::table
        .order(checkpoints::size.asc())
        .select(CheckpointRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Checkpoint::from).collect())
}

/// Checkpoints of size greater than `after`, at most `limit`.
pub fn checkpoint_page(conn: &mut DbConn, after: i64, limit: i64) -> QueryResult<Vec<Checkpoint>> {
    let rows: Vec<CheckpointRow> = checkpoints::table
        .filter(checkpoints::size.gt(after))
        .order(checkpoints::size.asc())
        .limit(limit)
        .select(CheckpointRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Checkpoint::from).collect())
}

pub fn latest_checkpoint(conn: &mut DbConn) -> QueryResult<Option<Checkpoint>> {
    let row: Option<CheckpointRow> = checkpoints::table
        .order(checkpoints::size.desc())
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Checkpoint::from))
}

pub fn checkpoint_at(conn: &mut DbConn, size: i64) -> QueryResult<Option<Checkpoint>> {
    let row: Option<CheckpointRow> = checkpoints::table
        .find(size)
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Checkpoint::from))
}

/// Stores a signed checkpoint; `false` when one of that size exists already.
pub fn insert_checkpoint(conn: &mut DbConn, cp: &Checkpoint) -> QueryResult<bool> {
    let row = CheckpointRow {
        size: cp.size,
        root_hash: cp.root_hash.clone(),
        signed_at: cp.signed_at.clone(),
        key_id: cp.key_id.clone(),
        signature: cp.signature.clone(),
    };
    match diesel::insert_into(checkpoints::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What the ledger last recorded of each of `subjects` up to the instant `until`, parsed, with
/// its `seq`, keyed by subject (subjects with no entry by then are absent).
pub fn states_at<T: serde::de::DeserializeOwned>(
    conn: &mut DbConn,
    subjects: &[String],
    until: &str,
) -> Result<std::collections::HashMap<String, (T, i64)>, DomainError> {
    let rows: Vec<Row> = ledger::table
        .filter(ledger::subject.eq_any(subjects))
        .filter(ledger::at.le(until))
        .order(ledger::seq.asc())
        .select(Row::as_select())
        .load(conn)?;
    let mut last = std::collections::HashMap::new();
    for row in rows {
        last.insert(row.subject.clone(), row);
    }
    last.into_iter()
        .map(|(subject, row)| Ok((subject, (serde_json::from_str(&row.change)?, row.seq))))
        .collect()
}

/// The states at `until` of `subjects`, in their order: those recorded by then and kept by
/// `keep`, at most `limit`, each with its `seq`; read 500 subjects at a time (list reads as of
/// an instant).
pub fn states_in_order<T: serde::de::DeserializeOwned>(
    conn: &mut DbConn,
    subjects: &[String],
    until: &str,
    limit: usize,
    mut keep: impl FnMut(&T) -> bool,
) -> Result<Vec<(T, i64)>, DomainError> {
    let mut found = Vec::new();
    for slice in subjects.chunks(500) {
        let mut states = states_at::<T>(conn, slice, until)?;
        for subject in slice {
            if let Some((state, seq)) = states.remove(subject)
                && keep(&state)
            {
                found.push((state, seq));
                if found.len() >= limit {
                    return Ok(found);
                }
            }
        }
    }
    Ok(found)
}

/// What the ledger last recorded of `subject` up to the instant `until`: the change, parsed,
/// with its `seq` (point-in-time reads of register objects, whose entries hold their whole state).
pub fn state_at<T: serde::de::DeserializeOwned>(
    conn: &mut DbConn,
    subject: &str,
    until: &str,
) -> Result<Option<(T, i64)>, DomainError> {
    let Some(last) = subject_history(conn, subject, until)?.into_iter().last() else {
        return Ok(None);
    };
    Ok(Some((serde_json::from_str(&last.change)?, last.seq)))
}

/// The entries of `actions` in `after + 1 ..= upto`, in `seq` order, at most `limit` (each
/// action read through its `(action, seq)` index).
pub fn of_actions_between(
    conn: &mut DbConn,
    actions: &[&str],
    after: i64,
    upto: i64,
    limit: i64,
) -> QueryResult<Vec<Row>> {
    ledger::table
        .filter(ledger::action.eq_any(actions))
        .filter(ledger::seq.gt(after))
        .filter(ledger::seq.le(upto))
        .order(ledger::seq.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
}
