//! The register as the decision engine reads it: indexed party → service → grants, loaded
//! whole from storage and tagged with the register revision it reflects.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use diesel::prelude::*;

use crate::db::DbConn;
use crate::registry::country::Region;
use crate::registry::grants::TransferMechanism;
use crate::registry::parties::PartyRow;
use crate::registry::services::ServiceRow;
use crate::registry::text_to_list;
use crate::schema::{grants, ledger, parties, services};

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

    /// The entry from the columns a decision needs. The JSON lists are read without copying
    /// their strings: loading a million grants is mostly allocation otherwise.
    fn from_columns(row: &GrantColumns, snap: &Snapshot) -> GrantEntry {
        use std::borrow::Cow;
        let list =
            |text: &str| -> Vec<Cow<'_, str>> { serde_json::from_str(text).unwrap_or_default() };
        let mut regions = [false; 3];
        for r in list(&row.allowed_regions)
            .iter()
            .filter_map(|r| Region::parse(r))
        {
            regions[region_index(r)] = true;
        }
        let micros = |s: &str| crate::time::parse(s).map(|t| t.timestamp_micros());
        let mechanism: Result<TransferMechanism, serde::de::value::Error> =
            serde::Deserialize::deserialize(serde::de::value::StrDeserializer::new(
                &row.transfer_mechanism,
            ));
        GrantEntry {
            id: row.id.clone(),
            category_ids: snap.ids_of(list(&row.categories).iter().map(|c| c.as_ref())),
            regions,
            mechanism_is_pipl: mechanism.is_ok_and(TransferMechanism::is_pipl),
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

/// The columns of a grant that a decision needs.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = grants)]
struct GrantColumns {
    id: String,
    party_id: String,
    service: String,
    categories: String,
    allowed_regions: String,
    transfer_mechanism: String,
    valid_from: String,
    valid_until: Option<String>,
    status: String,
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
    /// Shared between successive snapshots: a register change replaces only the parties it
    /// touched (see [`Snapshot::advance`]).
    pub parties: HashMap<String, Arc<PartyEntry>>,
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
            index_party(&self.services, Arc::make_mut(party));
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
            snap.services
                .insert(s.key.clone(), ServiceEntry::from_row(&s, 0));
        }
        for p in parties::table.select(PartyRow::as_select()).load(conn)? {
            snap.parties
                .insert(p.id.clone(), Arc::new(PartyEntry::from_row(&p)));
        }
        // Grants are read a page at a time: the rows are much larger than the entries kept, and
        // a register of a million grants would otherwise sit in memory twice while loading.
        let mut after = String::new();
        loop {
            // Rows are taken one at a time, not collected: each row's strings are freed as soon
            // as its entry is built, which keeps the allocator's free lists short.
            let rows = grants::table
                .filter(grants::id.gt(&after))
                .order(grants::id.asc())
                .limit(GRANT_PAGE)
                .select(GrantColumns::as_select())
                .load_iter::<GrantColumns, diesel::connection::DefaultLoadingMode>(conn)?;
            let mut last = None;
            for g in rows {
                let g = g?;
                let entry = GrantEntry::from_columns(&g, &snap);
                if let Some(party) = snap.parties.get_mut(&g.party_id) {
                    push_grant(Arc::make_mut(party), &g.service, entry);
                }
                last = Some(g.id);
            }
            let Some(last) = last else { break };
            after = last;
        }
        snap.index();
        Ok(snap)
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
        let subjects: Vec<String> = ledger::table
            .filter(ledger::seq.gt(self.revision))
            .filter(ledger::seq.le(revision))
            .filter(ledger::action.ne(DECISION_ACTION))
            .select(ledger::subject)
            .load(conn)?;
        if subjects.len() > INCREMENTAL_LIMIT {
            return Snapshot::load(conn, revision);
        }
        let (mut party_ids, mut grant_ids, mut service_keys) =
            (BTreeSet::new(), Vec::new(), BTreeSet::new());
        for subject in &subjects {
            match subject.split_once(':') {
                Some(("party", id)) => {
                    party_ids.insert(id.to_owned());
                }
                Some(("grant", id)) => grant_ids.push(id.to_owned()),
                Some(("service", key)) => {
                    service_keys.insert(key.to_owned());
                }
                // Taxonomy changes re-intern categories: load everything.
                _ => return Snapshot::load(conn, revision),
            }
        }
        for chunk in grant_ids.chunks(500) {
            let owners: Vec<String> = grants::table
                .filter(grants::id.eq_any(chunk))
                .select(grants::party_id)
                .load(conn)?;
            party_ids.extend(owners);
        }
        let mut next = self.clone();
        next.revision = revision;
        let mut fresh_id = next.services.values().map(|s| s.id + 1).max().unwrap_or(0);
        for key in &service_keys {
            let row: Option<ServiceRow> = services::table
                .find(key)
                .select(ServiceRow::as_select())
                .first(conn)
                .optional()?;
            match row {
                Some(row) => {
                    let id = next.services.get(key).map(|s| s.id).unwrap_or_else(|| {
                        fresh_id += 1;
                        fresh_id - 1
                    });
                    next.services
                        .insert(key.clone(), ServiceEntry::from_row(&row, id));
                }
                None => {
                    next.services.remove(key);
                }
            }
        }
        for id in &party_ids {
            let row: Option<PartyRow> = parties::table
                .find(id)
                .select(PartyRow::as_select())
                .first(conn)
                .optional()?;
            let Some(row) = row else {
                next.parties.remove(id);
                continue;
            };
            let mut party = PartyEntry::from_row(&row);
            let rows: Vec<GrantColumns> = grants::table
                .filter(grants::party_id.eq(id))
                .order(grants::id.asc())
                .select(GrantColumns::as_select())
                .load(conn)?;
            for g in &rows {
                push_grant(&mut party, &g.service, GrantEntry::from_columns(g, &next));
            }
            index_party(&next.services, &mut party);
            next.parties.insert(id.clone(), Arc::new(party));
        }
        Ok(next)
    }

    /// Everything the engine reads, in a canonical text form (sorted, service ids replaced by
    /// keys): two snapshots of the same register have the same fingerprint however they were
    /// built.
    pub fn fingerprint(&self) -> String {
        use std::collections::BTreeMap;
        use std::fmt::Write;
        let service_keys: HashMap<u32, &String> =
            self.services.iter().map(|(k, s)| (s.id, k)).collect();
        let mut out = format!("revision {}\n", self.revision);
        let _ = writeln!(out, "categories {:?}", sorted(&self.categories));
        let _ = writeln!(out, "pii {:?}", self.pii.iter().collect::<BTreeSet<_>>());
        let _ = writeln!(out, "purposes {:?}", sorted(&self.purposes));
        for (key, s) in self.services.iter().collect::<BTreeMap<_, _>>() {
            let _ = writeln!(out, "service {key} {} {:?}", s.active, s.purposes);
        }
        for (id, p) in self.parties.iter().collect::<BTreeMap<_, _>>() {
            let _ = writeln!(out, "party {id} {} {:?}", p.trusted, p.locations);
            let mut by_key: Vec<(&String, &Vec<GrantEntry>)> = p
                .by_service
                .iter()
                .filter_map(|(s, g)| Some((*service_keys.get(s)?, g)))
                .collect();
            by_key.sort_by_key(|(k, _)| *k);
            for (service, grants) in by_key {
                for g in grants {
                    let keys: Vec<&str> = g.category_ids.iter().map(|c| self.key(*c)).collect();
                    let _ = writeln!(
                        out,
                        "  {service} {} {keys:?} {:?} {} {} {:?} {}",
                        g.id,
                        g.regions,
                        g.mechanism_is_pipl,
                        g.valid_from,
                        g.valid_until,
                        g.revoked
                    );
                }
            }
        }
        out
    }
}

