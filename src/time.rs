//! Timestamps: one fixed-width RFC 3339 UTC form with microseconds, used in storage, in the API and
//! in the ledger hashes, so a value round-trips exactly on both backends.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// The current instant, truncated to the microsecond precision the storage keeps.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// `2026-11-29T01:02:03.456789Z`.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses any RFC 3339 timestamp (any offset) into UTC, truncated to microseconds.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    DateTime::from_timestamp_micros(t.timestamp_micros())
}

/// Parses a plain `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_fixed_width_microseconds_and_z() {
        let t = parse("2026-01-02T03:04:05+02:00").unwrap();
        assert_eq!(format(t), "2026-01-02T01:04:05.000000Z");
    }

    #[test]
    fn rejects_non_rfc3339_and_bad_dates() {
        assert!(parse("2026-01-02").is_none());
        assert!(parse("yesterday").is_none());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("2026-2-3").is_none());
        assert_eq!(parse_date("2026-02-03").unwrap().to_string(), "2026-02-03");
    }
}
