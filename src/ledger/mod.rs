//! The ledger: one append-only, hash-chained log of every change to the register and every
//! decision. An entry is written in the same transaction as the change it records, so what
//! cannot be recorded is not done.

pub mod audit;
pub mod chain;
pub mod checkpoints;
pub mod integrity;
pub mod merkle;
pub mod note;
pub mod offline;
pub mod proofs;
pub mod signing;
pub mod store;
pub mod subject;
pub mod tiles;
pub mod verify;
pub mod witness;

pub use store::head;
pub use subject::{Subject, action};

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::error::DomainError;
use crate::schema::ledger;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The actor of seeding and migrations.
pub fn system_actor() -> Value {
    json!({"sub": "system"})
}

/// A stored ledger row; `actor` and `change` are canonical JSON text.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = ledger)]
pub struct Row {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub change: String,
    pub prev_hash: String,
    pub hash: String,
    /// RFC 9162 leaf hash of the entry's canonical form (hex); not part of the entry itself.
    pub leaf_hash: String,
}

/// One ledger entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"seq": 42, "at": "2026-11-29T10:00:00.123456Z",
    "actor": {"sub": "alice", "roles": ["procurement"]}, "action": "party.created",
    "subject": "party:0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "change": {"legal_name": "Acme Ltd"},
    "prev_hash": "5f1c…", "hash": "9a2b…"}))]
pub struct Entry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// When it was written (UTC, microseconds).
    pub at: String,
    /// Who did it: `{sub, roles}`, or `{sub: "system"}` for seeding and migrations.
    #[schema(value_type = Object)]
    pub actor: Value,
    /// What was done, e.g. `party.created`, `grant.revoked`, `decision.recorded`.
    pub action: String,
    /// The object concerned, e.g. `party:<id>`, `grant:<id>`, `service:<key>`.
    pub subject: String,
    /// The object's full state after the change, or the decision with its inputs.
    #[schema(value_type = Object)]
    pub change: Value,
    /// The previous entry's hash (64 zeros for the first entry).
    pub prev_hash: String,
    /// Lowercase hex SHA-256 of the RFC 8785 serialisation of the entry without `hash`.
    pub hash: String,
}

impl Row {
    /// The entry as served; stored `actor` or `change` text that is not JSON is an error, never
    /// a null.
    pub fn entry(self) -> serde_json::Result<Entry> {
        Ok(Entry {
            seq: self.seq,
            at: self.at,
            actor: serde_json::from_str(&self.actor)?,
            action: self.action,
            subject: self.subject,
            change: serde_json::from_str(&self.change)?,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// Appends entries under the head lock: lock once, append any number, then `finish` writes the
/// new head. Call inside a write transaction.
pub struct Appender {
    seq: i64,
    /// The size of the latest signed checkpoint when the head was locked.
    signed: i64,
    hash: String,
    revision: i64,
    register_changed: bool,
    /// Rows sealed but not yet written: `finish` writes them in one statement per 500.
    pending: Vec<Row>,
}

impl Appender {
    /// Locks the head for the rest of the transaction. Refuses when the log is shorter than a
    /// signed checkpoint (its tail was cut): a new entry would take a `seq` already signed.
    pub fn lock(conn: &mut DbConn) -> Result<Appender, DomainError> {
        let (seq, hash, revision) = store::lock_head(conn)?;
        let signed = store::latest_checkpoint(conn)?.map_or(0, |c| c.size);
        if signed > seq {
            return Err(DomainError::LedgerIntegrity(format!(
                "the ledger ends at entry {seq}, before the signed checkpoint of size {}: \
                 no entry may take a signed seq again",
                signed
            )));
        }
        Ok(Appender {
            seq,
            signed,
            hash,
            revision,
            register_changed: false,
            pending: Vec::new(),
        })
    }

    /// Whether the entries appended so far leave `every` or more unsigned: then the writer
    /// signs a checkpoint before it commits.
    pub fn checkpoint_due(&self, every: i64) -> bool {
        self.seq - self.signed >= every
    }

    /// The register revision as of the lock (moved by this appender's own register entries).
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// Appends one entry. `register` marks a change of the register, which raises the register
    /// revision to this entry's `seq`.
    pub fn append(
        &mut self,
        actor: &Value,
        action: &str,
        subject: Subject<'_>,
        change: &Value,
        register: bool,
    ) -> i64 {
        let change = crate::jcs::to_string(change);
        self.append_canonical(actor, action, subject, change, register)
    }

    /// [`Appender::append`] with `change` already in canonical (RFC 8785) form.
    pub fn append_canonical(
        &mut self,
        actor: &Value,
        action: &str,
        subject: Subject<'_>,
        change: String,
        register: bool,
    ) -> i64 {
        let row = chain::seal_canonical(
            self.seq + 1,
            crate::time::format(crate::time::now()),
            crate::jcs::to_string(actor),
            action,
            &subject.to_string(),
            change,
            std::mem::take(&mut self.hash),
        );
        self.seq = row.seq;
        self.hash = row.hash.clone();
        if register {
            self.revision = row.seq;
            self.register_changed = true;
        }
        self.pending.push(row);
        self.seq
    }

    /// Writes the entries and the new head (and tells other nodes when the register moved).
    pub fn finish(self, conn: &mut DbConn) -> QueryResult<()> {
        crate::db::insert_in_chunks!(conn, ledger::table, self.pending);
        store::set_head(conn, self.seq, &self.hash, self.revision)?;
        if self.register_changed {
            crate::db::notify_register_change(conn, self.revision)?;
        }
        Ok(())
    }
}

/// Appends one entry (see [`Appender`]). Call inside a write transaction.
pub fn append(
    conn: &mut DbConn,
    actor: &Value,
    action: &str,
    subject: Subject<'_>,
    change: &Value,
    register: bool,
) -> Result<i64, DomainError> {
    let mut appender = Appender::lock(conn)?;
    let seq = appender.append(actor, action, subject, change, register);
    appender.finish(conn)?;
    Ok(seq)
}
