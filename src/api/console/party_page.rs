//! The vendor page: facts, lifecycle, agreements, grants by service, sub-processors, incidents,
//! recent decisions and the ledger entries behind them — each part only for the roles the API
//! would let read it, each button only for the roles (and the person) the command would allow.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::forms::{Shown, checkboxes, csrf, input, select};
use super::layout::{badge, or_none, when};
use super::parties::{Dossier, entries_table};
use super::party_forms::{Forms, regions};
use super::session::Viewer;
use crate::auth::{AuditRead, DecisionRead, IncidentRead, RegisterWrite};
use crate::registry::grants::{Effective, Grant};
use crate::registry::parties::PartyStatus;
use crate::taxonomy::Category;
use crate::transfers::AgreementKind;

pub fn content(v: &Viewer, d: &Dossier, forms: &Forms) -> Markup {
    let p = &d.party;
    let writes = v.may::<RegisterWrite>() && p.status != PartyStatus::Offboarded;
    html! {
        p { (badge(p.status.as_str())) " " (p.kind.as_str()) " · registered by " (p.created_by) " on " (when(&p.created_at)) }
        @if writes { p { a.button href={ "/console/parties/" (p.id) "/edit" } { "Edit the record" } } }
        @if let Some(r) = &p.status_reason { p { "Status reason: " (r) } }
        section aria-labelledby="facts" {
            h2 #facts { "Facts" }
            dl.facts {
                dt { "Country" } dd { (or_none(p.country.as_deref())) }
                dt { "Region" } dd { (or_none(p.region.map(|r| r.as_str()))) }
                dt { "Principal place of business" } dd { (or_none(p.principal_place_of_business.as_deref())) }
                dt { "Processing countries" } dd { (p.data_locations.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")) }
                dt { "Risk tier" } dd { (p.risk_tier.as_str()) }
                dt { "Next review due" } dd { (or_none(p.next_review_due.as_deref())) }
                dt { "Contract reference" } dd { (or_none(p.contract_reference.as_deref())) }
                dt { "Privacy contact" } dd { (p.contact_email) }
                dt { "Privacy policy" } dd {
                    // A link only for https (what the API accepts); anything else read from
                    // upstream lists is shown as text, never followed.
                    @if p.privacy_policy_url.starts_with("https://") { a href=(p.privacy_policy_url) rel="noreferrer noopener" { (p.privacy_policy_url) } }
                    @else { (p.privacy_policy_url) }
                }
                dt { "External reference" } dd { (or_none(p.external_ref.as_deref())) }
                dt { "US Data Security Program covered person" } dd { (if p.us_dsp_covered { "yes" } else { "no" }) }
                dt { "On the CAC's restricted list (PIPL Art. 42)" } dd { (if p.pipl_restricted { "yes" } else { "no" }) }
                dt { "EU-US DPF certified until" } dd { (or_none(p.dpf_certified_until.as_deref())) }
                dt { "Ownership" } dd {
                    @if p.ownership.is_empty() { span aria-label="none" { "—" } }
                    @for o in &p.ownership { (o.country) " " (o.percent) " % " }
                }
                dt { "Open incidents" } dd { (p.open_incidents.len()) }
                dt { "Version" } dd { (p.version) }
            }
        }
        @if writes { (lifecycle(v, d, &forms.status)) }
        (agreements(v, d, writes, &forms.agreement))
        (grants(v, d, writes, forms))
        (sub_processors(d))
        @if v.may::<IncidentRead>() { (incidents(d)) }
        @if v.may::<DecisionRead>() { (decisions(d)) }
        @if v.may::<AuditRead>() {
            section aria-labelledby="ledger" {
                h2 #ledger { "Ledger entries of this vendor" }
                (entries_table(&d.entries))
            }
        }
    }
}

fn lifecycle(v: &Viewer, d: &Dossier, shown: &Shown) -> Markup {
    let p = &d.party;
    let registrant = p.created_by == v.principal.sub;
    let mut next: Vec<(&str, &str)> = Vec::new();
    match p.status {
        PartyStatus::PendingReview if !registrant => next.push(("trusted", "Trust it")),
        PartyStatus::Suspended => next.push(("trusted", "Trust it again")),
        PartyStatus::Trusted => next.push(("suspended", "Suspend it")),
        _ => {}
    }
    next.push(("offboarded", "Offboard it (final: revokes every grant)"));
    html! {
        section aria-labelledby="lifecycle" {
            h2 #lifecycle { "Lifecycle" }
            @if p.status == PartyStatus::PendingReview && registrant {
                p.note { "You registered this vendor: someone else must review and trust it (four eyes)." }
            }
            form method="post" action={ "/console/parties/" (p.id) "/status" } {
                (csrf(&v.csrf))
                input type="hidden" name="version" value=(p.version);
                (shown.summary())
                (select(shown, "New status", "status", &next))
                (input(shown, "Reason", "reason", "text", Some("Kept as the status reason and in the ledger")))
                button type="submit" { "Change status" }
            }
        }
    }
}

fn agreements(v: &Viewer, d: &Dossier, writes: bool, shown: &Shown) -> Markup {
    let kinds: Vec<(&str, &str)> = AgreementKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.as_str()))
        .collect();
    let exporters: Vec<(&str, &str)> = d
        .entities
        .iter()
        .map(|e| (e.as_str(), e.as_str()))
        .collect();
    html! {
        section aria-labelledby="agreements" {
            h2 #agreements { "Agreements" }
            @if d.agreements.is_empty() { p { "No agreement recorded." } } @else {
                table {
                    caption { "Agreements with their validity" }
                    thead { tr { th scope="col" { "Kind" } th scope="col" { "Reference" } th scope="col" { "Exporter" } th scope="col" { "Valid from" } th scope="col" { "Valid until" } th scope="col" { "Status" } } }
                    tbody { @for a in &d.agreements { tr {
                        td { (a.kind.as_str()) } td { (a.reference) } td { (a.exporter) }
                        td { (when(&a.valid_from)) } td { @if let Some(u) = &a.valid_until { (when(u)) } @else { "open-ended" } }
                        td { (badge(a.status.as_str())) }
                    } } }
                }
            }
            @if writes {
                details open[shown.problem.is_some()] {
                    summary { "Record an agreement" }
                    form method="post" action={ "/console/parties/" (d.party.id) "/agreements" } novalidate {
                        (csrf(&v.csrf))
                        (shown.summary())
                        (select(shown, "Exporter (our entity)", "exporter", &exporters))
                        (select(shown, "Kind", "kind", &kinds))
                        (input(shown, "Reference", "reference", "text", None))
                        (input(shown, "Valid from", "valid_from", "text", Some("RFC 3339, e.g. 2026-01-01T00:00:00Z")))
                        (input(shown, "Valid until", "valid_until", "text", Some("RFC 3339; empty for open-ended")))
                        (input(shown, "Filing reference", "filing_reference", "text", None))
                        (input(shown, "PIPIA reference", "pipia_reference", "text", None))
                        (input(shown, "TIA reference", "tia_reference", "text", None))
                        button type="submit" { "Record agreement" }
                    }
                }
            }
        }
    }
}

