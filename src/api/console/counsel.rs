//! Counsel's pages: incidents with their duties' deadlines (overdue first), an incident's
//! exposure as a table and a CSV, opening an incident, and the legal requests.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::forms::{Shape, Shown, checkboxes, csrf, input, json, select};
use super::layout::{Section, badge, or_none, page, when};
use super::session::{Posted, Viewer};
use super::{ConsoleError, html as respond, redirect};
use crate::api::error::ApiError;
use crate::api::extract::parse_value;
use crate::api::incidents::{NewIncident, draft, exposure_csv, settings};
use crate::api::state::AppState;
use crate::auth::{DisclosureRead, DisclosureWrite, IncidentRead};
use crate::disclosures::Filed;
use crate::disclosures::incidents::{Incident, Severity, commands, exposure, store};
use crate::disclosures::legal::{self, LegalRequest};
use crate::error::DomainError;
use crate::registry::parties;

fn now() -> String {
    crate::time::format(crate::time::now())
}

struct Desk {
    incidents: Vec<Incident>,
    parties: Vec<(String, String)>,
}

/// The incidents, overdue duties first, then the open before the closed, newest first.
async fn desk(state: &AppState) -> Result<Desk, ConsoleError> {
    let at = now();
    Ok(state
        .read(move |conn| -> Result<Desk, DomainError> {
            let mut incidents: Vec<Incident> =
                store::list(conn, &store::Filter::default(), None, None)?
                    .into_iter()
                    .map(|i| i.judged_at(&at))
                    .collect();
            incidents.reverse();
            incidents.sort_by_key(|i| (i.overdue_duties == 0, i.closed_at.is_some()));
            let mut parties: Vec<(String, String)> =
                parties::store::list(conn, &parties::store::Filter::default(), None, 1000)?
                    .into_iter()
                    .map(|p| (p.id, p.legal_name))
                    .collect();
            parties.sort_by(|a, b| a.1.cmp(&b.1));
            Ok(Desk { incidents, parties })
        })
        .await?)
}

fn open_form(v: &Viewer, parties: &[(String, String)], shown: &Shown) -> Markup {
    let parties: Vec<(&str, &str)> = parties
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let severities: Vec<(&str, &str)> = Severity::ALL
        .iter()
        .map(|s| (s.as_str(), s.as_str()))
        .collect();
    html! {
        details open[shown.problem.is_some()] {
            summary { "Open an incident" }
            form method="post" action="/console/incidents" novalidate {
                (csrf(&v.csrf))
                (shown.summary())
                (select(shown, "Vendor", "party_id", &parties))
                (input(shown, "Title", "title", "text", None))
                (input(shown, "Became aware at", "became_aware_at", "text", Some("RFC 3339, e.g. 2026-12-01T08:00:00Z: the duties' clocks run from here")))
                (input(shown, "Occurred from", "occurred_from", "text", Some("RFC 3339, as far as known")))
                (select(shown, "Severity", "severity", &severities))
                (input(shown, "Categories affected", "categories", "text", Some("Taxonomy keys separated by commas, e.g. user.contact.email")))
                (input(shown, "Exposure from", "exposure_from", "text", Some("RFC 3339; empty: from the vendor's first decision")))
                (input(shown, "Description", "description", "text", Some("What happened (no personal data)")))
                (checkboxes(shown, "Suspension", "no_suspend", &[("1", "Do not suspend the vendor")]))
                (input(shown, "Why not suspend", "no_suspend_reason", "text", None))
                button type="submit" { "Open the incident" }
                p.note { "A trusted vendor is suspended in the same step, so the very next decision for it is denied." }
            }
        }
    }
}

