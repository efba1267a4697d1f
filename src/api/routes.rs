//! The API map: every operation the service offers, in one place. The OpenAPI document is
//! collected from exactly these registrations.

use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    agreements, audit, entities, exports, grants, imports, operations, parties, services, sharing,
    taxonomy, transfers, witness,
};

pub fn configure(cfg: &mut ServiceConfig) {
    // The decision endpoint first: actix tries resources in order, and the ones before it with
    // path parameters would each cost a regular-expression match on every decision.
    cfg.service(sharing::create)
        .service(operations::healthz)
        .service(operations::readyz)
        .service(operations::metrics)
        .service(taxonomy::list_categories)
        .service(taxonomy::create_category)
        .service(taxonomy::list_purposes)
        .service(taxonomy::create_purpose)
        .service(taxonomy::get_category)
        .service(taxonomy::mark_category)
        .service(taxonomy::get_purpose)
        .service(taxonomy::mark_purpose)
        .service(services::list)
        .service(services::create)
        .service(services::get)
        .service(services::update)
        .service(parties::list)
        .service(parties::create)
        .service(parties::get)
        .service(parties::update)
        .service(parties::change_status)
        .service(grants::list)
        .service(grants::create)
        .service(grants::get)
        .service(grants::revoke_one)
        .service(grants::update)
        .service(entities::list)
        .service(entities::create)
        .service(entities::get)
        .service(entities::update)
        .service(agreements::list)
        .service(agreements::create)
        .service(agreements::get)
        .service(agreements::update)
        .service(agreements::withdraw)
        .service(transfers::get_rules)
        .service(transfers::list_volumes)
        .service(transfers::adjust)
        .service(transfers::readiness)
        .service(imports::import_gvl)
        .service(sharing::list)
        .service(sharing::get)
        .service(audit::events)
        .service(audit::verify)
        .service(audit::checkpoint)
        .service(audit::list_checkpoints)
        .service(audit::public_key)
        .service(audit::proof)
        .service(audit::consistency)
        .service(audit::export)
        .service(witness::cosign)
        .service(witness::tile)
        .service(exports::decisions_csv)
        .service(exports::register_csv)
        .service(exports::register_json);
}