fn grants(v: &Viewer, d: &Dossier, writes: bool, forms: &Forms) -> Markup {
    let mut by_service: BTreeMap<&str, Vec<&Grant>> = BTreeMap::new();
    for g in &d.grants {
        by_service.entry(g.service.as_str()).or_default().push(g);
    }
    html! {
        section aria-labelledby="grants" {
            h2 #grants { "Grants by service" }
            (forms.approve.summary())
            @if by_service.is_empty() { p { "No grant." } }
            @for (service, list) in &by_service {
                table {
                    caption { "Service " code { (service) } }
                    thead { tr { th scope="col" { "Categories" } th scope="col" { "Regions" } th scope="col" { "Valid" } th scope="col" { "Effective" } th scope="col" { "Asked by" } th scope="col" { "Approved by" } } }
                    tbody { @for g in list { tr {
                        td { (g.categories.join(", ")) }
                        td { (g.allowed_regions.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")) }
                        td { (when(&g.valid_from)) " – " @if let Some(u) = &g.valid_until { (when(u)) } @else { "open-ended" } }
                        td { (badge(g.effective.as_str())) }
                        td { (g.requested_by) }
                        td {
                            @if let Some(by) = &g.approved_by { (by) }
                            @else if writes && g.effective == Effective::PendingApproval && g.requested_by != v.principal.sub {
                                form method="post" action={ "/console/grants/" (g.id) "/approve" } {
                                    (csrf(&v.csrf))
                                    input type="hidden" name="version" value=(g.version);
                                    button type="submit" aria-label={ "Approve the grant of " (g.categories.join(", ")) " for " (service) } { "Approve" }
                                }
                            }
                            @else if g.effective == Effective::PendingApproval { span.note { "Waits for someone other than " (g.requested_by) } }
                            @else { span aria-label="none" { "—" } }
                        }
                    } } }
                }
            }
            @if writes { (grant_form(v, d, &forms.grant)) }
        }
    }
}

fn grant_form(v: &Viewer, d: &Dossier, shown: &Shown) -> Markup {
    let services: Vec<(&str, &str)> = d
        .services
        .iter()
        .map(|s| (s.as_str(), s.as_str()))
        .collect();
    let agreements: Vec<(String, String)> = d
        .agreements
        .iter()
        .map(|a| (a.id.clone(), format!("{} {}", a.kind.as_str(), a.reference)))
        .collect();
    let agreements: Vec<(&str, &str)> = agreements
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    html! {
        details open[shown.problem.is_some()] {
            summary { "Grant a scope" }
            form method="post" action={ "/console/parties/" (d.party.id) "/grants" } novalidate {
                (csrf(&v.csrf))
                (shown.summary())
                (select(shown, "Service", "service", &services))
                (category_picker(shown, &d.categories))
                (checkboxes(shown, "Regions it may receive in", "allowed_regions", &regions()))
                @if !agreements.is_empty() { (checkboxes(shown, "Agreements behind it", "agreements", &agreements)) }
                (input(shown, "Legal basis", "legal_basis", "text", None))
                (input(shown, "PIPIA reference", "pipia_reference", "text", Some("PIPL Art. 55; needed for a share under the PRC regime")))
                div.field { label.check { input type="checkbox" name="separate_consent" value="true" checked[shown.fields.get("separate_consent").is_some()]; " Separate consent obtained (PIPL Art. 39)" } }
                (input(shown, "Valid from", "valid_from", "text", Some("RFC 3339; empty for now")))
                (input(shown, "Valid until", "valid_until", "text", Some("RFC 3339; empty for open-ended")))
                button type="submit" { "Ask for the grant" }
                p.note { "A new grant waits for a second person's approval before it decides anything." }
            }
        }
    }
}

/// The taxonomy as a tree of checkboxes, with a search box the console's script wires up.
pub(super) fn category_picker(shown: &Shown, categories: &[Category]) -> Markup {
    let mut children: BTreeMap<Option<&str>, Vec<&Category>> = BTreeMap::new();
    for c in categories {
        children.entry(c.parent.as_deref()).or_default().push(c);
    }
    fn level(
        shown: &Shown,
        children: &BTreeMap<Option<&str>, Vec<&Category>>,
        parent: Option<&str>,
    ) -> Markup {
        html! {
            @if let Some(list) = children.get(&parent) {
                ul.tree {
                    @for c in list {
                        li data-key=(c.key) {
                            label.check {
                                input type="checkbox" name="categories" value=(c.key) checked[shown.fields.has("categories", &c.key)];
                                " " (c.name) " " code { (c.key) }
                            }
                            (level(shown, children, Some(&c.key)))
                        }
                    }
                }
            }
        }
    }
    let errors = shown.errors_of("categories");
    html! {
        fieldset.field.picker id="f-categories" {
            legend { "Data categories (each covers those below it)" }
            @if !errors.is_empty() {
                span.error id="e-categories" { @for e in &errors { (e.message) " " } }
            }
            div.field {
                label for="category-search" { "Search categories" }
                input #category-search type="search" data-filter="category-tree" autocomplete="off";
            }
            div #category-tree { (level(shown, &children, None)) }
        }
    }
}

fn sub_processors(d: &Dossier) -> Markup {
    html! {
        section aria-labelledby="subs" {
            h2 #subs { "Sub-processors" }
            @if d.party.sub_processors.is_empty() { p { "None declared." } } @else {
                table {
                    caption { "Sub-processors it passes data to" }
                    thead { tr { th scope="col" { "Party" } th scope="col" { "Categories" } th scope="col" { "Services" } th scope="col" { "Countries" } th scope="col" { "Authorised on" } } }
                    tbody { @for s in &d.party.sub_processors { tr {
                        td { a href={ "/console/parties/" (s.party_id) } { (s.party_id) } }
                        td { (s.categories.join(", ")) }
                        td { @if s.services.is_empty() { "all" } @else { (s.services.join(", ")) } }
                        td { (s.countries.join(", ")) }
                        td { (or_none(s.authorised_on.as_deref())) }
                    } } }
                }
            }
        }
    }
}

fn incidents(d: &Dossier) -> Markup {
    html! {
        section aria-labelledby="incidents" {
            h2 #incidents { "Incidents" }
            @if d.incidents.is_empty() { p { "No incident." } } @else {
                ul { @for i in &d.incidents {
                    li { a href={ "/console/incidents/" (i.id) } { (i.title) } " " (badge(i.status.as_str())) " " (i.severity.as_str()) }
                } }
            }
        }
    }
}

fn decisions(d: &Dossier) -> Markup {
    html! {
        section aria-labelledby="decisions" {
            h2 #decisions { "Recent decisions" }
            @if d.decisions.is_empty() { p { "No decision yet." } } @else {
                ul { @for dec in &d.decisions {
                    @let id = dec["id"].as_str().unwrap_or_default();
                    li {
                        a href={ "/console/decisions/" (id) } { (dec["decided_at"].as_str().unwrap_or_default()) }
                        " " (dec["service"].as_str().unwrap_or_default()) " " (badge(dec["outcome"].as_str().unwrap_or_default()))
                    }
                } }
            }
        }
    }
}
