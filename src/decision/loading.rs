//! Building the snapshot from the register, through each domain's read functions: whole, or
//! advanced from an earlier snapshot by the register changes the ledger recorded since.

use std::collections::BTreeSet;
use std::sync::Arc;

use diesel::QueryResult;

use super::snapshot::{
    GrantEntry, PartyEntry, ServiceEntry, Snapshot, agreement_facts, entity_facts, index_party,
    push_grant,
};
use crate::db::DbConn;
use crate::ledger::Subject;
use crate::registry::{agreements, entities, grants, parties, services};

/// At most this many register changes are applied one by one; more load the whole register.
pub const INCREMENTAL_LIMIT: usize = 1_000;
/// At most this many ledger entries are scanned for register changes; more load the whole register.
const SCAN_LIMIT: i64 = 200_000;

impl Snapshot {
    /// Loads the whole register. Call inside the transaction that read `revision`, so the two agree.
    pub fn load(conn: &mut DbConn, revision: i64) -> QueryResult<Snapshot> {
        let mut snap = Snapshot::default();
        snap.revision = revision;
        for c in crate::taxonomy::store::all_categories(conn)? {
            snap.put_category(&c);
        }
        for p in crate::taxonomy::store::all_purposes(conn)? {
            snap.put_purpose(&p);
        }
        load_entities(conn, &mut snap)?;
        for s in services::store::all(conn)? {
            snap.services
                .insert(s.key.to_string(), ServiceEntry::from_row(&s, 0));
        }
        for p in parties::store::all(conn)? {
            snap.parties
                .insert(p.id.clone(), Arc::new(PartyEntry::from_row(&p)));
        }
        for a in agreements::store::all(conn)? {
            if let Some(party) = snap.parties.get_mut(&a.party_id) {
                Arc::make_mut(party)
                    .facts
                    .agreements
                    .push(agreement_facts(&a));
            }
        }
        // Grants stream in row by row: the rows are much larger than the entries kept, and a
        // register of a million grants would otherwise sit in memory twice while loading.
        grants::store::for_each_decision_columns(conn, |g| {
            let entry = GrantEntry::from_columns(g, &snap)?;
            if let Some(party) = snap.parties.get_mut(&g.party_id) {
                push_grant(Arc::make_mut(party), &g.service, entry);
            }
            Ok(())
        })?;
        snap.index();
        Ok(snap)
    }

    /// Adds a category, or sets its marks (PIPL sensitive, DSP classes) to `c`'s.
    pub(crate) fn put_category(&mut self, c: &crate::taxonomy::Category) {
        self.add_category(&c.key, c.pii, c.linkable);
        let bits = c.us_dsp_classes.iter().fold(0u8, |b, k| b | k.bit());
        match c.pipl_sensitive || bits != 0 {
            true => self.marks.insert(c.key.clone(), (c.pipl_sensitive, bits)),
            false => self.marks.remove(&c.key),
        };
    }

    /// Adds a purpose, or sets its marks (prohibited, DSP ancillary) to `p`'s.
    pub(crate) fn put_purpose(&mut self, p: &crate::taxonomy::Purpose) {
        match p.us_dsp_ancillary {
            true => self.ancillary.insert(p.key.clone()),
            false => self.ancillary.remove(&p.key),
        };
        self.purposes.insert(p.key.clone(), p.prohibited);
    }

    /// The snapshot at `revision`, built from this one: the register changes recorded in the
    /// ledger since this snapshot's revision name the services, parties and grants they
    /// touched, and only those are read again; every other party is shared with this snapshot.
    /// A taxonomy change, or more than [`INCREMENTAL_LIMIT`] changes, loads the whole register.
    /// Call inside the transaction that read `revision`.
    pub fn advance(&self, conn: &mut DbConn, revision: i64) -> QueryResult<Snapshot> {
        if revision == self.revision {
            return Ok(self.clone());
        }
        // An empty snapshot (the default, never loaded) has nothing to build on.
        if revision < self.revision
            || revision - self.revision > SCAN_LIMIT
            || self.categories.is_empty()
        {
            return Snapshot::load(conn, revision);
        }
        let subjects = crate::ledger::store::register_subjects(conn, self.revision, revision)?;
        if subjects.len() > INCREMENTAL_LIMIT {
            return Snapshot::load(conn, revision);
        }
        let touched = Touched::of(&subjects);
        // Taxonomy changes re-intern categories: load everything.
        if touched.other || !touched.categories.is_empty() || !touched.purposes.is_empty() {
            return Snapshot::load(conn, revision);
        }
        let party_ids = touched.parties(conn)?;
        let mut next = self.clone();
        next.revision = revision;
        if touched.entities {
            load_entities(conn, &mut next)?;
        }
        let mut fresh = next.fresh_service_id();
        for key in &touched.services {
            let row = services::store::find(conn, key)?;
            next.put_service(key, row.map(|r| ServiceEntry::from_row(&r, 0)), &mut fresh);
        }
        for id in &party_ids {
            let Some(row) = parties::store::find(conn, id)? else {
                next.parties.remove(id);
                continue;
            };
            let mut party = PartyEntry::from_row(&row);
            party.facts.agreements = agreements::store::of_party(conn, id, None, None)?
                .iter()
                .map(agreement_facts)
                .collect();
            for g in &grants::store::decision_columns_of_party(conn, id)? {
                push_grant(&mut party, &g.service, GrantEntry::from_columns(g, &next)?);
            }
            index_party(&next.services, &mut party);
            next.parties.insert(id.clone(), Arc::new(party));
        }
        Ok(next)
    }
}

