//! Procurement's pages: the vendor list with its filters, and a vendor's page with everything
//! the register knows of it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use super::forms::{Fields, Shown};
use super::layout::{Section, badge, or_none, page, when};
use super::party_forms;
use super::session::Viewer;
use super::{ConsoleError, html as respond};
use crate::api::parties::ListQuery;
use crate::api::state::AppState;
use crate::auth::{AuditRead, DecisionRead, IncidentRead, RegisterRead, RegisterWrite};
use crate::disclosures::incidents::{self, Incident};
use crate::error::DomainError;
use crate::ledger::Subject;
use crate::registry::agreements::{self, Agreement};
use crate::registry::grants::{self, Grant};
use crate::registry::parties::{self, Party, PartyKind, PartyStatus};
use crate::types::Region;

/// The filters of `GET /v1/parties` the list offers.
const FILTERS: [&str; 5] = ["kind", "region", "status", "q", "review_due_before"];

/// The list's filters as a query string carries them; `open_incidents` is the console's own.
fn list_query(fields: &Fields) -> Result<ListQuery, ConsoleError> {
    let mut q = serde_json::Map::new();
    for &name in FILTERS.iter().chain(&["cursor"]) {
        if let Some(v) = fields.get(name) {
            q.insert(name.into(), v.into());
        }
    }
    serde_json::from_value(q.into())
        .map_err(|_| ConsoleError::BadForm("The list's filters are malformed."))
}

struct Listed {
    parties: Vec<(Party, usize)>,
    next: Option<String>,
}

/// `GET /console/parties`: the vendor list.
pub async fn list(
    v: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<RegisterRead>()?;
    let fields = Fields::parse(req.query_string().as_bytes());
    let query = list_query(&fields)?;
    let only_open = fields.get("open_incidents").is_some();
    let filtered = query.filter();
    let listed = match filtered {
        Err(e) => Err(e),
        Ok(mut filter) => {
            let after = query.cursor.clone();
            state
                .read(move |conn| -> Result<Listed, DomainError> {
                    if only_open {
                        filter.ids = Some(incidents::store::parties_with_open(conn)?);
                    }
                    let mut rows = parties::store::list(conn, &filter, after.as_deref(), 51)?;
                    let next = (rows.len() > 50).then(|| rows[49].id.clone());
                    rows.truncate(50);
                    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                    let open = incidents::store::open_counts(conn, &ids)?;
                    let out = rows
                        .into_iter()
                        .map(|row| {
                            let n = open.get(&row.id).copied().unwrap_or(0);
                            (Party::from(row), n)
                        })
                        .collect();
                    Ok(Listed { parties: out, next })
                })
                .await
        }
    };
    let (listed, shown) = match listed {
        Ok(l) => (
            Some(l),
            Shown {
                fields,
                problem: None,
            },
        ),
        Err(e) => (None, Shown::new(fields, e.problem())),
    };
    let status = if shown.problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let content = html! {
        @if v.may::<RegisterWrite>() {
            p { a.button href="/console/parties/new" { "Register a vendor" } " " a href="/console/imports" { "Import vendors and grants from a spreadsheet" } }
        }
        (filters(&shown))
        @if let Some(l) = &listed {
            (table(&l.parties))
            @if let Some(next) = &l.next {
                p { a href={ "/console/parties?" (next_query(&shown.fields, next)) } { "Next page" } }
            }
        }
    };
    Ok(respond(
        status,
        page(&v, Section::Vendors, "Vendors", content),
    ))
}

fn next_query(fields: &Fields, cursor: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for &name in FILTERS.iter().chain(&["open_incidents"]) {
        if let Some(v) = fields.get(name) {
            q.append_pair(name, v);
        }
    }
    q.append_pair("cursor", cursor);
    q.finish()
}

fn filters(shown: &Shown) -> Markup {
    use super::forms::{input, select};
    let mut statuses = vec![("", "Any")];
    statuses.extend(PartyStatus::ALL.iter().map(|s| (s.as_str(), s.as_str())));
    let mut kinds = vec![("", "Any")];
    kinds.extend(PartyKind::ALL.iter().map(|s| (s.as_str(), s.as_str())));
    let mut regions = vec![("", "Any")];
    regions.extend(Region::ALL.iter().map(|s| (s.as_str(), s.as_str())));
    html! {
        form.filters method="get" action="/console/parties" role="search" aria-label="Filter vendors" {
            (shown.summary())
            (input(shown, "Name contains", "q", "search", None))
            (select(shown, "Status", "status", &statuses))
            (select(shown, "Kind", "kind", &kinds))
            (select(shown, "Region", "region", &regions))
            (input(shown, "Review due before", "review_due_before", "date", None))
            div.field {
                label.check {
                    input type="checkbox" name="open_incidents" value="1" checked[shown.fields.get("open_incidents").is_some()];
                    " With open incidents"
                }
            }
            button type="submit" { "Filter" }
        }
    }
}