fn incidents_page(v: &Viewer, d: &Desk, shown: &Shown, status: StatusCode) -> HttpResponse {
    let content = html! {
        @if v.may::<DisclosureWrite>() { (open_form(v, &d.parties, shown)) }
        @if d.incidents.is_empty() { p { "No incident recorded." } } @else {
            table {
                caption { "Incidents, overdue duties first" }
                thead { tr { th scope="col" { "Title" } th scope="col" { "Vendor" } th scope="col" { "Severity" } th scope="col" { "Status" } th scope="col" { "Became aware" } th scope="col" { "Overdue duties" } th scope="col" { "Next deadline" } } }
                tbody { @for i in &d.incidents { tr {
                    th scope="row" { a href={ "/console/incidents/" (i.id) } { (i.title) } }
                    td { a href={ "/console/parties/" (i.party_id) } { (d.parties.iter().find(|p| p.0 == i.party_id).map_or(i.party_id.as_str(), |p| p.1.as_str())) } }
                    td { (i.severity.as_str()) }
                    td { (badge(i.status.as_str())) }
                    td { (when(&i.became_aware_at)) }
                    td { @if i.overdue_duties > 0 { strong.overdue { (i.overdue_duties) " overdue" } } @else { "0" } }
                    td { (next_deadline(i)) }
                } } }
            }
        }
    };
    respond(status, page(v, Section::Incidents, "Incidents", content))
}

fn next_deadline(i: &Incident) -> Markup {
    let next = i
        .duties
        .iter()
        .filter(|d| d.done_at.is_none())
        .filter_map(|d| d.due_at.as_deref())
        .min();
    match next {
        Some(due) => when(due),
        None => or_none(None),
    }
}

/// `GET /console/incidents`.
pub async fn incidents(
    v: Viewer,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<IncidentRead>()?;
    let d = desk(&state).await?;
    Ok(incidents_page(&v, &d, &Shown::default(), StatusCode::OK))
}

/// `POST /console/incidents`: `POST /v1/incidents`.
pub async fn open_incident(
    p: Posted,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    p.viewer.require::<DisclosureWrite>()?;
    let mut body = json(
        &p.fields,
        &[
            ("party_id", Shape::Text),
            ("title", Shape::Text),
            ("became_aware_at", Shape::Text),
            ("occurred_from", Shape::Text),
            ("severity", Shape::Text),
            ("categories", Shape::Required),
            ("exposure_from", Shape::Text),
            ("description", Shape::Text),
            ("no_suspend_reason", Shape::Text),
        ],
    );
    if p.fields.get("no_suspend").is_some() {
        body["suspend"] = false.into();
    }
    let (actor, settings) = (p.viewer.principal.clone(), settings(&state));
    let filed = state
        .write(move |conn| {
            commands::open(conn, &actor, settings, None, || {
                draft(parse_value::<NewIncident>(&body)?)
            })
        })
        .await;
    match filed {
        Ok(Filed::New(i) | Filed::Replayed(i)) => {
            Ok(redirect(&format!("/console/incidents/{}", i.id)))
        }
        Err(e) => {
            use actix_web::ResponseError;
            let d = desk(&state).await?;
            Ok(incidents_page(
                &p.viewer,
                &d,
                &Shown::new(p.fields, e.problem()),
                e.status_code(),
            ))
        }
    }
}

/// `GET /console/incidents/{id}`: the incident, its duties, its vendor's state, its exposure.
pub async fn incident(
    v: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<IncidentRead>()?;
    let id = path.into_inner();
    let exposed = v.may::<DisclosureRead>();
    let at = now();
    let (i, party, e) = state
        .read(move |conn| -> Result<_, DomainError> {
            let i = store::find(conn, &id)?
                .ok_or(DomainError::NotFound)?
                .judged_at(&at);
            let party = parties::store::find(conn, &i.party_id)?.ok_or(DomainError::NotFound)?;
            let e = if exposed {
                Some(exposure::of(conn, &i, &at)?)
            } else {
                None
            };
            Ok((i, party, e))
        })
        .await?;
    let content = html! {
        p { (badge(i.status.as_str())) " " (i.severity.as_str()) " at " a href={ "/console/parties/" (party.id) } { (party.legal_name) } }
        section aria-labelledby="vendor" {
            h2 #vendor { "The vendor now" }
            p { (party.legal_name) " is " (badge(party.status.as_str())) @if let Some(r) = &party.status_reason { " (" (r) ")" } "." }
            p { @if i.suspension.done { "This incident suspended it." } @else { "Not suspended by this incident: " (i.suspension.reason) } }
        }
        section aria-labelledby="duties" {
            h2 #duties { "Duties" }
            table {
                caption { "What the law requires, and by when" }
                thead { tr { th scope="col" { "Rule" } th scope="col" { "To" } th scope="col" { "Due" } th scope="col" { "Status" } } }
                tbody { @for d in &i.duties { tr {
                    td { (d.rule) } td { (d.addressee.as_str().replace('_', " ")) }
                    td { @if let Some(due) = &d.due_at { (when(due)) } @else { "without undue delay" } @if d.overdue { " " strong.overdue { "overdue" } } }
                    td { (badge(d.status.as_str())) }
                } } }
            }
        }
        @if let Some(e) = &e { (exposure_table(&i.id, e)) }
    };
    Ok(respond(
        StatusCode::OK,
        page(&v, Section::Incidents, &i.title, content),
    ))
}

