//! Formats and patterns on the fields of what the service answers: instants are RFC 3339
//! `date-time` (UTC, microseconds), calendar dates `date`, the register's ids `uuid`, country
//! codes ISO 3166-1 alpha-2. Applied by field name to the schemas only responses use — a
//! request schema keeps exactly the rules its validation enforces, so a client is never told a
//! value is refused that is accepted.

use std::collections::BTreeSet;

use serde_json::Value;
use utoipa::openapi::OpenApi;
use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};
use utoipa::openapi::{RefOr, schema::Type};

/// What a field of this name holds, if its name says.
enum Kind {
    Instant,
    Date,
    Uuid,
    Country,
}

/// Schemas whose `id` is a register id (a UUID the service issued).
const UUID_IDS: &[&str] = &[
    "Party",
    "Grant",
    "Agreement",
    "Decision",
    "Incident",
    "LegalRequest",
];

fn kind(schema: &str, field: &str) -> Option<Kind> {
    match field {
        "next_review_due" | "dpf_certified_until" | "signed_on" => Some(Kind::Date),
        "valid_from" | "valid_until" | "as_of" => Some(Kind::Instant),
        "party_id" | "grant_id" | "decision_id" | "incident_id" | "agreement_id"
        | "superseded_by" | "supersedes" => Some(Kind::Uuid),
        "id" if UUID_IDS.contains(&schema) => Some(Kind::Uuid),
        "country" | "principal_place_of_business" => Some(Kind::Country),
        f if f.ends_with("_country") => Some(Kind::Country),
        f if f.ends_with("_at") => Some(Kind::Instant),
        _ => None,
    }
}

/// The schemas a request body names, directly or through others.
fn request_schemas(api: &OpenApi) -> BTreeSet<String> {
    let doc = serde_json::to_value(api).unwrap_or(Value::Null);
    let mut found = BTreeSet::new();
    let mut todo: Vec<Value> = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            todo.push(op["requestBody"].clone());
        }
    }
    while let Some(v) = todo.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    match (k.as_str(), child.as_str()) {
                        ("$ref", Some(r)) => {
                            let name = r.rsplit('/').next().unwrap_or("").to_owned();
                            if found.insert(name.clone()) {
                                todo.push(doc["components"]["schemas"][&name].clone());
                            }
                        }
                        _ => todo.push(child),
                    }
                }
            }
            Value::Array(items) => todo.extend(items),
            _ => {}
        }
    }
    found
}

/// Marks the fields of every response-only schema of `api`.
pub fn add(api: &mut OpenApi) {
    let requests = request_schemas(api);
    let Some(components) = api.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if requests.contains(name) {
            continue;
        }
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for (field, property) in object.properties.iter_mut() {
            let Some(kind) = kind(name, field) else {
                continue;
            };
            if let RefOr::T(Schema::Object(p)) = property
                && is_string(&p.schema_type)
            {
                mark(p, &kind);
            }
        }
        if let Some(RefOr::T(Schema::Array(a))) = object.properties.get_mut("data_locations")
            && let utoipa::openapi::schema::ArrayItems::RefOrSchema(item) = &mut a.items
            && let RefOr::T(Schema::Object(p)) = item.as_mut()
        {
            mark(p, &Kind::Country);
        }
    }
}

fn is_string(t: &utoipa::openapi::schema::SchemaType) -> bool {
    match t {
        utoipa::openapi::schema::SchemaType::Type(Type::String) => true,
        utoipa::openapi::schema::SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    }
}

fn mark(p: &mut utoipa::openapi::schema::Object, kind: &Kind) {
    match kind {
        Kind::Instant => p.format = Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)),
        Kind::Date => p.format = Some(SchemaFormat::KnownFormat(KnownFormat::Date)),
        Kind::Uuid => p.format = Some(SchemaFormat::Custom("uuid".to_owned())),
        Kind::Country => p.pattern = Some("^[A-Z]{2}$".to_owned()),
    }
}
