//! The API map: every operation the service offers, in one place. The OpenAPI document is
//! collected from exactly these registrations.

use utoipa_actix_web::service_config::ServiceConfig;

use crate::{decision, exports, health, imports, ledger, metrics, registry, taxonomy};

pub fn configure(cfg: &mut ServiceConfig) {
    // The decision endpoint first: actix tries resources in order, and the ones before it with
    // path parameters would each cost a regular-expression match on every decision.
    cfg.service(decision::routes::create)
        .service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .service(taxonomy::routes::list_categories)
        .service(taxonomy::routes::create_category)
        .service(taxonomy::routes::list_purposes)
        .service(taxonomy::routes::create_purpose)
        .service(registry::services::list)
        .service(registry::services::create)
        .service(registry::services::get)
        .service(registry::services::update)
        .service(registry::parties::list)
        .service(registry::parties::create)
        .service(registry::parties::get)
        .service(registry::parties::update)
        .service(registry::parties::change_status)
        .service(registry::grants::list)
        .service(registry::grants::create)
        .service(registry::grants::get)
        .service(registry::grants::revoke_one)
        .service(imports::import_gvl)
        .service(decision::routes::list)
        .service(decision::routes::get)
        .service(ledger::routes::events)
        .service(ledger::routes::verify)
        .service(ledger::routes::checkpoint)
        .service(ledger::routes::list_checkpoints)
        .service(ledger::routes::public_key)
        .service(ledger::routes::proof)
        .service(ledger::routes::consistency)
        .service(ledger::routes::export)
        .service(exports::decisions_csv)
        .service(exports::register_csv)
        .service(exports::register_json);
}