fn exposure_table(id: &str, e: &exposure::Exposure) -> Markup {
    html! {
        section aria-labelledby="exposure" {
            h2 #exposure { "Exposure" }
            p { (e.decisions) " approved decisions sent data to the vendor " @if let Some(f) = &e.from { "from " (when(f)) " " } "until " (when(&e.until)) ". " a href={ "/console/incidents/" (id) "/exposure.csv" } download { "Download as CSV" } }
            @if !e.groups.is_empty() {
                table {
                    caption { "What was shared, by service, category, subjects' country and exporter" }
                    thead { tr { th scope="col" { "Service" } th scope="col" { "Category" } th scope="col" { "Subjects' country" } th scope="col" { "Exporter" } th scope="col" { "Decisions" } th scope="col" { "People" } } }
                    tbody { @for g in &e.groups { tr {
                        td { (g.service) } td { (g.category) } td { (or_none(g.subject_country.as_deref())) }
                        td { (or_none(g.exporter.as_deref())) } td { (g.decisions) }
                        td { @if let Some(n) = g.subject_count { (n) } @else { (or_none(None)) } }
                    } } }
                }
            }
        }
    }
}

/// `GET /console/incidents/{id}/exposure.csv`: the API's CSV of the exposure.
pub async fn exposure_csv_of(
    v: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<DisclosureRead>()?;
    let id = path.into_inner();
    let at = now();
    let e = state
        .read(move |conn| -> Result<_, DomainError> {
            let i = store::find(conn, &id)?.ok_or(DomainError::NotFound)?;
            exposure::of(conn, &i, &at).map_err(Into::into)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"exposure-{}.csv\"", e.incident_id),
        ))
        .body(exposure_csv(&e)))
}

/// `GET /console/legal-requests`.
pub async fn legal_requests(
    v: Viewer,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<DisclosureRead>()?;
    let mut list: Vec<LegalRequest> = state
        .read(|conn| -> Result<Vec<LegalRequest>, DomainError> {
            legal::store::list(conn, &legal::store::Filter::default(), None, None)?
                .iter()
                .map(legal::store::Row::request)
                .collect()
        })
        .await
        .map_err(|e: ApiError| ConsoleError::Api(e))?;
    list.reverse();
    list.sort_by_key(|r| r.closed_at.is_some());
    let content = html! {
        @if list.is_empty() { p { "No legal request recorded." } } @else {
            table {
                caption { "Legal requests, open first, newest first" }
                thead { tr { th scope="col" { "Reference" } th scope="col" { "Authority" } th scope="col" { "Instrument" } th scope="col" { "Received" } th scope="col" { "Gates" } th scope="col" { "Status" } th scope="col" { "Subjects told by" } } }
                tbody { @for r in &list { tr {
                    td { (r.reference) }
                    td { (r.authority_name) " (" (r.authority_country) ")" }
                    td { (r.instrument.as_str().replace('_', " ")) }
                    td { (when(&r.received_at)) }
                    td { (badge(r.outcome.as_str())) }
                    td { (badge(r.status.as_str())) }
                    td { @if let Some(n) = &r.notified_at { "told " (when(n)) } @else if let Some(d) = &r.delayed_until { "delayed until " (when(d)) } @else { (or_none(None)) } }
                } } }
            }
        }
    };
    Ok(respond(
        StatusCode::OK,
        page(&v, Section::Legal, "Legal requests", content),
    ))
}
