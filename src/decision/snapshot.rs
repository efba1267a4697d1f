//! The register as the decision engine reads it: indexed party → service → grants, tagged with
//! the register revision it reflects. Built by `loading` from the domains' read functions.

use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::registry::grants::store::DecisionColumns;
use crate::registry::parties::{PartyRow, PartyStatus};
use crate::registry::services::ServiceRow;
use crate::transfers::law::{AgreementFacts, EntityFacts, GrantFacts, PartyFacts};
pub use crate::types::Countries;
use crate::types::Region;

#[derive(Debug, Clone, Default)]
pub struct ServiceEntry {
    pub active: bool,
    pub purposes: Vec<String>,
    /// The entities it operates for (the exporters of its shares).
    pub entities: Vec<String>,
    /// Interned id, set by [`Snapshot::index`].
    pub id: u32,
}

#[derive(Debug, Clone, Default)]
pub struct PartyEntry {
    pub trusted: bool,
    /// Its lifecycle status, for the evidence of a denial.
    pub status: Option<PartyStatus>,
    pub data_locations: Vec<String>,
    /// What the transfer regimes read of it, with its agreements.
    pub facts: PartyFacts,
    /// Grants by service key, oldest first, as the snapshot is built: [`Snapshot::index`] moves
    /// them into `by_service`.
    pub grants: HashMap<String, Vec<GrantEntry>>,
    /// `data_locations` as a set, set by [`Snapshot::index`].
    pub locations: Countries,
    /// Grants by interned service id, in id order, set by [`Snapshot::index`]: one contiguous
    /// list to scan instead of a hash table per party.
    pub by_service: Vec<(u32, Vec<GrantEntry>)>,
    /// The parties it passes data on to.
    pub sub_processors: Vec<super::onward::SubEntry>,
}

impl PartyEntry {
    /// `locations` from `data_locations`.
    pub(crate) fn index_locations(&mut self) {
        self.locations = Countries::default();
        for c in &self.data_locations {
            self.locations.insert(c);
        }
    }