fn table(parties: &[(Party, usize)]) -> Markup {
    html! {
        @if parties.is_empty() {
            p { "No vendor matches." }
        } @else {
            table {
                caption { "Vendors, oldest first" }
                thead { tr {
                    th scope="col" { "Legal name" } th scope="col" { "Status" } th scope="col" { "Kind" }
                    th scope="col" { "Country" } th scope="col" { "Risk" } th scope="col" { "Review due" }
                    th scope="col" { "Open incidents" }
                } }
                tbody {
                    @for (p, open) in parties {
                        tr {
                            th scope="row" { a href={ "/console/parties/" (p.id) } { (p.legal_name) } }
                            td { (badge(p.status.as_str())) }
                            td { (p.kind.as_str()) }
                            td { (or_none(p.country.as_deref())) }
                            td { (p.risk_tier.as_str()) }
                            td { (or_none(p.next_review_due.as_deref())) }
                            td { (open) }
                        }
                    }
                }
            }
        }
    }
}

/// Everything the vendor page shows, read in one go.
pub struct Dossier {
    pub party: Party,
    pub agreements: Vec<Agreement>,
    pub grants: Vec<Grant>,
    pub incidents: Vec<Incident>,
    pub decisions: Vec<serde_json::Value>,
    pub entries: Vec<crate::ledger::Row>,
    pub services: Vec<String>,
    pub entities: Vec<String>,
    pub categories: Vec<crate::taxonomy::Category>,
}

/// Reads a party's dossier, with only what the viewer's roles may read.
pub async fn dossier(state: &AppState, v: &Viewer, id: String) -> Result<Dossier, ConsoleError> {
    let (decisions, entries, incidents) = (
        v.may::<DecisionRead>(),
        v.may::<AuditRead>(),
        v.may::<IncidentRead>(),
    );
    let now = crate::time::now();
    let at = crate::time::format(now);
    Ok(state
        .read(move |conn| -> Result<Dossier, DomainError> {
            let row = parties::store::find(conn, &id)?.ok_or(DomainError::NotFound)?;
            let mut party = Party::from(row);
            party.open_incidents = incidents::store::open_of_party(conn, &id)?;
            let agreements = agreements::store::of_party(conn, &id, None, None)?
                .into_iter()
                .map(Agreement::from)
                .collect();
            let grants = grants::store::of_party(conn, &id, None, None, None)?
                .into_iter()
                .map(|g| g.view(now))
                .collect();
            let incidents = if incidents {
                let filter = incidents::store::Filter {
                    party_id: Some(id.clone()),
                    status: None,
                };
                incidents::store::list(conn, &filter, None, Some(50))?
                    .into_iter()
                    .map(|i| i.judged_at(&at))
                    .collect()
            } else {
                Vec::new()
            };
            let decisions = if decisions {
                let filter = crate::decision::store::Filter {
                    party_id: Some(id.clone()),
                    ..Default::default()
                };
                crate::decision::store::latest(conn, &filter, None, 10)?
                    .iter()
                    .filter_map(|r| serde_json::from_str(&r.body).ok())
                    .collect()
            } else {
                Vec::new()
            };
            let entries = if entries {
                let subject = Subject::Party(&id).to_string();
                crate::ledger::store::list(conn, 0, None, Some(&subject), 200)?
            } else {
                Vec::new()
            };
            let services = crate::registry::services::store::all(conn)?
                .into_iter()
                .filter(|s| s.active)
                .map(|s| s.key.to_string())
                .collect();
            let entities = crate::registry::entities::all(conn)?
                .into_iter()
                .map(|e| e.key.to_string())
                .collect();
            let categories = crate::taxonomy::store::all_categories(conn)?;
            Ok(Dossier {
                party,
                agreements,
                grants,
                incidents,
                decisions,
                entries,
                services,
                entities,
                categories,
            })
        })
        .await?)
}

/// `GET /console/parties/{id}`: the vendor page.
pub async fn page_of(
    v: &Viewer,
    state: &AppState,
    id: String,
    forms: party_forms::Forms,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<RegisterRead>()?;
    let d = dossier(state, v, id).await?;
    let status = forms.status();
    let title = d.party.legal_name.clone();
    let content = super::party_page::content(v, &d, &forms);
    Ok(respond(status, page(v, Section::Vendors, &title, content)))
}

pub async fn vendor(
    v: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    page_of(&v, &state, path.into_inner(), party_forms::Forms::default()).await
}

pub(super) fn entries_table(entries: &[crate::ledger::Row]) -> Markup {
    html! {
        table {
            caption { "Ledger entries" }
            thead { tr { th scope="col" { "Seq" } th scope="col" { "At" } th scope="col" { "Action" } th scope="col" { "By" } } }
            tbody {
                @for e in entries {
                    tr {
                        td { a href={ "/console/ledger?seq=" (e.seq) } { (e.seq) } }
                        td { (when(&e.at)) }
                        td { code { (e.action) } }
                        td { (actor_of(&e.actor)) }
                    }
                }
            }
        }
    }
}

/// The `sub` of a ledger entry's actor.
pub(super) fn actor_of(actor: &str) -> String {
    serde_json::from_str::<serde_json::Value>(actor)
        .ok()
        .and_then(|a| a.get("sub").and_then(|s| s.as_str()).map(str::to_owned))
        .unwrap_or_else(|| actor.to_owned())
}
