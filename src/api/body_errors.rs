//! Every field error of a request body at once: serde's errors gathered past the first, and the
//! validator crate's errors as a flat list of field paths with bounds in words.

use serde::de::DeserializeOwned;
use serde_json::Value;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::FieldError;

/// A deserialisation error as the field it concerns, its message, and whether the field is
/// missing ("missing field `x`" is reported at the parent: the field itself is named).
pub(super) fn type_error(
    e: serde_path_to_error::Error<serde_json::Error>,
) -> (String, String, bool) {
    let path = e.path().to_string();
    let inner = e.into_inner().to_string();
    let (field, missing) = match (inner.strip_prefix("missing field `"), path.as_str()) {
        (Some(rest), ".") => (rest.trim_end_matches('`').to_owned(), true),
        (Some(rest), parent) => (format!("{parent}.{}", rest.trim_end_matches('`')), true),
        (None, _) => (path, false),
    };
    (field, strip_position(&inner), missing)
}

/// Every field error of a body at once, not only the first one serde stops at: each error is
/// recorded, the body is repaired past it (a wrong value removed, a missing one given a
/// stand-in of some type), and it is read again; once it reads, the field rules run on the
/// repaired body, and their errors on fields not already reported are added. Bounded: a body
/// has at most a few dozen fields.
pub(super) fn every_error<T: DeserializeOwned + Validate>(
    value: &Value,
    first: (String, String, bool),
) -> Vec<FieldError> {
    const STAND_INS: [fn() -> Value; 5] = [
        || Value::String(String::new()),
        || Value::Bool(false),
        || Value::from(0),
        || Value::Array(Vec::new()),
        || Value::Object(serde_json::Map::new()),
    ];
    let mut body = value.clone();
    let mut variant = if first.2 {
        None
    } else {
        first_variant(&first.1)
    };
    let mut errors = vec![FieldError::new(first.0.clone(), first.1)];
    let mut current = (first.0, first.2);
    let mut tries = 0usize;
    let mut touched: Vec<String> = Vec::new();
    // Errors inside a stand-in are the stand-in's, not the caller's.
    let mut stood_in: Vec<String> = Vec::new();
    let within = |field: &str, roots: &[String]| {
        roots
            .iter()
            .any(|k| field.starts_with(&format!("{k}.")) || field.starts_with(&format!("{k}[")))
    };
    for _ in 0..64 {
        let (field, missing) = &current;
        if *missing {
            stood_in.push(field.clone());
            let stand_in = match variant.take() {
                Some(v) => Value::String(v),
                None if tries < STAND_INS.len() => {
                    tries += 1;
                    STAND_INS[tries - 1]()
                }
                None => break,
            };
            if !set_at(&mut body, field, Some(stand_in)) {
                break;
            }
        } else {
            // A wrong enum value is replaced by a variant; any other wrong value is removed
            // (an element of a list too: the list's own length is then not judged).
            let replaced = variant
                .take()
                .is_some_and(|v| set_at(&mut body, field, Some(Value::String(v))));
            if !replaced {
                if let Some((parent, _)) = field.rsplit_once('[') {
                    touched.push(parent.to_owned());
                }
                if !set_at(&mut body, field, None) {
                    break;
                }
            }
        }
        match serde_path_to_error::deserialize::<_, T>(&body) {
            Ok(parsed) => {
                if let Err(e) = parsed.validate() {
                    let known: Vec<String> = errors
                        .iter()
                        .map(|e| e.field.clone())
                        .chain(touched)
                        .collect();
                    errors.extend(flatten(&e, "").into_iter().filter(|e| {
                        !known.iter().any(|k| {
                            e.field == *k
                                || e.field.starts_with(&format!("{k}."))
                                || e.field.starts_with(&format!("{k}["))
                        })
                    }));
                }
                break;
            }
            Err(e) => {
                let (field, message, missing) = type_error(e);
                if field == current.0 {
                    // The stand-in was of the wrong type: try the next one (for an enum, the
                    // first variant the error names).
                    if !missing && current.1 {
                        variant = first_variant(&message);
                        current.1 = true;
                        continue;
                    }
                } else {
                    tries = 0;
                    variant = if missing {
                        None
                    } else {
                        first_variant(&message)
                    };
                    if !within(&field, &stood_in) && !errors.iter().any(|e| e.field == field) {
                        errors.push(FieldError::new(field.clone(), message));
                    }
                }
                current = (field, missing);
            }
        }
    }
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    errors
}

