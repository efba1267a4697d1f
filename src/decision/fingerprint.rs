//! A snapshot's fingerprint: everything the engine reads in a canonical text form, so that
//! every test run can check an advanced snapshot against a whole load of the register.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use super::snapshot::{GrantEntry, Snapshot};

impl Snapshot {
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
        let _ = writeln!(
            out,
            "ancillary {:?}",
            self.ancillary.iter().collect::<BTreeSet<_>>()
        );
        let _ = writeln!(
            out,
            "marks {:?}",
            self.marks.iter().collect::<BTreeMap<_, _>>()
        );
        for (key, e) in self.entities.iter().collect::<BTreeMap<_, _>>() {
            let _ = writeln!(out, "entity {key} {e:?}");
        }
        for (key, s) in self.services.iter().collect::<BTreeMap<_, _>>() {
            let _ = writeln!(
                out,
                "service {key} {} {:?} {:?}",
                s.active, s.purposes, s.entities
            );
        }
        for (id, p) in self.parties.iter().collect::<BTreeMap<_, _>>() {
            let _ = writeln!(
                out,
                "party {id} {} {:?} {:?}",
                p.trusted, p.locations, p.facts
            );
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
                        "  {service} {} {keys:?} {:?} {} {:?} {} {:?}",
                        g.id, g.regions, g.valid_from, g.valid_until, g.revoked, g.facts
                    );
                }
            }
        }
        out
    }
}

fn sorted(m: &HashMap<String, bool>) -> BTreeMap<&String, &bool> {
    m.iter().collect()
}