/// What a run of register changes touched, by kind of subject.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    pub parties: BTreeSet<String>,
    pub grants: Vec<String>,
    pub agreements: Vec<String>,
    pub services: BTreeSet<String>,
    pub entities: bool,
    pub categories: Vec<String>,
    pub purposes: Vec<String>,
    /// A subject of no kind above, and not one that changes nothing a decision reads.
    pub other: bool,
}

impl Touched {
    pub(crate) fn of(subjects: &[String]) -> Touched {
        let mut t = Touched::default();
        for subject in subjects {
            match Subject::parse(subject) {
                Some(Subject::Party(id)) => {
                    t.parties.insert(id.to_owned());
                }
                Some(Subject::Grant(id)) => t.grants.push(id.to_owned()),
                Some(Subject::Agreement(id)) => t.agreements.push(id.to_owned()),
                Some(Subject::Service(key)) => {
                    t.services.insert(key.to_owned());
                }
                Some(Subject::Entity(_)) => t.entities = true,
                Some(Subject::Category(key)) => t.categories.push(key.to_owned()),
                Some(Subject::Purpose(key)) => t.purposes.push(key.to_owned()),
                // Disclosures and import records change nothing a decision reads (an import's
                // parties have entries of their own).
                Some(
                    Subject::LegalRequest(_)
                    | Subject::Incident(_)
                    | Subject::VendorList(_)
                    | Subject::Webhook(_),
                ) => {}
                _ => t.other = true,
            }
        }
        t
    }

    /// The parties touched, with the owners of the grants and agreements touched.
    pub(crate) fn parties(&self, conn: &mut DbConn) -> QueryResult<BTreeSet<String>> {
        let mut ids = self.parties.clone();
        ids.extend(grants::store::owners(conn, &self.grants)?);
        ids.extend(agreements::store::owners(conn, &self.agreements)?);
        Ok(ids)
    }
}

impl Snapshot {
    /// The interned id after every service's: ids are never reused, since parties that were
    /// not re-read still index their grants by the ids they were built with.
    pub(crate) fn fresh_service_id(&self) -> u32 {
        self.services.values().map(|s| s.id + 1).max().unwrap_or(0)
    }

    /// Puts service `key` as `entry`, keeping its interned id or taking `fresh` (then moved on),
    /// or removes it (`None`).
    pub(crate) fn put_service(&mut self, key: &str, entry: Option<ServiceEntry>, fresh: &mut u32) {
        let Some(mut entry) = entry else {
            self.services.remove(key);
            return;
        };
        entry.id = match self.services.get(key) {
            Some(s) => s.id,
            None => {
                *fresh += 1;
                *fresh - 1
            }
        };
        self.services.insert(key.to_owned(), entry);
    }
}

fn load_entities(conn: &mut DbConn, snap: &mut Snapshot) -> QueryResult<()> {
    snap.entities = entities::all(conn)?
        .iter()
        .map(|e| (e.key.to_string(), entity_facts(e)))
        .collect();
    Ok(())
}

/// The register as one consistent state, tagged with the revision that state carries, built
/// from `from` where it can be ([`Snapshot::advance`]; from `Snapshot::default()` it is a whole
/// load).
pub fn load_current(conn: &mut DbConn, from: &Snapshot) -> QueryResult<Snapshot> {
    crate::db::consistent_read(conn, |conn| {
        let (_, _, revision) = crate::ledger::head(conn)?;
        from.advance(conn, revision)
    })
}
