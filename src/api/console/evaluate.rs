//! "Would this be approved?": the evaluate endpoint as a form, for services' owners (and the
//! register's keepers and auditors, for any service). Nothing is recorded.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde_json::Value;

use super::forms::{Shape, Shown, csrf, input, json, select};
use super::layout::{Section, badge, page};
use super::party_page::category_picker;
use super::session::{Posted, Viewer};
use super::{ConsoleError, html as respond};
use crate::api::evaluate::{evaluate_as, evaluates_any};
use crate::api::state::AppState;
use crate::auth::EvaluateShare;
use crate::decision::evaluate::Evaluation;
use crate::error::DomainError;
use crate::registry::parties::{PartyStatus, store::Filter};
use crate::taxonomy::{Category, Purpose};

struct Choices {
    parties: Vec<(String, String)>,
    services: Vec<String>,
    purposes: Vec<Purpose>,
    categories: Vec<Category>,
}

async fn choices(state: &AppState) -> Result<Choices, ConsoleError> {
    Ok(state
        .read(|conn| -> Result<Choices, DomainError> {
            let filter = Filter {
                status: Some(PartyStatus::Trusted),
                ..Default::default()
            };
            let mut parties: Vec<(String, String)> =
                crate::registry::parties::store::list(conn, &filter, None, 500)?
                    .into_iter()
                    .map(|p| (p.id, p.legal_name))
                    .collect();
            parties.sort_by(|a, b| a.1.cmp(&b.1));
            let services = crate::registry::services::store::all(conn)?
                .into_iter()
                .map(|s| s.key.to_string())
                .collect();
            Ok(Choices {
                parties,
                services,
                purposes: crate::taxonomy::store::all_purposes(conn)?,
                categories: crate::taxonomy::store::all_categories(conn)?,
            })
        })
        .await?)
}

fn form(v: &Viewer, c: &Choices, shown: &Shown) -> Markup {
    let parties: Vec<(&str, &str)> = c
        .parties
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let services: Vec<(&str, &str)> = c
        .services
        .iter()
        .map(|s| (s.as_str(), s.as_str()))
        .collect();
    let purposes: Vec<(&str, &str)> = c
        .purposes
        .iter()
        .map(|p| (p.key.as_str(), p.key.as_str()))
        .collect();
    html! {
        form method="post" action="/console/evaluate" hx-post="/console/evaluate" hx-select="#main > *" hx-target="#main" novalidate {
            (csrf(&v.csrf))
            (shown.summary())
            @if evaluates_any(&v.principal) {
                (select(shown, "Service", "service", &services))
            } @else {
                p { "Asked as the service " code { (v.principal.sub) } "." }
            }
            (select(shown, "Vendor (trusted)", "party_id", &parties))
            (select(shown, "Purpose", "purpose", &purposes))
            (category_picker(shown, &c.categories))
            (input(shown, "Destination country", "destination_country", "text", Some("Where the vendor receives it, ISO 3166-1 alpha-2")))
            (input(shown, "Subjects' country", "subject_country", "text", Some("Whose data it is, e.g. CN, DE, US")))
            (input(shown, "Number of people", "subject_count", "number", None))
            (input(shown, "Exporter (our entity)", "exporter", "text", Some("Empty: the service's")))
            button type="submit" { "Would this be approved?" }
        }
    }
}

fn answer(e: &Evaluation) -> Markup {
    let reasons: Vec<Value> = e
        .reasons
        .iter()
        .chain(&e.advisories)
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    html! {
        section aria-labelledby="answer" aria-live="polite" {
            h2 #answer { "The answer: " (badge(e.outcome.as_str())) }
            p { "Judged with the rule set " code { (e.rules_version) } " and register revision " (e.register_revision) "; nothing was recorded." }
            @if !reasons.is_empty() {
                table.reasons {
                    caption { "Every failed check, its rule and its remedy" }
                    thead { tr { th scope="col" { "Reason" } th scope="col" { "Category" } th scope="col" { "Rule" } th scope="col" { "What it means" } th scope="col" { "Remedy" } } }
                    tbody { @for r in &reasons { tr {
                        td { code { (r["code"].as_str().unwrap_or_default()) } @if let Some(via) = r["via"].as_str() { " via " (via) } }
                        td { (r["category"].as_str().unwrap_or("")) }
                        td { (rule_of(r)) }
                        td { (r["message"].as_str().unwrap_or_default()) }
                        td.remedy {
                            @if let Some(action) = r["remedy"]["action"].as_str() {
                                (action) @if let Some(by) = r["remedy"]["by"].as_str() { " (" (by) ")" }
                            }
                        }
                    } } }
                }
            }
        }
    }
}

/// `GET /console/evaluate`.
pub async fn form_page(
    v: Viewer,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<EvaluateShare>()?;
    let c = choices(&state).await?;
    let content = form(&v, &c, &Shown::default());
    Ok(respond(
        StatusCode::OK,
        page(&v, Section::Evaluate, "Would this be approved?", content),
    ))
}

/// `POST /console/evaluate`: `POST /v1/sharing-requests/evaluate`.
pub async fn evaluate(p: Posted, state: web::Data<AppState>) -> Result<HttpResponse, ConsoleError> {
    p.viewer.require::<EvaluateShare>()?;
    let c = choices(&state).await?;
    let mut body = json(
        &p.fields,
        &[
            ("service", Shape::Text),
            ("party_id", Shape::Text),
            ("purpose", Shape::Text),
            ("categories", Shape::Required),
            ("destination_country", Shape::Text),
            ("subject_country", Shape::Text),
            ("exporter", Shape::Text),
        ],
    );
    if let Some(n) = p.fields.get("subject_count") {
        // A number when it is one; the API's type error otherwise.
        body["subject_count"] = n
            .parse::<i64>()
            .map_or_else(|_| Value::from(n), Value::from);
    }
    let (status, shown, result) =
        match evaluate_as(&state, p.viewer.principal.clone(), &body, None).await {
            Ok(e) => (
                StatusCode::OK,
                Shown {
                    fields: p.fields,
                    problem: None,
                },
                Some(e),
            ),
            Err(e) => {
                use actix_web::ResponseError;
                (e.status_code(), Shown::new(p.fields, e.problem()), None)
            }
        };
    let content = html! {
        @if let Some(e) = &result { (answer(e)) }
        (form(&p.viewer, &c, &shown))
    };
    Ok(respond(
        status,
        page(
            &p.viewer,
            Section::Evaluate,
            "Would this be approved?",
            content,
        ),
    ))
}

/// A reason's rule; a scope check names none (the register's own scope, not a law).
pub(super) fn rule_of(r: &Value) -> Markup {
    match r["rule"].as_str() {
        Some(rule) => html! { (rule) },
        None => html! { span.note { "the register's scope" } },
    }
}
