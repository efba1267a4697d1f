//! The frame of every console page: the skip link, the navigation the viewer's roles allow, the
//! sign-out form, and the page's heading.

use maud::{DOCTYPE, Markup, html};

use super::forms::csrf;
use super::session::Viewer;
use crate::auth::{
    AuditRead, DecisionRead, DisclosureRead, EvaluateShare, IncidentRead, Policy, RegisterRead,
};

/// A section of the console, for the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Home,
    Vendors,
    Evaluate,
    Incidents,
    Legal,
    Decisions,
    Ledger,
}

struct Item {
    section: Section,
    href: &'static str,
    text: &'static str,
    allowed: fn(&Viewer) -> bool,
}

fn allowed<P: Policy>(v: &Viewer) -> bool {
    v.may::<P>()
}

const ITEMS: &[Item] = &[
    Item {
        section: Section::Home,
        href: "/console",
        text: "Home",
        allowed: |_| true,
    },
    Item {
        section: Section::Vendors,
        href: "/console/parties",
        text: "Vendors",
        allowed: allowed::<RegisterRead>,
    },
    Item {
        section: Section::Evaluate,
        href: "/console/evaluate",
        text: "Would this be approved?",
        allowed: allowed::<EvaluateShare>,
    },
    Item {
        section: Section::Incidents,
        href: "/console/incidents",
        text: "Incidents",
        allowed: allowed::<IncidentRead>,
    },
    Item {
        section: Section::Legal,
        href: "/console/legal-requests",
        text: "Legal requests",
        allowed: allowed::<DisclosureRead>,
    },
    Item {
        section: Section::Decisions,
        href: "/console/decisions",
        text: "Decisions",
        allowed: allowed::<DecisionRead>,
    },
    Item {
        section: Section::Ledger,
        href: "/console/ledger",
        text: "Ledger",
        allowed: allowed::<AuditRead>,
    },
];

/// The sections a viewer may open, with their links: the home page lists them too.
pub fn sections(v: &Viewer) -> Vec<(&'static str, &'static str)> {
    ITEMS
        .iter()
        .filter(|i| i.section != Section::Home && (i.allowed)(v))
        .map(|i| (i.href, i.text))
        .collect()
}

/// The document around a page's content.
pub fn document(title: &str, header: Markup, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false}"#;
                title { (title) " · vendor-registry console" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/htmx.min.js" defer {}
                script src="/console/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                (header)
                main #main tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// A page for a signed-in viewer, in `section`.
pub fn page(v: &Viewer, section: Section, title: &str, content: Markup) -> Markup {
    let header = html! {
        header.top {
            span.brand { "vendor-registry" }
            nav aria-label="Console" {
                ul {
                    @for item in ITEMS.iter().filter(|i| (i.allowed)(v)) {
                        li {
                            a href=(item.href) aria-current=[(item.section == section).then_some("page")] { (item.text) }
                        }
                    }
                }
            }
            form.signout method="post" action="/console/sign-out" {
                (csrf(&v.csrf))
                span { "Signed in as " strong { (v.principal.sub) } " (" (roles(v)) ")" }
                " "
                button type="submit" { "Sign out" }
            }
        }
    };
    document(title, header, content)
}

/// The viewer's roles, as the token names them.
pub fn roles(v: &Viewer) -> String {
    v.principal
        .roles
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A status as a badge whose text says it (colour only repeats it).
pub fn badge(text: &str) -> Markup {
    html! { span class={ "badge b-" (text) } { (text.replace('_', " ")) } }
}

/// `2026-12-03T10:00:00.000000Z` shown to the minute, UTC.
pub fn when(ts: &str) -> Markup {
    let short = ts.get(..16).unwrap_or(ts).replace('T', " ");
    html! { time datetime=(ts) { (short) " UTC" } }
}

/// An optional value, or a dash that screen readers read as "none".
pub fn or_none(value: Option<&str>) -> Markup {
    match value {
        Some(v) if !v.is_empty() => html! { (v) },
        _ => html! { span aria-label="none" { "—" } },
    }
}
