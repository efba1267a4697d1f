//! Examples in the document, made by the code that answers: each problem response shows the
//! problem this service sends for its status (built by `ApiError::problem`, so an example
//! cannot drift from what is sent); every other response shows its schema's example, and each
//! list or page one item of its item schema's example.

use serde_json::{Value, json};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Components, Content, OpenApi, RefOr};

use super::error::{ApiError, FieldError, PROBLEM_JSON};

/// The problems an operation may answer with `status`, each a named example. `description` is
/// the response's own (an operation's 403 or 409 says why in its words).
fn problems(status: &str, description: &str) -> Vec<(&'static str, ApiError)> {
    let why = description.trim_end_matches('.').to_owned() + ".";
    match status {
        "400" => vec![
            (
                "unknown_query_parameter",
                ApiError::BadRequest(
                    "This operation takes no query parameter `actor`: it would be ignored, and \
                     the answer would not be the one asked for. The spec lists the parameters \
                     it takes."
                        .into(),
                ),
            ),
            (
                "malformed_json",
                ApiError::BadRequest(
                    "The body is not well-formed JSON (line 1, column 17).".into(),
                ),
            ),
        ],
        "401" => vec![
            (
                "missing",
                ApiError::Unauthorized("A bearer token is required."),
            ),
            (
                "invalid",
                ApiError::Unauthorized("The bearer token is invalid or expired."),
            ),
        ],
        "403" => vec![("forbidden", ApiError::Forbidden(why))],
        "404" => vec![("not_found", ApiError::NotFound)],
        "409" => vec![("conflict", ApiError::Conflict(why))],
        "412" => vec![("changed", ApiError::PreconditionFailed(3))],
        "413" => vec![("too_large", ApiError::PayloadTooLarge(65_536))],
        "415" => vec![("not_json", ApiError::UnsupportedMediaType)],
        "422" => vec![(
            "invalid_fields",
            ApiError::Validation(vec![
                FieldError::new("country", crate::types::hints::country_message("UK")),
                FieldError::new(
                    "categories[0]",
                    crate::types::hints::key_message("user.email", ["user.contact.email"]),
                ),
            ]),
        )],
        "428" => vec![("if_match_missing", ApiError::PreconditionRequired)],
        "503" => vec![
            ("unavailable", ApiError::Unavailable(String::new())),
            ("ledger_integrity", ApiError::LedgerIntegrity(String::new())),
        ],
        _ => Vec::new(),
    }
}

/// Adds the examples to every operation of `api`.
pub fn add(api: &mut OpenApi) {
    let components = api.components.clone().unwrap_or_default();
    for op in super::openapi::operations_mut(api) {
        for (status, response) in op.responses.responses.iter_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            let description = response.description.clone();
            for (media, content) in response.content.iter_mut() {
                if content.example.is_some() || !content.examples.is_empty() {
                    continue;
                }
                if media == PROBLEM_JSON {
                    problem_examples(content, status, &description);
                } else {
                    content.example = example_of(&components, content);
                }
            }
        }
    }
}

fn problem_examples(content: &mut Content, status: &str, description: &str) {
    for (name, error) in problems(status, description) {
        let problem = error.problem();
        let summary = problem.title.clone();
        let value = serde_json::to_value(problem).unwrap_or(Value::Null);
        let example = utoipa::openapi::example::ExampleBuilder::new()
            .summary(summary)
            .value(Some(value))
            .build();
        content.examples.insert(name.to_owned(), RefOr::T(example));
    }
}

/// The example of a response's schema: its own; for an array, one item of its item schema's
/// example; for a page `{items: [X], next_cursor}`, one item of `X`'s example and a cursor.
fn example_of(components: &Components, content: &Content) -> Option<Value> {
    schema_example(components, schema_of(components, content.schema.as_ref()?)?)
}

fn schema_example(components: &Components, schema: &Schema) -> Option<Value> {
    match schema {
        Schema::Object(o) if o.example.is_some() => o.example.clone(),
        Schema::AllOf(all) if all.example.is_some() => all.example.clone(),
        Schema::Object(page) => {
            let RefOr::T(items) = page.properties.get("items")? else {
                return None;
            };
            let mut example = json!({"items": schema_example(components, items)?});
            if page.properties.contains_key("next_cursor") {
                example["next_cursor"] = json!("YzE6MTUx");
            }
            Some(example)
        }
        Schema::Array(array) => match &array.items {
            utoipa::openapi::schema::ArrayItems::RefOrSchema(item) => {
                let item = schema_of(components, item)?;
                Some(json!([schema_example(components, item)?]))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The schema a reference names, or the schema itself.
fn schema_of<'a>(components: &'a Components, schema: &'a RefOr<Schema>) -> Option<&'a Schema> {
    match schema {
        RefOr::T(s) => Some(s),
        RefOr::Ref(r) => {
            let name = r.ref_location.strip_prefix("#/components/schemas/")?;
            match components.schemas.get(name)? {
                RefOr::T(s) => Some(s),
                RefOr::Ref(_) => None,
            }
        }
    }
}
