//! Auditors' pages: the decision log with its filters, a decision with its reasons and its
//! ledger proof, and the ledger — its head, checkpoints and witnesses, a full verification on
//! demand, entries by subject, and the transfer volumes against their thresholds.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde_json::Value;

use super::evaluate::rule_of;
use super::forms::{Fields, Shown, input, select};
use super::layout::{Section, badge, page, when};
use super::parties::entries_table;
use super::session::Viewer;
use super::{ConsoleError, html as respond};
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::auth::{AuditRead, DecisionRead, TransferRead};
use crate::error::DomainError;
use crate::ledger::proofs::{self, InclusionProof};

const PAGE: i64 = 50;

/// `GET /console/decisions`: newest first, filtered as `GET /v1/sharing-requests` filters.
pub async fn decisions(
    v: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<DecisionRead>()?;
    let fields = Fields::parse(req.query_string().as_bytes());
    let own = |n: &str| fields.get(n).map(str::to_owned);
    let filter = crate::api::sharing::filter(
        &v.principal,
        own("service"),
        own("party_id"),
        own("outcome"),
        fields.get("from"),
        fields.get("to"),
    );
    let before = own("before");
    let listed = match filter {
        Err(e) => Err(e),
        Ok(None) => Ok(Vec::new()),
        Ok(Some(filter)) => {
            state
                .read(move |conn| {
                    let rows =
                        crate::decision::store::latest(conn, &filter, before.as_deref(), PAGE + 1)?;
                    rows.into_iter()
                        .map(|r| serde_json::from_str::<Value>(&r.body).map_err(ApiError::from))
                        .collect::<Result<Vec<Value>, ApiError>>()
                })
                .await
        }
    };
    let (mut rows, shown) = match listed {
        Ok(rows) => (
            rows,
            Shown {
                fields,
                problem: None,
            },
        ),
        Err(e) => (Vec::new(), Shown::new(fields, e.problem())),
    };
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let status = if shown.problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let content = html! {
        (filters(&shown))
        @if rows.is_empty() { p { "No decision matches." } } @else {
            table {
                caption { "Decisions, newest first" }
                thead { tr { th scope="col" { "Decided" } th scope="col" { "Service" } th scope="col" { "Vendor" } th scope="col" { "Purpose" } th scope="col" { "Outcome" } th scope="col" { "Reasons" } th scope="col" { "Ledger seq" } } }
                tbody { @for d in &rows { tr {
                    td { a href={ "/console/decisions/" (d["id"].as_str().unwrap_or_default()) } { (when(d["decided_at"].as_str().unwrap_or_default())) } }
                    td { (d["service"].as_str().unwrap_or_default()) }
                    td { a href={ "/console/parties/" (d["party_id"].as_str().unwrap_or_default()) } { (d["party_id"].as_str().unwrap_or_default()) } }
                    td { (d["purpose"].as_str().unwrap_or_default()) }
                    td { (badge(d["outcome"].as_str().unwrap_or_default())) }
                    td { (codes(d)) }
                    td { (d["ledger_seq"]) }
                } } }
            }
            @if v.may::<AuditRead>() {
                p { a href={ "/console/exports/decisions.csv?" (again(&shown.fields, None)) } download { "These decisions as CSV" } }
            }
            @if more {
                @if let Some(last) = rows.last().and_then(|d| d["id"].as_str()) {
                    p { a href={ "/console/decisions?" (again(&shown.fields, Some(last))) } { "Older decisions" } }
                }
            }
        }
    };
    Ok(respond(
        status,
        page(&v, Section::Decisions, "Decisions", content),
    ))
}

/// The log's filters as a query string, and the page to start before.
fn again(fields: &Fields, before: Option<&str>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for name in ["service", "party_id", "outcome", "from", "to"] {
        if let Some(v) = fields.get(name) {
            q.append_pair(name, v);
        }
    }
    if let Some(b) = before {
        q.append_pair("before", b);
    }
    q.finish()
}