/// The first variant an "unknown variant `x`, expected `a` or `b`" error names.
fn first_variant(message: &str) -> Option<String> {
    let (_, expected) = message
        .split_once("unknown variant")?
        .1
        .split_once("expected")?;
    let start = expected.find('`')? + 1;
    let len = expected[start..].find('`')?;
    Some(expected[start..start + len].to_owned())
}

/// Sets (or, with `None`, removes) the value at a field path such as `a.b[2].c`; false when the
/// path does not lead anywhere (or is the whole body).
fn set_at(body: &mut Value, path: &str, to: Option<Value>) -> bool {
    let mut steps: Vec<Result<usize, String>> = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            steps.push(Err(key.to_owned()));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse::<usize>() {
                steps.push(Ok(i));
            }
        }
    }
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut at = body;
    for step in parents {
        let next = match step {
            Err(key) => at.get_mut(key.as_str()),
            Ok(i) => at.get_mut(*i),
        };
        let Some(next) = next else {
            return false;
        };
        at = next;
    }
    match (last, to, at) {
        (Err(key), Some(v), Value::Object(map)) => {
            map.insert(key.clone(), v);
            true
        }
        (Err(key), None, Value::Object(map)) => map.remove(key).is_some(),
        (Ok(i), None, Value::Array(items)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        (Ok(i), Some(v), Value::Array(items)) if *i < items.len() => {
            items[*i] = v;
            true
        }
        _ => false,
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A length rule's bounds in words: characters for text, items for lists.
fn length_message(e: &validator::ValidationError) -> String {
    let unit = match e.params.get("value") {
        Some(Value::Array(_)) => "items",
        _ => "characters",
    };
    let n = |k: &str| e.params.get(k).and_then(Value::as_u64);
    match (n("equal"), n("min"), n("max")) {
        (Some(eq), _, _) => format!("must have exactly {eq} {unit}"),
        (None, Some(lo), Some(hi)) => format!("must have {lo} to {hi} {unit}"),
        (None, Some(lo), None) => format!("must have at least {lo} {unit}"),
        (None, None, Some(hi)) => format!("must have at most {hi} {unit}"),
        (None, None, None) => "has the wrong length".into(),
    }
}

/// A number out of its bounds, saying them.
fn range_message(e: &validator::ValidationError) -> String {
    let n = |k: &str| {
        e.params
            .get(k)
            .and_then(Value::as_f64)
            .map(|v| v.to_string())
    };
    match (n("min"), n("max")) {
        (Some(lo), Some(hi)) => format!("must be from {lo} to {hi}"),
        (Some(lo), None) => format!("must be at least {lo}"),
        (None, Some(hi)) => format!("must be at most {hi}"),
        (None, None) => "is out of range".into(),
    }
}

/// The validator crate's nested errors as a flat list of dotted field paths.
pub fn flatten(errors: &ValidationErrors, prefix: &str) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| match e.code.as_ref() {
                            "email" => "must be an email address".into(),
                            "length" => length_message(e),
                            "range" => range_message(e),
                            code => format!("is invalid ({code})"),
                        });
                    out.push(FieldError::new(path.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => out.extend(flatten(inner, &path)),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    out.extend(flatten(inner, &format!("{path}[{i}]")));
                }
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_path_sets_and_removes_values_at_any_depth() {
        let mut v = json!({"a": {"b": [1, {"c": 2}]}});
        assert!(set_at(&mut v, "a.b[1].c", Some(json!(3))));
        assert_eq!(v["a"]["b"][1]["c"], 3);
        assert!(set_at(&mut v, "a.b[0]", None));
        assert_eq!(v["a"]["b"], json!([{"c": 3}]));
        assert!(set_at(&mut v, "a.d", Some(json!("x"))));
        assert!(!set_at(&mut v, "a.b[5]", None), "no such element");
        assert!(
            !set_at(&mut v, ".", None),
            "the whole body is never removed"
        );
        assert!(!set_at(&mut v, "z.y", Some(json!(1))), "no such parent");
    }

    #[test]
    fn the_first_variant_is_read_from_serdes_message() {
        assert_eq!(
            first_variant("unknown variant `EU`, expected one of `PRC`, `US`, `OTHER`").as_deref(),
            Some("PRC")
        );
        assert_eq!(
            first_variant("unknown variant ``, expected `third_party` or `affiliate`").as_deref(),
            Some("third_party")
        );
        assert_eq!(
            first_variant("invalid type: integer `1`, expected a string"),
            None
        );
    }
}
