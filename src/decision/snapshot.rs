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
    /// Interned id, set by [`Snapshot::index`].
    pub id: u32,
}

#[derive(Debug, Clone, Default)]
pub struct PartyEntry {
    pub trusted: bool,
    pub data_locations: Vec<String>,
    /// Grants by service key, oldest first, as the snapshot is built: [`Snapshot::index`] moves
    /// them into `by_service`.
    pub grants: HashMap<String, Vec<GrantEntry>>,
    /// `data_locations` as a set, set by [`Snapshot::index`].
    pub locations: Countries,
    /// Grants by interned service id, in id order, set by [`Snapshot::index`]: one contiguous
    /// list to scan instead of a hash table per party.
    pub by_service: Vec<(u32, Vec<GrantEntry>)>,
}

impl PartyEntry {
    /// The party's grants for a service, oldest first.
    pub fn grants_for(&self, service: u32) -> &[GrantEntry] {
        self.by_service
            .iter()
            .find(|(id, _)| *id == service)
            .map_or(&[], |(_, g)| g.as_slice())
    }
}

/// A set of two-letter country codes, held inline (one bit per code).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Countries([u64; 11]);

impl Countries {
    fn slot(code: &str) -> Option<usize> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
                Some((a - b'A') as usize * 26 + (b - b'A') as usize)
            }
            _ => None,
        }
    }

    pub fn insert(&mut self, code: &str) {
        if let Some(i) = Countries::slot(code) {
            self.0[i / 64] |= 1 << (i % 64);
        }
    }

    pub fn contains(&self, code: &str) -> bool {
        Countries::slot(code).is_some_and(|i| self.0[i / 64] & (1 << (i % 64)) != 0)
    }
}

/// A grant's categories: most grants name a few, kept inline.
pub type CategoryIds = super::few::Few<u32, 4>;

#[derive(Debug, Clone)]
pub struct GrantEntry {
    pub id: String,
    /// The categories granted, as interned ids ([`Snapshot::ids_of`]).
    pub category_ids: CategoryIds,
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

    /// The entry for a stored grant; `snap` holds the taxonomy, to intern its categories.
    pub fn from_row(row: &GrantRow, snap: &Snapshot) -> GrantEntry {
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
            category_ids: snap.ids_of(text_to_list(&row.categories).iter().map(String::as_str)),
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
    /// Category key → interned id, assigned as categories are added.
    ids: HashMap<String, u32>,
    /// Keys by interned id.
    keys: Vec<String>,
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
        if !self.ids.contains_key(key) {
            self.ids.insert(key.to_owned(), self.keys.len() as u32);
            self.keys.push(key.to_owned());
        }
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

    /// The interned ids of category keys; keys not in the taxonomy have none and are left out.
    pub fn ids_of<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> CategoryIds {
        keys.into_iter()
            .filter_map(|k| self.ids.get(k).copied())
            .collect()
    }

    /// Computes what the engine needs: of each category its PII marks and ancestors as ids (so
    /// the engine compares ids, not strings), service ids, and each party's locations and
    /// grants in compact form. Call once the snapshot is built.
    pub fn index(&mut self) {
        for (i, service) in self.services.values_mut().enumerate() {
            service.id = i as u32;
        }
        for party in self.parties.values_mut() {
            party.locations = Countries::default();
            for c in &party.data_locations {
                party.locations.insert(c);
            }
            // Grants for a service not in the register can never be used: every decision needs
            // the service known.
            for (key, grants) in party.grants.drain() {
                if let Some(service) = self.services.get(&key) {
                    party.by_service.push((service.id, grants));
                }
            }
            party.by_service.sort_unstable_by_key(|(id, _)| *id);
            party.grants.shrink_to_fit();
        }
        self.interned = self
            .keys
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
                    pii: self.pii.contains(k),
                    linkable: self.categories[k],
                    ancestors,
                }
            })
            .collect();
    }

    /// Whether [`Snapshot::index`] has run since categories were added.
    pub fn is_indexed(&self) -> bool {
        self.interned.len() == self.categories.len()
    }

    /// The category key of an interned id.
    pub fn key(&self, id: u32) -> &str {
        &self.keys[id as usize]
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
                    id: 0,
                },
            );
        }
        for p in parties::table.select(PartyRow::as_select()).load(conn)? {
            snap.parties.insert(
                p.id.clone(),
                PartyEntry {
                    trusted: p.status == "trusted",
                    data_locations: text_to_list(&p.data_locations),
                    ..PartyEntry::default()
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
                let entry = GrantEntry::from_row(g, &snap);
                if let Some(party) = snap.parties.get_mut(&g.party_id) {
                    party
                        .grants
                        .entry(g.service.clone())
                        .or_default()
                        .push(entry);
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