    /// The party's grants for a service, oldest first.
    pub fn grants_for(&self, service: u32) -> &[GrantEntry] {
        self.by_service
            .iter()
            .find(|(id, _)| *id == service)
            .map_or(&[], |(_, g)| g.as_slice())
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
    /// Microseconds since the epoch.
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub revoked: bool,
    /// A second person approved it (four eyes); until then it is never relied on.
    pub approved: bool,
    /// What the transfer regimes read of it.
    pub facts: GrantFacts,
}

/// Allowed regions as the engine holds them, indexed PRC, US, OTHER.
pub(crate) fn regions_of(list: impl IntoIterator<Item = Region>) -> [bool; 3] {
    let mut regions = [false; 3];
    for r in list {
        regions[region_index(r)] = true;
    }
    regions
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
    /// their strings. A stored value that does not parse is an error: the snapshot is not built.
    pub(crate) fn from_columns(
        row: &DecisionColumns,
        snap: &Snapshot,
    ) -> diesel::QueryResult<GrantEntry> {
        use std::borrow::Cow;
        let corrupt = |what: &str| {
            diesel::result::Error::DeserializationError(
                format!("grant {}: stored {what} does not parse", row.id).into(),
            )
        };
        let list = |text: &'_ str, what: &str| -> diesel::QueryResult<Vec<Cow<'_, str>>> {
            serde_json::from_str(text).map_err(|_| corrupt(what))
        };
        let regions = regions_of(
            list(&row.allowed_regions, "allowed_regions")?
                .iter()
                .map(|r| Region::parse(r).ok_or_else(|| corrupt("allowed_regions")))
                .collect::<diesel::QueryResult<Vec<Region>>>()?,
        );
        let revoked = match crate::registry::grants::GrantStatus::parse(&row.status) {
            Some(s) => s == crate::registry::grants::GrantStatus::Revoked,
            None => return Err(corrupt("status")),
        };
        let micros = |s: &str| crate::time::parse(s).map(|t| t.timestamp_micros());
        let categories = list(&row.categories, "categories")?;
        Ok(GrantEntry {
            id: row.id.clone(),
            category_ids: snap.ids_of(categories.iter().map(|c| c.as_ref())),
            regions,
            // An unreadable bound fails closed: never valid.
            valid_from: micros(&row.valid_from).unwrap_or(i64::MAX),
            valid_until: row
                .valid_until
                .as_deref()
                .map(|u| micros(u).unwrap_or(i64::MIN)),
            revoked,
            approved: row.approved_at.is_some(),
            facts: GrantFacts {
                agreements: serde_json::from_str(&row.agreements)
                    .map_err(|_| corrupt("agreements"))?,
                exemptions: list(&row.exemptions, "exemptions")?
                    .iter()
                    .map(|e| crate::transfers::Exemption::parse(e).map(|e| 1u8 << e as u8))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| corrupt("exemptions"))?
                    .into_iter()
                    .fold(0, |a, b| a | b),
                pipia: row.pipia_reference.is_some(),
                separate_consent: row.separate_consent,
            },
        })
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
    /// Purposes marked `us_dsp_ancillary`.
    pub ancillary: HashSet<String>,
    /// Category key → (`pipl_sensitive`, DSP classes as bits), for marked keys.
    pub marks: HashMap<String, (bool, u8)>,
    /// The company's entities by key.
    pub entities: HashMap<String, EntityFacts>,
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
    pub pipl_sensitive: bool,
    /// DSP classes as bits.
    pub dsp_classes: u8,
    /// Under `user.contact`, `user.name` or `user.demographic`.
    pub contact_name_or_demographic: bool,
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
                let (pipl_sensitive, dsp_classes) = self.marks.get(k).copied().unwrap_or_default();
                Interned {
                    pii: self.pii.contains(k),
                    linkable: self.categories[k],
                    pipl_sensitive,
                    dsp_classes,
                    contact_name_or_demographic: ["user.contact", "user.name", "user.demographic"]
                        .iter()
                        .any(|root| crate::taxonomy::covers(root, k)),
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
}

impl ServiceEntry {
    pub(crate) fn from_row(row: &ServiceRow, id: u32) -> ServiceEntry {
        ServiceEntry {
            active: row.active,
            purposes: row.purposes.0.clone(),
            entities: row.entities.0.clone(),
            id,
        }
    }
}

impl PartyEntry {
    /// The entry for a stored party, without its grants.
    pub(crate) fn from_row(row: &PartyRow) -> PartyEntry {
        PartyEntry {
            trusted: row.status == PartyStatus::Trusted,
            status: Some(row.status),
            data_locations: row.data_locations.iter().map(|c| c.to_string()).collect(),
            facts: PartyFacts {
                affiliate: row.kind == crate::registry::parties::PartyKind::Affiliate,
                country: row.country.map(|c| c.to_string()),
                principal_place: row.principal_place_of_business.map(|c| c.to_string()),
                ownership: row
                    .ownership
                    .iter()
                    .map(|o| (o.country.clone(), o.percent))
                    .collect(),
                us_dsp_covered: row.us_dsp_covered,
                pipl_restricted: row.pipl_restricted,
                dpf_until: row
                    .dpf_certified_until
                    .as_deref()
                    .and_then(crate::time::parse_date),
                processes_outside_mainland: row.data_locations.iter().any(|c| c.as_str() != "CN"),
                agreements: Vec::new(),
            },
            sub_processors: row
                .sub_processors
                .iter()
                .cloned()
                .map(super::onward::SubEntry::new)
                .collect(),
            ..PartyEntry::default()
        }
    }
}

/// Adds a grant to a party being built (the service key is copied only the first time).
pub(crate) fn push_grant(party: &mut PartyEntry, service: &str, grant: GrantEntry) {
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
pub(crate) fn index_party(services: &HashMap<String, ServiceEntry>, party: &mut PartyEntry) {
    party.index_locations();
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

/// An agreement as the engine reads it. A stored instant that does not parse fails closed.
pub(crate) fn agreement_facts(row: &crate::registry::agreements::AgreementRow) -> AgreementFacts {
    let micros = |s: &str| crate::time::parse(s).map(|t| t.timestamp_micros());
    AgreementFacts {
        id: row.id.clone(),
        exporter: row.exporter.clone(),
        kind: row.kind,
        withdrawn: row.status == crate::transfers::AgreementStatus::Withdrawn,
        valid_from: micros(&row.valid_from).unwrap_or(i64::MAX),
        valid_until: row
            .valid_until
            .as_deref()
            .map(|u| micros(u).unwrap_or(i64::MIN)),
        filing: row.filing_reference.is_some(),
        pipia: row.pipia_reference.is_some(),
        tia: row.tia_reference.is_some(),
    }
}

/// An entity as the engine reads it.
pub(crate) fn entity_facts(row: &crate::registry::entities::EntityRow) -> EntityFacts {
    EntityFacts {
        country: row.country.to_string(),
        ciio: row.ciio,
        active: row.active,
    }
}
