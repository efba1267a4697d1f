//! The register as the decision engine reads it: indexed party → service → grants, loaded
//! whole from storage and tagged with the register revision it reflects.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

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
    /// `categories` as interned ids, filled by [`Snapshot::index`].
    pub category_ids: Vec<u32>,
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
            category_ids: Vec::new(),
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

/// Grants read per query while loading a snapshot.
const GRANT_PAGE: i64 = 20_000;

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
    /// Category key → interned id (see [`Snapshot::index`]).
    ids: HashMap<String, u32>,
    /// By id: whether it counts as PII, whether it is linkable, and its ancestors (itself first).
    interned: Vec<Interned>,
}

#[derive(Debug, Clone, Default)]
pub struct Interned {
    pub pii: bool,
    pub linkable: bool,
    pub ancestors: Vec<u32>,
}

impl Snapshot {
    pub fn is_pii(&self, key: &str) -> bool {
        self.pii.contains(key)
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

    /// Interns the category keys and every grant's categories, so the engine compares ids, not
    /// strings. Call once the snapshot is built.
    pub fn index(&mut self) {
        let mut keys: Vec<&String> = self.categories.keys().collect();
        keys.sort();
        self.ids = keys
            .iter()
            .enumerate()
            .map(|(i, k)| ((*k).clone(), i as u32))
            .collect();
        self.interned = keys
            .iter()
            .map(|k| {
                let mut ancestors = Vec::new();
                let mut cur = Some(k.as_str());
                while let Some(key) = cur {
                    if let Some(id) = self.ids.get(key) {
                        ancestors.push(*id);
                    }
                    cur = crate::taxonomy::parent_of(key);
                }
                Interned {
                    pii: self.pii.contains(*k),
                    linkable: self.categories[*k],
                    ancestors,
                }
            })
            .collect();
        let ids = &self.ids;
        for party in self.parties.values_mut() {
            for grants in party.grants.values_mut() {
                for g in grants {
                    g.category_ids = g
                        .categories
                        .iter()
                        .filter_map(|c| ids.get(c).copied())
                        .collect();
                }
            }
        }
    }

    /// Whether [`Snapshot::index`] has run since categories were added.
    pub fn is_indexed(&self) -> bool {
        self.interned.len() == self.categories.len()
    }

    /// The interned id of a category key.
    pub fn id(&self, key: &str) -> Option<u32> {
        self.ids.get(key).copied()
    }

    /// What is known of an interned category.
    pub fn interned(&self, id: u32) -> &Interned {
        &self.interned[id as usize]
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
                    grants: HashMap::default(),
                },
            );
        }
        // Grants are read a page at a time: the rows are much larger than the entries kept, and
        // a register of a million grants would otherwise sit in memory twice while loading.
        let mut after = String::new();
        loop {
            let rows: Vec<GrantRow> = grants::table
                .filter(grants::id.gt(&after))
                .order(grants::id.asc())
                .limit(GRANT_PAGE)
                .select(GrantRow::as_select())
                .load(conn)?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            for g in &rows {
                if let Some(party) = snap.parties.get_mut(&g.party_id) {
                    party
                        .grants
                        .entry(g.service.clone())
                        .or_default()
                        .push(GrantEntry::from_row(g));
                }
            }
        }
        snap.index();
        Ok(snap)
    }
}

/// Replaces the shared snapshot with `fresh` unless it already reflects a later revision.
pub fn install(
    slot: &std::sync::RwLock<std::sync::Arc<Snapshot>>,
    fresh: std::sync::Arc<Snapshot>,
) {
    if let Ok(mut current) = slot.write()
        && current.revision < fresh.revision
    {
        *current = fresh;
    }
}

/// Loads the register as one consistent state, tagged with the revision that state carries.
pub fn load_current(conn: &mut DbConn) -> QueryResult<Snapshot> {
    crate::db::consistent_read(conn, |conn| {
        let (_, _, revision) = crate::ledger::head(conn)?;
        Snapshot::load(conn, revision)
    })
}

/// Keeps a node's snapshot following register changes made on any node: PostgreSQL
/// `LISTEN/NOTIFY`, with a periodic revision check in case a notification is lost. Neither is
/// needed for correctness — every decision checks the revision in its own transaction — they
/// only spare the first decision after a change the reload. Runs until the process ends.
pub fn follow(
    database_url: &str,
    pool: crate::db::Pool,
    slot: std::sync::Arc<std::sync::RwLock<std::sync::Arc<Snapshot>>>,
) {
    use diesel::Connection;
    use std::time::{Duration, Instant};
    let mut last_check = Instant::now();
    loop {
        let Ok(mut listener) = diesel::PgConnection::establish(database_url) else {
            std::thread::sleep(Duration::from_secs(2));
            continue;
        };
        if diesel::sql_query(format!("LISTEN {}", crate::db::REGISTER_CHANNEL))
            .execute(&mut listener)
            .is_err()
        {
            std::thread::sleep(Duration::from_secs(2));
            continue;
        }
        loop {
            let mut newest: Option<i64> = None;
            let mut broken = false;
            for n in listener.notifications_iter() {
                match n {
                    Ok(n) => newest = newest.max(n.payload.parse().ok()),
                    Err(_) => {
                        broken = true;
                        break;
                    }
                }
            }
            if broken {
                break;
            }
            let current = slot.read().map(|s| s.revision).unwrap_or(0);
            let due = newest.is_some_and(|r| r > current)
                || last_check.elapsed() > Duration::from_secs(5);
            if due {
                last_check = Instant::now();
                if let Ok(mut conn) = pool.get()
                    && let Ok(fresh) = load_current(&mut conn)
                    && fresh.revision > current
                {
                    install(&slot, std::sync::Arc::new(fresh));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
