//! The register as it stood at a past instant, for an evaluation `as_of` it: the current
//! snapshot with everything the ledger records a change of since then — services, parties with
//! their grants and agreements, entities, taxonomy marks — put back as the ledger recorded it
//! at that instant. What did not change is shared with the current snapshot, so the cost is
//! the changes since, not the size of the register.

use std::collections::HashSet;
use std::sync::Arc;

use super::loading::Touched;
use super::snapshot::{
    GrantEntry, PartyEntry, ServiceEntry, Snapshot, agreement_facts, index_party, push_grant,
};
use crate::db::DbConn;
use crate::error::DomainError;
use crate::ledger::Subject;
use crate::ledger::store::{register_revision_at, register_subjects, seq_at, state_at};
use crate::registry::agreements::{self, Agreement, AgreementRow};
use crate::registry::entities::{self, Entity};
use crate::registry::grants::{self, store::DecisionColumns};
use crate::registry::parties::Party;
use crate::registry::services::Service;
use crate::taxonomy::{Category, Purpose};
use crate::transfers::law::EntityFacts;

/// The register at an instant.
pub struct Past {
    pub snapshot: Snapshot,
    /// The last ledger entry written at or before the instant.
    pub seq: i64,
    /// Taxonomy keys added after the instant: not known then.
    pub unknown_then: HashSet<String>,
}

fn unreadable(what: String) -> DomainError {
    DomainError::LedgerIntegrity(format!("the ledger's state of {what} does not parse"))
}

/// The register at `at` (an instant in the stored form), rewound from `current`.
pub fn snapshot_at(conn: &mut DbConn, current: &Snapshot, at: &str) -> Result<Past, DomainError> {
    let seq = seq_at(conn, at)?;
    let subjects = register_subjects(conn, seq, current.revision.max(seq))?;
    let mut past = current.clone();
    past.revision = register_revision_at(conn, seq)?;
    let mut unknown_then = HashSet::new();
    let touched = Touched::of(&subjects);
    for key in &touched.categories {
        match state_at::<Category>(conn, &Subject::Category(key).to_string(), at)? {
            Some((c, _)) => past.put_category(&c),
            None => {
                unknown_then.insert(key.clone());
            }
        }
    }
    if !touched.categories.is_empty() {
        past.index();
    }
    for key in &touched.purposes {
        match state_at::<Purpose>(conn, &Subject::Purpose(key).to_string(), at)? {
            Some((p, _)) => past.put_purpose(&p),
            None => {
                unknown_then.insert(key.clone());
            }
        }
    }
    if touched.entities {
        past.entities.clear();
        for e in entities::all(conn)? {
            let subject = Subject::Entity(e.key.as_str()).to_string();
            if let Some((then, _)) = state_at::<Entity>(conn, &subject, at)? {
                let facts = EntityFacts {
                    country: then.country,
                    ciio: then.ciio,
                    active: then.active,
                };
                past.entities.insert(then.key, facts);
            }
        }
    }
    let mut fresh = past.fresh_service_id();
    for key in &touched.services {
        let then = state_at::<Service>(conn, &Subject::Service(key).to_string(), at)?;
        let entry = then.map(|(s, _)| ServiceEntry {
            active: s.active,
            purposes: s.purposes,
            entities: s.entities,
            id: 0,
        });
        past.put_service(key, entry, &mut fresh);
    }
    for id in &touched.parties(conn)? {
        match party_then(conn, &past, id, at)? {
            Some(party) => past.parties.insert(id.clone(), Arc::new(party)),
            None => past.parties.remove(id),
        };
    }
    Ok(Past {
        snapshot: past,
        seq,
        unknown_then,
    })
}

/// Party `id` with its agreements and grants as the ledger recorded them at `at`; `None` when
/// it was not registered yet.
fn party_then(
    conn: &mut DbConn,
    past: &Snapshot,
    id: &str,
    at: &str,
) -> Result<Option<PartyEntry>, DomainError> {
    let subject = Subject::Party(id).to_string();
    let Some((then, _)) = state_at::<Party>(conn, &subject, at)? else {
        return Ok(None);
    };
    let row = then.to_row().ok_or_else(|| unreadable(subject))?;
    let mut party = PartyEntry::from_row(&row);
    for a in agreements::store::of_party(conn, id, None, None)? {
        let subject = Subject::Agreement(&a.id).to_string();
        if let Some((then, _)) = state_at::<Agreement>(conn, &subject, at)? {
            party
                .facts
                .agreements
                .push(agreement_facts(&AgreementRow::from(then)));
        }
    }
    for g in grants::store::decision_columns_of_party(conn, id)? {
        let subject = Subject::Grant(&g.id).to_string();
        if let Some((then, _)) = state_at::<serde_json::Value>(conn, &subject, at)? {
            let columns = DecisionColumns::from_state(&then).ok_or_else(|| unreadable(subject))?;
            let entry = GrantEntry::from_columns(&columns, past)?;
            push_grant(&mut party, &columns.service, entry);
        }
    }
    index_party(&past.services, &mut party);
    Ok(Some(party))
}
