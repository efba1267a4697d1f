//! Forms: what a browser posts, turned into the JSON body the API's own request types parse, so
//! a form is judged by exactly the rules (and answered with exactly the field errors) a client's
//! body would be.

use maud::{Markup, html};
use serde_json::{Map, Value};

use crate::api::error::{FieldError, Problem};

/// The fields of a posted form, in order (a name may repeat: checkboxes, multiple selects).
#[derive(Debug, Default, Clone)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Fields with these values, as a form shows a record for editing.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Fields {
        Fields(pairs.into_iter().collect())
    }

    /// The first value of `name` as sent, or "".
    pub fn value(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed, when not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        Some(self.value(name).trim()).filter(|v| !v.is_empty())
    }

    /// Every value of `name`, each split at commas and whitespace, empty pieces dropped.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(|c: char| c == ',' || c.is_whitespace()))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether `name` was sent with `value` (a checked box, a selected option).
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v == value)
    }
}

/// How a form field becomes a JSON field.
#[derive(Clone, Copy)]
pub enum Shape {
    /// A string; left out when empty.
    Text,
    /// A list of strings (repeated fields or a comma-separated text); left out when empty.
    List,
    /// A list that is sent even when empty (a required list: the API says so when it is).
    Required,
    /// A checkbox: `true` when checked, left out otherwise.
    Check,
    /// A checkbox that says both: `true` when checked, `false` when not.
    Flag,
    /// A string that, left empty, clears the field (`null`).
    Clearable,
}

/// The JSON body a form amounts to.
pub fn json(fields: &Fields, shape: &[(&str, Shape)]) -> Value {
    let mut body = Map::new();
    for (name, kind) in shape {
        let value = match kind {
            Shape::Text => fields.get(name).map(|v| Value::from(v.to_owned())),
            Shape::List => Some(fields.all(name))
                .filter(|l| !l.is_empty())
                .map(Value::from),
            Shape::Required => Some(Value::from(fields.all(name))),
            Shape::Check => fields.get(name).map(|_| Value::Bool(true)),
            Shape::Flag => Some(Value::Bool(fields.get(name).is_some())),
            Shape::Clearable => Some(fields.get(name).map_or(Value::Null, Value::from)),
        };
        if let Some(v) = value {
            body.insert((*name).to_owned(), v);
        }
    }
    Value::Object(body)
}

/// A form as it is shown again: what was sent, and what the API said of it.
#[derive(Default)]
pub struct Shown {
    pub fields: Fields,
    pub problem: Option<Problem>,
}

impl Shown {
    pub fn new(fields: Fields, problem: Problem) -> Shown {
        Shown {
            fields,
            problem: Some(problem),
        }
    }

    /// The errors of field `name` (and of its items, `name[0]…`).
    pub fn errors_of(&self, name: &str) -> Vec<&FieldError> {
        self.problem
            .iter()
            .flat_map(|p| p.errors.iter().flatten())
            .filter(|e| {
                e.field == name
                    || e.field.starts_with(&format!("{name}["))
                    || e.field.starts_with(&format!("{name}."))
            })
            .collect()
    }

    /// The problem's summary at the top of the form: its detail, and every field error with a
    /// link to its field.
    pub fn summary(&self) -> Markup {
        let Some(p) = &self.problem else {
            return html! {};
        };
        html! {
            div.problem role="alert" aria-labelledby="problem-title" tabindex="-1" id="problem" {
                h2 #problem-title { (p.title) " (" (p.status) ")" }
                p { (p.detail) }
                @if let Some(errors) = &p.errors {
                    ul {
                        @for e in errors {
                            li { a href={ "#f-" (anchor(&e.field)) } { code { (e.field) } } ": " (e.message) }
                        }
                    }
                }
            }
        }
    }
}

/// The id of a field's input: `f-` and the field's name up to its first `[` or `.`.
pub fn anchor(field: &str) -> &str {
    field.split(['[', '.']).next().unwrap_or(field)
}

