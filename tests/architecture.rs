//! The shape of the code, checked from its `use` lines and paths rather than by eye: the
//! domains know nothing of HTTP, no two parts import each other (directly or round a circle),
//! every table is queried only by the domain that owns it, and files stay small.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module path of a source file: `src/registry/parties/store.rs` → `registry::parties::store`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .skip(1)
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The registry's parts are units of their own; every other top-level module is one unit.
const REGISTRY_PARTS: [&str; 8] = [
    "parties",
    "entities",
    "agreements",
    "grants",
    "services",
    "lifecycle",
    "checks",
    "export",
];

fn unit_of(module: &[String]) -> String {
    match module {
        [] => "root".into(),
        [first, ..] if first == "main" || first == "cli" => "bin".into(),
        [first, second, ..] if first == "registry" && REGISTRY_PARTS.contains(&second.as_str()) => {
            format!("registry::{second}")
        }
        [first, ..] => first.clone(),
    }
}

/// Every module path a file names through `crate::` or `super::`, braces expanded one level.
fn references(module: &[String], text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &text[i..];
        let start_is_boundary =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let (mut base, skip) = if start_is_boundary && rest.starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else if start_is_boundary && rest.starts_with("super::") {
            // In `a/mod.rs` the file is module `a` itself; `super` is its parent.
            let mut base = module.to_vec();
            let mut skip = 0;
            let mut r = rest;
            while r.starts_with("super::") {
                base.pop();
                skip += "super::".len();
                r = &r["super::".len()..];
            }
            (base, skip)
        } else {
            i += 1;
            continue;
        };
        i += skip;
        let path: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        i += path.len();
        base.extend(
            path.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        if text[i..].starts_with('{') {
            let group: String = text[i + 1..].chars().take_while(|c| *c != '}').collect();
            for item in group.split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if first.is_empty() || first == "self" {
                    out.push(base.clone());
                } else {
                    let mut p = base.clone();
                    p.push(first.to_owned());
                    out.push(p);
                }
            }
        } else {
            out.push(base);
        }
    }
    out
}

struct Source {
    rel: PathBuf,
    module: Vec<String>,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .expect("under the root")
                    .to_path_buf();
                let text = std::fs::read_to_string(&path).expect("source is text");
                out.push(Source {
                    module: module_of(&rel),
                    rel,
                    text,
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    assert!(out.len() > 40, "the sources were found");
    out
}

fn is_http_side(s: &Source) -> bool {
    matches!(unit_of(&s.module).as_str(), "api" | "bin" | "root")
}

/// The unit graph: unit → the units it names.
fn graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in sources {
        let from = unit_of(&s.module);
        for r in references(&s.module, &s.text) {
            let to = unit_of(&r);
            if to != from && to != "root" {
                g.entry(from.clone()).or_default().insert(to);
            }
        }
        g.entry(from).or_default();
    }
    g
}

/// A circle in `g`, if there is one.
fn circle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_owned(), 1);
        path.push(n.to_owned());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = path.iter().position(|p| p == m).unwrap_or(0);
                    let mut c = path[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, g, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_domain_module_knows_http_the_api_error_or_the_app_state() {
    let mut offenders = Vec::new();
    for s in sources().iter().filter(|s| !is_http_side(s)) {
        for word in [
            "crate::api",
            "AppState",
            "ApiError",
            "actix_web",
            "HttpResponse",
        ] {
            if s.text.contains(word) {
                offenders.push(format!("{} names {word}", s.rel.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn no_part_of_the_code_imports_another_round_a_circle() {
    let g = graph(&sources());
    assert!(g.contains_key("registry::parties") && g["api"].contains("registry::lifecycle"));
    assert_eq!(circle(&g), None, "{g:#?}");
}

#[test]
fn every_table_is_queried_only_by_the_domain_that_owns_it() {
    let owners: BTreeMap<&str, &str> = [
        ("parties", "registry::parties"),
        ("grants", "registry::grants"),
        ("services", "registry::services"),
        ("taxonomy_categories", "taxonomy"),
        ("taxonomy_purposes", "taxonomy"),
        ("ledger", "ledger"),
        ("ledger_head", "ledger"),
        ("checkpoints", "ledger"),
        ("ledger_tiles", "ledger"),
        ("cosignatures", "ledger"),
        ("sharing_requests", "decision"),
        ("decision_categories", "decision"),
        ("legal_requests", "disclosures"),
        ("incidents", "disclosures"),
        ("incident_duties", "disclosures"),
        ("entities", "registry::entities"),
        ("agreements", "registry::agreements"),
        ("transfer_volumes", "transfers"),
        ("webhooks", "webhooks"),
        ("webhook_events", "webhooks"),
        ("webhook_deliveries", "webhooks"),
        ("webhook_cursor", "webhooks"),
    ]
    .into();
    let mut offenders = Vec::new();
    let mut seen = BTreeSet::new();
    for s in sources() {
        let unit = unit_of(&s.module);
        for r in references(&s.module, &s.text) {
            if r.first().map(String::as_str) != Some("schema") || unit == "schema" {
                continue;
            }
            let Some(table) = r.get(1) else { continue };
            seen.insert(table.clone());
            match owners.get(table.as_str()) {
                Some(owner) if *owner == unit => {}
                Some(owner) => offenders.push(format!(
                    "{} ({unit}) queries {table}, owned by {owner}",
                    s.rel.display()
                )),
                None => offenders.push(format!("{}: {table} has no owner", s.rel.display())),
            }
        }
    }
    assert_eq!(seen.len(), owners.len(), "every table is reached: {seen:?}");
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn files_stay_small() {
    let mut sizes: Vec<(usize, String)> = sources()
        .iter()
        .filter(|s| s.module.last().is_none_or(|m| m != "tests"))
        .map(|s| (s.text.lines().count(), s.rel.display().to_string()))
        .collect();
    sizes.sort();
    let large: Vec<_> = sizes.iter().filter(|(n, _)| *n > 400).collect();
    assert!(large.is_empty(), "over 400 lines: {large:?}");
    let median = sizes[sizes.len() / 2].0;
    assert!(median < 200, "median {median} lines");
}

#[test]
fn the_checks_see_what_they_look_for() {
    let module: Vec<String> = vec!["registry".into(), "grants".into(), "commands".into()];
    let refs = references(
        &module,
        "use super::{Draft, store};\nuse crate::registry::parties::{self, PartyStatus};\nx.supercrate::no",
    );
    let units: BTreeSet<String> = refs.iter().map(|r| unit_of(r)).collect();
    assert_eq!(
        units,
        ["registry::grants", "registry::parties"]
            .map(String::from)
            .into()
    );
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default();
    assert_eq!(circle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        circle(&g),
        Some(["a", "b", "c", "a"].map(String::from).to_vec())
    );
}
