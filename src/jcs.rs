//! RFC 8785 JSON Canonicalization Scheme, for the values this service hashes and signs.
//!
//! The ledger holds only strings, integers, booleans, nulls, arrays and objects; integers are
//! written as JCS (ECMAScript) writes them as long as they are within ±2^53, which the ledger's
//! own numbers are. Object members are sorted by their UTF-16 code units, as RFC 8785 requires.

use serde_json::Value;

/// The canonical serialisation of `value`.
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(v, out);
            }
            out.push(']');
        }
        Value::String(s) => write_str(s, out),
        // serde_json writes booleans, null and integers exactly as JCS does.
        other => out.push_str(&other.to_string()),
    }
}

fn write_str(s: &str, out: &mut String) {
    // serde_json escapes like ECMAScript's JSON.stringify: \" \\ \b \f \n \r \t, other control
    // characters as lowercase \u00xx, everything else verbatim.
    out.push_str(&Value::String(s.to_owned()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_members_recursively_and_drops_whitespace() {
        let v = json!({"b": [3, {"z": null, "a": true}], "a": "x"});
        assert_eq!(to_string(&v), r#"{"a":"x","b":[3,{"a":true,"z":null}]}"#);
    }

    #[test]
    fn sorts_by_utf16_code_units_as_rfc8785_example() {
        // RFC 8785 §3.2.3: "\r" < "1" < "\u0080" < "\u00f6" < "\u20ac" < "\ud83d\ude00" < "\ufb33".
        let v = json!({"\u{20ac}": 1, "\r": 2, "\u{fb33}": 3, "1": 4, "\u{1f600}": 5, "\u{80}": 6, "\u{f6}": 7});
        let keys: Vec<String> = match serde_json::from_str::<Value>(&to_string(&v)) {
            Ok(Value::Object(_)) => to_string(&v)
                .trim_matches(|c| c == '{' || c == '}')
                .split(',')
                .map(|m| m.split(':').next().unwrap_or_default().to_owned())
                .collect(),
            _ => unreachable!(),
        };
        assert_eq!(
            keys,
            vec![
                "\"\\r\"",
                "\"1\"",
                "\"\u{80}\"",
                "\"\u{f6}\"",
                "\"\u{20ac}\"",
                "\"\u{1f600}\"",
                "\"\u{fb33}\""
            ]
        );
    }

    #[test]
    fn escapes_control_characters_in_lowercase_hex() {
        assert_eq!(to_string(&json!("a\u{1f}\n\"")), r#""a\u001f\n\"""#);
    }
}