/// A labelled input with its hint and its errors (announced with the input).
pub fn input(shown: &Shown, label: &str, name: &str, kind: &str, hint: Option<&str>) -> Markup {
    let errors = shown.errors_of(name);
    let described = describedby(name, hint.is_some(), !errors.is_empty());
    html! {
        div.field {
            label for={ "f-" (name) } { (label) }
            @if let Some(h) = hint { span.hint id={ "h-" (name) } { (h) } }
            (error_list(name, &errors))
            input id={ "f-" (name) } name=(name) type=(kind) value=(shown.fields.value(name))
                aria-describedby=[described] aria-invalid=[(!errors.is_empty()).then_some("true")];
        }
    }
}

/// A labelled select of `options` (value, text), the sent value selected.
pub fn select(shown: &Shown, label: &str, name: &str, options: &[(&str, &str)]) -> Markup {
    let errors = shown.errors_of(name);
    let described = describedby(name, false, !errors.is_empty());
    let sent = shown.fields.value(name);
    html! {
        div.field {
            label for={ "f-" (name) } { (label) }
            (error_list(name, &errors))
            select id={ "f-" (name) } name=(name) aria-describedby=[described]
                aria-invalid=[(!errors.is_empty()).then_some("true")] {
                @for (value, text) in options {
                    option value=(value) selected[*value == sent] { (text) }
                }
            }
        }
    }
}

/// A fieldset of checkboxes for a list field.
pub fn checkboxes(shown: &Shown, legend: &str, name: &str, options: &[(&str, &str)]) -> Markup {
    let errors = shown.errors_of(name);
    html! {
        fieldset.field id={ "f-" (name) } aria-describedby=[(!errors.is_empty()).then(|| format!("e-{name}"))] {
            legend { (legend) }
            (error_list(name, &errors))
            @for (value, text) in options {
                label.check {
                    input type="checkbox" name=(name) value=(value) checked[shown.fields.has(name, value)];
                    " " (text)
                }
            }
        }
    }
}

fn describedby(name: &str, hint: bool, error: bool) -> Option<String> {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("h-{name}"));
    }
    if error {
        ids.push(format!("e-{name}"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn error_list(name: &str, errors: &[&FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            span.error id={ "e-" (name) } {
                @for e in errors {
                    @if e.field != name { code { (e.field) } ": " }
                    (e.message) " "
                }
            }
        }
    }
}

/// The hidden CSRF field every console form carries.
pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_becomes_the_body_the_api_would_be_sent() {
        let f = Fields::parse(
            b"legal_name=Acme+Ltd&country=&data_locations=CN%2C+SG&data_locations=US&pipl_restricted=on&x=1",
        );
        let body = json(
            &f,
            &[
                ("legal_name", Shape::Text),
                ("country", Shape::Text),
                ("data_locations", Shape::List),
                ("declared_purposes", Shape::List),
                ("categories", Shape::Required),
                ("pipl_restricted", Shape::Check),
                ("us_dsp_covered", Shape::Check),
            ],
        );
        assert_eq!(
            body,
            serde_json::json!({"legal_name": "Acme Ltd", "data_locations": ["CN", "SG", "US"],
                "categories": [], "pipl_restricted": true})
        );
    }

    #[test]
    fn errors_belong_to_their_field_and_its_items() {
        let shown = Shown::new(
            Fields::default(),
            Problem {
                kind: String::new(),
                title: "Unprocessable Content".into(),
                status: 422,
                detail: String::new(),
                errors: Some(vec![
                    FieldError::new("data_locations[1]", "bad"),
                    FieldError::new("data_location", "other"),
                    FieldError::new("country", "bad"),
                ]),
                current_version: None,
                current_etag: None,
            },
        );
        let of: Vec<&str> = shown
            .errors_of("data_locations")
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(of, ["data_locations[1]"]);
        assert_eq!(anchor("data_locations[1]"), "data_locations");
    }
}