fn sorted(m: &HashMap<String, bool>) -> std::collections::BTreeMap<&String, &bool> {
    m.iter().collect()
}

/// The ledger action of a decision: not a register change.
const DECISION_ACTION: &str = "decision.recorded";
/// At most this many register changes are applied one by one; more load the whole register.
pub const INCREMENTAL_LIMIT: usize = 1_000;
/// At most this many ledger entries are scanned for register changes; more load the whole register.
const SCAN_LIMIT: i64 = 200_000;

impl ServiceEntry {
    fn from_row(row: &ServiceRow, id: u32) -> ServiceEntry {
        ServiceEntry {
            active: row.active,
            purposes: text_to_list(&row.purposes),
            id,
        }
    }
}

impl PartyEntry {
    /// The entry for a stored party, without its grants.
    fn from_row(row: &PartyRow) -> PartyEntry {
        PartyEntry {
            trusted: row.status == "trusted",
            data_locations: text_to_list(&row.data_locations),
            ..PartyEntry::default()
        }
    }
}

/// Adds a grant to a party being built (the service key is copied only the first time).
fn push_grant(party: &mut PartyEntry, service: &str, grant: GrantEntry) {
    match party.grants.get_mut(service) {
        Some(list) => list.push(grant),
        None => {
            party.grants.insert(service.to_owned(), vec![grant]);
        }
    }
}

/// Moves a party's grants into their compact form (by interned service id) and its data
/// locations into a set. Grants for a service not in the register can never be used: every
/// decision needs the service known.
fn index_party(services: &HashMap<String, ServiceEntry>, party: &mut PartyEntry) {
    party.locations = Countries::default();
    for c in &party.data_locations {
        party.locations.insert(c);
    }
    for (key, grants) in party.grants.drain() {
        if let Some(service) = services.get(&key) {
            party.by_service.push((service.id, grants));
        }
    }
    party.by_service.sort_unstable_by_key(|(id, _)| *id);
    party.grants.shrink_to_fit();
}

/// Replaces the shared snapshot with `fresh` unless it already reflects a later revision.
pub fn install(slot: &std::sync::RwLock<Arc<Snapshot>>, fresh: Arc<Snapshot>) {
    if let Ok(mut current) = slot.write()
        && current.revision < fresh.revision
    {
        *current = fresh;
    }
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

/// Keeps a node's snapshot following register changes made on any node: PostgreSQL
/// `LISTEN/NOTIFY`, with a periodic revision check in case a notification is lost. Neither is
/// needed for correctness — every decision checks the revision in its own transaction — they
/// only spare the first decision after a change the reload. Runs until the process ends.
pub fn follow(
    database_url: &str,
    pool: crate::db::Pool,
    slot: Arc<std::sync::RwLock<Arc<Snapshot>>>,
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
            let current = slot.read().map(|s| s.clone()).unwrap_or_default();
            let due = newest.is_some_and(|r| r > current.revision)
                || last_check.elapsed() > Duration::from_secs(5);
            if due {
                last_check = Instant::now();
                // The head first: a periodic check that finds nothing new costs one query, not
                // a copy of the snapshot.
                if let Ok(mut conn) = pool.get()
                    && crate::ledger::head(&mut conn).is_ok_and(|h| h.2 > current.revision)
                    && let Ok(fresh) = load_current(&mut conn, &current)
                    && fresh.revision > current.revision
                {
                    install(&slot, Arc::new(fresh));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
