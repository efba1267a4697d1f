//! The OpenAPI document: paths and schemas come from the handlers themselves (collected by
//! utoipa-actix-web from the routes registered in `routes.rs`); this module adds the document's
//! frame, the bearer scheme, and the error responses every operation shares.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::error::{FieldError, PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "vendor-registry",
        description = "The register of every outside organisation that may receive personal data \
            — third-party vendors and affiliates — and the service that decides, before any \
            sharing, whether it is allowed. Every change and every decision is recorded in a \
            tamper-evident ledger.\n\nAuthenticate with `Authorization: Bearer <JWT>`; each \
            operation lists the roles (`x-roles`) that may call it. Errors are RFC 9457 \
            `application/problem+json`.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&Frame),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "taxonomy", description = "Data categories and purposes (fideslang, © Ethyca, CC BY 4.0, extended)."),
        (name = "services", description = "Internal services in whose name data is shared."),
        (name = "parties", description = "Vendors and affiliates, and their lifecycle."),
        (name = "grants", description = "Scopes granted to parties."),
        (name = "sharing", description = "Sharing requests and their decisions."),
        (name = "disclosures", description = "Legal-process requests and incidents: disclosures outside the grants (docs/DISCLOSURES.md)."),
        (name = "audit", description = "The ledger of every change and decision."),
        (name = "imports", description = "Bulk imports into the register (IAB TCF Global Vendor List)."),
        (name = "exports", description = "Streamed exports for auditors."),
        (name = "webhooks", description = "Events told to subscribed endpoints, signed and retried (Standard Webhooks)."),
        (name = "operations", description = "Health and readiness."),
    )
)]
pub struct ApiDoc;

struct Frame;

impl Modify for Frame {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// Adds the error responses an operation can give, judged from its shape: authentication,
/// path parameters, bodies, query parameters and `If-Match`.
pub fn add_standard_errors(api: &mut utoipa::openapi::OpenApi) {
    operations_mut(api).for_each(add_errors);
}

/// Every operation of the document, to amend in place.
pub(super) fn operations_mut(
    api: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut Operation> {
    api.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
    })
}

fn add_errors(op: &mut Operation) {
    let params = op.parameters.clone().unwrap_or_default();
    let has = |inp: ParameterIn| params.iter().any(|p| p.parameter_in == inp);
    let if_match = params.iter().any(|p| p.name == "If-Match");
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut add = |code: &str, description: &str| {
        op.responses
            .responses
            .entry(code.to_owned())
            .or_insert_with(|| problem(description));
    };
    if op.request_body.is_some() || has(ParameterIn::Query) || if_match {
        add(
            "400",
            "Malformed: the body is not well-formed JSON, a query parameter has the wrong type or is not one this operation takes, or If-Match is not a quoted version.",
        );
    }
    if secured {
        add(
            "401",
            "The bearer token is missing, malformed, expired or badly signed.",
        );
        add("403", "The token's roles do not allow this operation.");
    }
    if has(ParameterIn::Path) {
        add("404", "No such object (or not yours to see).");
    }
    if op.request_body.is_some() {
        add("413", "The body is larger than 64 KiB.");
        add("415", "The body is not application/json.");
    }
    if if_match {
        add("412", "If-Match does not name the current version.");
        add("428", "If-Match is missing (or `*`).");
    }
    if op.request_body.is_some() || has(ParameterIn::Query) {
        add(
            "422",
            "Well-formed but invalid: see `errors` for each field.",
        );
    }
    if secured {
        add(
            "503",
            "Storage or the ledger cannot be written or read right now (`unavailable`: retry after `Retry-After` seconds), or this node found its ledger altered (`ledger-integrity`: nothing is signed or written until it is restored).",
        );
    }
}
