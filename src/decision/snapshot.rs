//! The register as the decision engine reads it: indexed party → service → grants, loaded
//! whole from storage and tagged with the register revision it reflects.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use crate::db::DbConn;
use crate::registry::country::Region;
use crate::registry::grants::{GrantRow, TransferMechanism};
use crate::registry::parties::PartyRow;
use crate::registry::services::ServiceRow;
use crate::registry::text_to_list;
use crate::schema::{grants, parties, services};

#[derive(Debug, Clone, Default)]
pub struct ServiceEntry {
    pub active: bool,
    pub purposes: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PartyEntry {
    pub trusted: bool,
    pub data_locations: Vec<String>,
    /// Grants by service key, oldest first.
    pub grants: HashMap<String, Vec<GrantEntry>>,
}

#[derive(Debug, Clone)]
pub struct GrantEntry {
    pub id: String,
    pub categories: Vec<String>,
    /// Allowed regions, indexed PRC, US, OTHER.
    pub regions: [bool; 3],
    pub mechanism_is_pipl: bool,
    /// Microseconds since the epoch.
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub revoked: bool,
}

fn region_index(r: Region) -> usize {
    match r {
        Region::Prc => 0,
        Region::Us => 1,
        Region::Other => 2,
    }
}

impl GrantEntry {
    pub fn allows(&self, region: Region) -> bool {
        self.regions[region_index(region)]
    }

    pub fn from_row(row: &GrantRow) -> GrantEntry {
        let mut regions = [false; 3];
        for r in text_to_list(&row.allowed_regions)
            .iter()
            .filter_map(|r| Region::parse(r))
        {
            regions[region_index(r)] = true;
        }
        let micros = |s: &str| crate::time::parse(s).map(|t| t.timestamp_micros());
        GrantEntry {
            id: row.id.clone(),
            categories: text_to_list(&row.categories),
            regions,
            mechanism_is_pipl: serde_json::from_value::<TransferMechanism>(
                serde_json::Value::String(row.transfer_mechanism.clone()),
            )
            .is_ok_and(TransferMechanism::is_pipl),
            // An unreadable bound fails closed: never valid.
            valid_from: micros(&row.valid_from).unwrap_or(i64::MAX),
            valid_until: row
                .valid_until
                .as_deref()
                .map(|u| micros(u).unwrap_or(i64::MIN)),
            revoked: row.status != "active",
        }
    }
}

/// Everything a decision reads.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The register revision (ledger `seq` of the last register change) this reflects.
    pub revision: i64,
    /// Category key → `linkable`.
    pub categories: HashMap<String, bool>,
    /// Keys that are PII themselves or have a PII descendant.
    pub pii: HashSet<String>,
    /// Purpose key → prohibited.
    pub purposes: HashMap<String, bool>,
    pub services: HashMap<String, ServiceEntry>,
    pub parties: HashMap<String, PartyEntry>,
}

impl Snapshot {
    pub fn is_pii(&self, key: &str) -> bool {
        self.pii.contains(key)
    }

    pub fn is_linkable(&self, key: &str) -> bool {
        self.categories.get(key).copied().unwrap_or(false)
    }

    /// Adds a category; `pii` marks it and every ancestor as counting as PII.
    pub fn add_category(&mut self, key: &str, pii: bool, linkable: bool) {
        self.categories.insert(key.to_owned(), linkable);
        if pii {
            let mut k = key;
            loop {
                self.pii.insert(k.to_owned());
                match crate::taxonomy::parent_of(k) {
                    Some(p) => k = p,
                    None => break,
                }
            }
        }
    }

    /// Loads the whole register. Call inside the transaction that read `revision`, so the two agree.
    pub fn load(conn: &mut DbConn, revision: i64) -> QueryResult<Snapshot> {
        let mut snap = Snapshot {
            revision,
            ..Snapshot::default()
        };
        for c in crate::taxonomy::routes::all_categories(conn)? {
            snap.add_category(&c.key, c.pii, c.linkable);
        }
        for p in crate::taxonomy::routes::all_purposes(conn)? {
            snap.purposes.insert(p.key, p.prohibited);
        }
        for s in services::table.select(ServiceRow::as_select()).load(conn)? {
            snap.services.insert(
                s.key.clone(),
                ServiceEntry {
                    active: s.active,
                    purposes: text_to_list(&s.purposes),
                },
            );
        }
        for p in parties::table.select(PartyRow::as_select()).load(conn)? {
            snap.parties.insert(
                p.id.clone(),
                PartyEntry {
                    trusted: p.status == "trusted",
                    data_locations: text_to_list(&p.data_locations),
                    grants: HashMap::new(),
                },
            );
        }
        let rows: Vec<GrantRow> = grants::table
            .order(grants::id.asc())
            .select(GrantRow::as_select())
            .load(conn)?;
        for g in &rows {
            if let Some(party) = snap.parties.get_mut(&g.party_id) {
                party
                    .grants
                    .entry(g.service.clone())
                    .or_default()
                    .push(GrantEntry::from_row(g));
            }
        }
        Ok(snap)
    }
}
