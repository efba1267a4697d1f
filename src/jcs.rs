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
            members.sort_by(|a, b| utf16_order(a.0, b.0));
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
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // serde_json writes integers exactly as JCS does.
        Value::Number(n) => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
    }
}

/// RFC 8785 orders members by their UTF-16 code units. For keys without characters beyond the
/// Basic Multilingual Plane (every key this service writes) that is the UTF-8 byte order.
fn utf16_order(a: &str, b: &str) -> std::cmp::Ordering {
    let astral = |s: &str| s.bytes().any(|c| c >= 0xf0);
    if astral(a) || astral(b) {
        a.encode_utf16().cmp(b.encode_utf16())
    } else {
        a.as_bytes().cmp(b.as_bytes())
    }
}

/// Writes `s` as a JSON string the way ECMAScript's JSON.stringify does (RFC 8785 §3.2.2.2):
/// \" \\ \b \f \n \r \t, other control characters as lowercase \u00xx, everything else verbatim.
pub fn write_str(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_escaped_as_json_stringify_does() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€\u{1f600}\u{2028}");
        for s in [all.as_str(), "", "plain", "\"\\", "a\u{0}b"] {
            let mut out = String::new();
            write_str(s, &mut out);
            // serde_json writes strings as ECMAScript does (lowercase \u00xx, no other escapes).
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
        let mut out = String::new();
        write_str("\u{1}\u{8}\u{c}\u{1f}", &mut out);
        assert_eq!(out, r#""\u0001\b\f\u001f""#);
    }

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