fn codes(d: &Value) -> String {
    d["reasons"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["code"].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn filters(shown: &Shown) -> Markup {
    html! {
        form.filters method="get" action="/console/decisions" role="search" aria-label="Filter decisions" {
            (shown.summary())
            (input(shown, "Service", "service", "text", None))
            (input(shown, "Vendor id", "party_id", "text", None))
            (select(shown, "Outcome", "outcome", &[("", "Any"), ("approved", "approved"), ("denied", "denied")]))
            (input(shown, "From", "from", "text", Some("RFC 3339, inclusive")))
            (input(shown, "To", "to", "text", Some("RFC 3339, exclusive")))
            button type="submit" { "Filter" }
        }
    }
}

/// `GET /console/decisions/{id}`: the decision, every reason, and the proof of its entry.
pub async fn decision(
    v: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<DecisionRead>()?;
    let id = path.into_inner();
    let sees_all = crate::api::sharing::sees_all(&v.principal);
    let row = state
        .read(move |conn| crate::decision::store::find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    if !sees_all && row.service != v.principal.sub {
        return Err(ApiError::NotFound.into());
    }
    let d: Value = serde_json::from_str(&row.body).map_err(ApiError::from)?;
    let seq = d["ledger_seq"].as_i64().unwrap_or(0);
    let (keys, principal) = (state.ledger_keys.clone(), v.principal.clone());
    let proof = state
        .write_checking_ledger(move |conn| proofs::inclusion(conn, &keys, &principal, seq, None))
        .await?;
    let content = html! {
        p { (badge(d["outcome"].as_str().unwrap_or_default())) " for " code { (d["service"].as_str().unwrap_or_default()) } " to " a href={ "/console/parties/" (d["party_id"].as_str().unwrap_or_default()) } { (d["party_id"].as_str().unwrap_or_default()) } " at " (when(d["decided_at"].as_str().unwrap_or_default())) }
        dl.facts {
            dt { "Purpose" } dd { (d["purpose"].as_str().unwrap_or_default()) }
            dt { "Categories" } dd { (d["categories"].as_array().map(|a| a.iter().filter_map(|c| c.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
            dt { "Destination" } dd { (d["destination_country"].as_str().unwrap_or_default()) }
            dt { "Subjects' country" } dd { (d["subject_country"].as_str().unwrap_or_default()) }
            dt { "People" } dd { (d["subject_count"]) }
            dt { "Rule set" } dd { (d["rules_version"].as_str().unwrap_or_default()) }
        }
        (reasons(&d))
        (proof_section(&proof))
    };
    Ok(respond(
        StatusCode::OK,
        page(&v, Section::Decisions, "Decision", content),
    ))
}

fn reasons(d: &Value) -> Markup {
    let list = d["reasons"].as_array().cloned().unwrap_or_default();
    html! {
        section aria-labelledby="reasons" {
            h2 #reasons { "Reasons" }
            @if list.is_empty() { p { "No check failed." } } @else {
                table.reasons {
                    caption { "Every failed check, its rule and its remedy" }
                    thead { tr { th scope="col" { "Reason" } th scope="col" { "Category" } th scope="col" { "Rule" } th scope="col" { "What it means" } th scope="col" { "Remedy" } } }
                    tbody { @for r in &list { tr {
                        td { code { (r["code"].as_str().unwrap_or_default()) } }
                        td { (r["category"].as_str().unwrap_or("")) }
                        td { (rule_of(r)) }
                        td { (r["message"].as_str().unwrap_or_default()) }
                        td { (r["remedy"]["action"].as_str().unwrap_or("")) }
                    } } }
                }
            }
        }
    }
}

fn proof_section(p: &InclusionProof) -> Markup {
    html! {
        section aria-labelledby="proof" {
            h2 #proof { "Ledger proof" }
            p { "Entry " (p.seq) " is leaf " (p.leaf_index) " of the tree of " (p.tree_size) " entries (RFC 9162). Check it with your own tools: " code { "GET /v1/audit/proof/" (p.seq) } " answers the same proof as JSON." }
            dl.facts.hashes {
                dt { "Leaf hash" } dd { code { (p.leaf_hash) } }
                dt { "Root hash" } dd { code { (p.root_hash) } }
                dt { "Signed checkpoint" } dd { @if p.checkpoint.is_some() { "yes, of this tree size" } @else { "not yet signed at this size" } }
                dt { "Audit path" } dd { ol { @for h in &p.audit_path { li { code { (h) } } } } }
            }
        }
    }
}

/// `GET /console/ledger`: the head, checkpoints and witnesses; `verify=1` verifies it all now;
/// `subject=` lists a subject's entries, `seq=` one entry.
pub async fn ledger(
    v: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<AuditRead>()?;
    let fields = Fields::parse(req.query_string().as_bytes());
    let report = match fields.get("verify") {
        Some(_) => Some(crate::api::audit::verify_now(&state).await?),
        None => None,
    };
    let subject = fields.get("subject").map(str::to_owned);
    let seq = fields.get("seq").and_then(|s| s.parse::<i64>().ok());
    let volumes = v.may::<TransferRead>();
    let (head, latest, entries, counters) = state
        .read(move |conn| -> Result<_, DomainError> {
            let head = crate::ledger::store::head(conn)?.0;
            let latest = crate::ledger::store::latest_checkpoint(conn)?;
            let latest = crate::ledger::witness::attach(conn, latest.into_iter().collect())?.pop();
            let entries = match (&subject, seq) {
                (Some(s), _) => crate::ledger::store::list(conn, 0, None, Some(s), 500)?,
                (None, Some(n)) => crate::ledger::store::entry_at(conn, n)?
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            };
            let counters = if volumes {
                let rows = crate::transfers::volumes::store::list(conn, None, None)?;
                crate::transfers::summary::summarise(
                    &rows,
                    crate::transfers::rules::RuleSet::current(),
                    crate::time::now(),
                )
            } else {
                Vec::new()
            };
            Ok((head, latest, entries, counters))
        })
        .await?;
    let content = html! {
        section aria-labelledby="head" {
            h2 #head { "Head" }
            p { "The ledger holds " strong { (head) } " entries." }
            @if let Some(cp) = &latest {
                p { "Latest signed checkpoint: size " (cp.size) ", root " code { (cp.root_hash) } ", signed " (when(&cp.signed_at)) "; "
                    @match cp.cosignatures.len() { 0 => { "no witness has cosigned it yet." } n => { "cosigned by " (n) " witness" @if n > 1 { "es" } "." } } }
            } @else { p { "No checkpoint signed yet." } }
            form method="get" action="/console/ledger" {
                input type="hidden" name="verify" value="1";
                button type="submit" { "Verify the whole ledger now" }
            }
            @if let Some(r) = &report { (verification(r)) }
        }
        @if !entries.is_empty() {
            section aria-labelledby="entries" { h2 #entries { "Entries" } (entries_table(&entries)) }
        }
        @if volumes { (super::volumes::chart(&counters)) }
        section aria-labelledby="exports" {
            h2 #exports { "Exports" }
            ul {
                li { a href="/console/exports/decisions.csv" download { "Every decision (CSV)" } }
                li { a href="/console/exports/register.csv" download { "The register: vendors, grants and agreements (CSV)" } }
            }
            p { "The same as the API's " code { "GET /v1/exports/decisions.csv" } " and " code { "GET /v1/exports/register.csv" } "; the whole ledger for " code { "vendor-registry audit verify" } " is " code { "GET /v1/audit/export" } " (" a href="/docs" { "the API reference" } ")." }
        }
    };
    Ok(respond(
        StatusCode::OK,
        page(&v, Section::Ledger, "Ledger", content),
    ))
}

fn verification(r: &Value) -> Markup {
    let ok = r["ok"].as_bool() == Some(true);
    html! {
        div role="status" class={ "verdict " (if ok { "good" } else { "bad" }) } {
            p { strong { @if ok { "Verified." } @else { "Verification failed." } } " "
                (r["entries"]) " entries checked; " (r["checkpoints_checked"]) " checkpoints."
                @if let Some(bad) = r["first_bad_seq"].as_i64() { " First bad entry: " (bad) "." } }
            @if let Some(w) = r["witnessed"].as_array() {
                p { "Witness cosignatures on " (w.len()) " checkpoints." }
            }
        }
    }
}

/// `GET /console/exports/decisions.csv`: the API's export, with the decision log's filters.
pub async fn decisions_csv(
    v: Viewer,
    state: web::Data<AppState>,
    query: web::Query<crate::api::exports::DecisionsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<AuditRead>()?;
    Ok(crate::api::exports::decisions_csv_of(
        &v.principal,
        &state,
        query.into_inner(),
    )?)
}

/// `GET /console/exports/register.csv`: the API's export.
pub async fn register_csv(
    v: Viewer,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<AuditRead>()?;
    Ok(crate::api::register_export::register_csv_of(&state))
}
