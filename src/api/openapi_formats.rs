//! Formats and patterns on the fields of what the service answers: instants are RFC 3339
//! `date-time` (UTC, microseconds), calendar dates `date`, the register's ids `uuid`, country
//! codes ISO 3166-1 alpha-2. Applied by field name to the schemas only responses use — a
//! request schema keeps exactly the rules its validation enforces, so a client is never told a
//! value is refused that is accepted.
//!
//! And descriptions: a field of a request (`NewParty.country`, `PartyPatch.risk_tier`) is
//! described as the same field of the object it makes or changes (`Party`), and the fields
//! every object has (`created_at`, `updated_at`, `created_by`) say the same everywhere.

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

/// What the fields every object has hold.
const COMMON: &[(&str, &str)] = &[
    (
        "created_at",
        "When it was created (RFC 3339, UTC, microseconds).",
    ),
    (
        "updated_at",
        "When it last changed (RFC 3339, UTC, microseconds).",
    ),
    (
        "created_by",
        "Who created it: the `sub` of the token that did.",
    ),
];

/// The object a request schema makes or changes: `NewParty`, `PartyPatch` → `Party`.
fn object_of(schema: &str) -> &str {
    let name = schema.strip_prefix("New").unwrap_or(schema);
    ["Patch", "Amendment", "StatusChange"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix).filter(|n| !n.is_empty()))
        .unwrap_or(name)
}

/// Describes each field without a description from its object's same field, or [`COMMON`].
fn describe(components: &mut utoipa::openapi::Components) {
    let described = |schema: &Schema, field: &str| match schema {
        Schema::Object(o) => match o.properties.get(field) {
            Some(RefOr::T(Schema::Object(p))) => p.description.clone(),
            Some(RefOr::T(Schema::Array(a))) => a.description.clone(),
            _ => None,
        },
        _ => None,
    };
    let mut found: Vec<(String, String, String)> = Vec::new();
    for (name, schema) in &components.schemas {
        let RefOr::T(this @ Schema::Object(object)) = schema else {
            continue;
        };
        let base = components.schemas.get(object_of(name)).or_else(|| {
            components
                .schemas
                .get(&format!("{}Request", object_of(name)))
        });
        for field in object.properties.keys() {
            if described(this, field).is_some() {
                continue;
            }
            let borrowed = match base {
                Some(RefOr::T(b)) => described(b, field),
                _ => None,
            };
            let common = COMMON
                .iter()
                .find(|(f, _)| f == field)
                .map(|(_, d)| (*d).to_owned());
            if let Some(text) = borrowed.or(common) {
                found.push((name.clone(), field.clone(), text));
            }
        }
    }
    for (name, field, text) in found {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name) {
            match object.properties.get_mut(&field) {
                Some(RefOr::T(Schema::Object(p))) => p.description = Some(text),
                Some(RefOr::T(Schema::Array(a))) => a.description = Some(text),
                _ => {}
            }
        }
    }
}

/// Marks the fields of every response-only schema of `api`, and describes every field it can.
pub fn add(api: &mut OpenApi) {
    let requests = request_schemas(api);
    let Some(components) = api.components.as_mut() else {
        return;
    };
    describe(components);
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
