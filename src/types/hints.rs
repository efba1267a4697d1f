//! Did-you-mean hints for near misses: a country written another way (`UK`, `USA`, `cn`), a
//! taxonomy key with a segment left out (`user.email`) or mistyped.

use super::country::is_country;

/// Codes people write for a country that ISO 3166-1 alpha-2 spells otherwise: the common
/// non-ISO ones and the alpha-3 codes of the countries the policy names most.
const ALIASES: &[(&str, &str)] = &[
    ("UK", "GB"),
    ("EL", "GR"),
    ("EN", "GB"),
    ("USA", "US"),
    ("CHN", "CN"),
    ("PRC", "CN"),
    ("GBR", "GB"),
    ("DEU", "DE"),
    ("FRA", "FR"),
    ("JPN", "JP"),
    ("KOR", "KR"),
    ("HKG", "HK"),
    ("MAC", "MO"),
    ("TWN", "TW"),
    ("SGP", "SG"),
    ("IND", "IN"),
    ("IRL", "IE"),
    ("NLD", "NL"),
    ("ESP", "ES"),
    ("ITA", "IT"),
    ("CHE", "CH"),
    ("CAN", "CA"),
    ("AUS", "AU"),
    ("BRA", "BR"),
    ("RUS", "RU"),
];

/// The alpha-2 code `code` most likely means, when it is not one itself.
pub fn country(code: &str) -> Option<&'static str> {
    let upper = code.trim().to_ascii_uppercase();
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == upper) {
        return Some(to);
    }
    if upper != code && is_country(&upper) {
        // Return the static spelling from the alias-free path: the code itself, upper-cased.
        return super::country::static_code(&upper);
    }
    None
}

/// The message for a code that is not an alpha-2 code, with a hint when one is likely.
pub fn country_message(code: &str) -> String {
    let base = "must be an ISO 3166-1 alpha-2 code in upper case, e.g. \"CN\"";
    match country(code) {
        Some(hint) => format!("{base}; did you mean \"{hint}\"?"),
        None => base.to_owned(),
    }
}

/// Edit distance between two short strings (Levenshtein, by bytes).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// The key of `known` that `key` most likely means: one that ends with the same last segment
/// and shares the first (`user.email` → `user.contact.email`), else the nearest within three
/// edits. `None` when nothing is close, or when several are equally so.
pub fn key<'a>(key: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let last = key.rsplit('.').next().unwrap_or(key);
    let first = key.split('.').next().unwrap_or(key);
    let mut by_segment: Vec<&str> = Vec::new();
    let mut nearest: Option<(usize, &str, bool)> = None;
    for k in known {
        if k.rsplit('.').next() == Some(last) && k.split('.').next() == Some(first) {
            by_segment.push(k);
        }
        let d = distance(key, k);
        match nearest {
            Some((best, _, _)) if d > best => {}
            Some((best, _, _)) if d == best => nearest = Some((d, k, true)),
            _ => nearest = Some((d, k, false)),
        }
    }
    if let [only] = by_segment[..] {
        return Some(only);
    }
    match nearest {
        Some((d, k, false)) if d <= 3 && d < key.len() => Some(k),
        _ => None,
    }
}

/// "is not a key of the taxonomy", with a hint when a key is close.
pub fn key_message<'a>(key_: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    match key(key_, known) {
        Some(k) => format!("is not a key of the taxonomy; did you mean \"{k}\"?"),
        None => "is not a key of the taxonomy".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_written_another_way_get_their_alpha_2_code() {
        assert_eq!(country("UK"), Some("GB"));
        assert_eq!(country("USA"), Some("US"));
        assert_eq!(country("cn"), Some("CN"));
        assert_eq!(country(" de"), Some("DE"));
        assert_eq!(country("CN"), None, "a valid code needs no hint");
        assert_eq!(country("XX"), None);
        assert_eq!(country("xx"), None);
        assert!(country_message("UK").ends_with("did you mean \"GB\"?"));
        assert!(!country_message("ZZ").contains("did you mean"));
    }

    #[test]
    fn a_key_with_a_segment_left_out_or_mistyped_is_suggested() {
        let known = [
            "user",
            "user.contact",
            "user.contact.email",
            "user.contact.phone_number",
            "user.name",
            "user.financial",
            "system",
        ];
        assert_eq!(key("user.email", known), Some("user.contact.email"));
        assert_eq!(key("user.contact.emial", known), Some("user.contact.email"));
        assert_eq!(key("user.nmae", known), Some("user.name"));
        assert_eq!(key("marketing.thing", known), None);
        assert_eq!(key("xyz", known), None);
        assert!(key_message("user.email", known).contains("\"user.contact.email\""));
    }
}
