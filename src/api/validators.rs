//! Field rules the validator crate runs on request bodies, and the parsing of query values
//! shared by several endpoints.

use serde::{Deserialize, Deserializer};
use validator::ValidationError;

use super::error::ApiError;
use crate::error::DomainError;
use crate::types::CountryCode;

/// One country code.
pub fn country(code: &str) -> Result<(), ValidationError> {
    if CountryCode::parse(code).is_some() {
        Ok(())
    } else {
        Err(ValidationError::new("country")
            .with_message(crate::types::hints::country_message(code).into()))
    }
}

/// An id this API issued: a UUID in its hyphenated form.
pub fn uuid(id: &str) -> Result<(), ValidationError> {
    if id.len() == 36 && uuid::Uuid::try_parse(id).is_ok() {
        Ok(())
    } else {
        Err(ValidationError::new("uuid").with_message(
            "must be an id this API issued (a UUID such as 0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f)"
                .into(),
        ))
    }
}

/// A list of 1-249 distinct country codes.
pub fn countries(codes: &[String]) -> Result<(), ValidationError> {
    if codes.is_empty() {
        return Err(
            ValidationError::new("length").with_message("must list at least one country".into())
        );
    }
    if codes.len() > 249 {
        return Err(ValidationError::new("length").with_message("lists too many countries".into()));
    }
    for (i, c) in codes.iter().enumerate() {
        if CountryCode::parse(c).is_none() {
            return Err(ValidationError::new("country").with_message(
                format!("item {i} {}", crate::types::hints::country_message(c)).into(),
            ));
        }
        if codes[..i].contains(c) {
            return Err(ValidationError::new("unique")
                .with_message(format!("item {i} is listed twice").into()));
        }
    }
    Ok(())
}

/// Country codes already checked by [`countries`], as values.
pub fn parse_countries(field: &str, codes: &[String]) -> Result<Vec<CountryCode>, DomainError> {
    codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            CountryCode::parse(c).ok_or_else(|| {
                DomainError::field(
                    format!("{field}[{i}]"),
                    "must be an ISO 3166-1 alpha-2 code",
                )
            })
        })
        .collect()
}

pub fn https_url(s: &str) -> Result<(), ValidationError> {
    if crate::registry::parties::is_https_url(s) {
        Ok(())
    } else {
        Err(ValidationError::new("url").with_message("must be an absolute https URL".into()))
    }
}

pub fn date(s: &str) -> Result<(), ValidationError> {
    match crate::time::parse_date(s) {
        Some(_) => Ok(()),
        None => {
            Err(ValidationError::new("date").with_message("must be a date as YYYY-MM-DD".into()))
        }
    }
}

/// Distinguishes an absent field (`None`) from an explicit null (`Some(None)`).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Parses an optional query value with `parse` (422 naming `field`, saying `why`, when it fails).
pub fn optional<T>(
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    why: &str,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| parse(v).ok_or_else(|| ApiError::field(field, why)))
        .transpose()
}

/// Parses an `as_of` query value: an RFC 3339 instant, or a bare `YYYY-MM-DD` date meaning the
/// end of that day in UTC (its last microsecond, so everything recorded that day is included).
/// 422 when it is neither.
pub fn as_of(value: Option<&str>) -> Result<Option<String>, ApiError> {
    day_or_instant(
        "as_of",
        value,
        "T23:59:59.999999Z",
        "must be an RFC 3339 timestamp (2026-06-01T12:00:00Z) or a date (2026-06-01: the end of that day, UTC)",
    )
}

/// An RFC 3339 instant or a bare `YYYY-MM-DD` date, in the stored form; a date becomes that
/// day's instant `time_of_day` (e.g. `T00:00:00.000000Z`). 422 naming `field`, saying `why`.
pub fn day_or_instant(
    field: &str,
    value: Option<&str>,
    time_of_day: &str,
    why: &str,
) -> Result<Option<String>, ApiError> {
    value
        .map(|v| match crate::time::parse_date(v) {
            Some(day) => Ok(format!("{}{time_of_day}", day.format("%Y-%m-%d"))),
            None => crate::time::parse(v)
                .map(crate::time::format)
                .ok_or_else(|| ApiError::field(field, why)),
        })
        .transpose()
}

/// Parses an RFC 3339 query value into the stored form (422 when it is not one).
pub fn instant(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| {
            crate::time::parse(v)
                .map(crate::time::format)
                .ok_or_else(|| ApiError::field(field, "must be an RFC 3339 timestamp"))
        })
        .transpose()
}

/// The errors of several fields at once (422 listing each).
pub fn gather(results: Vec<Result<(), crate::error::FieldError>>) -> Result<(), DomainError> {
    crate::error::collect(results.into_iter().filter_map(Result::err).collect())
}

/// An RFC 3339 body field in the stored form, or the field's error.
pub fn stamp(field: &str, value: &str) -> Result<String, crate::error::FieldError> {
    crate::time::parse(value)
        .map(crate::time::format)
        .ok_or_else(|| crate::error::FieldError::new(field, "must be an RFC 3339 timestamp"))
}

/// [`stamp`] of an optional field.
pub fn optional_stamp(
    field: &str,
    value: Option<&str>,
) -> Result<Option<String>, crate::error::FieldError> {
    value.map(|v| stamp(field, v)).transpose()
}

/// `?as_of=`: a point-in-time read, shared by every register object that answers one.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// Answer what the register said at this instant: RFC 3339, or a bare date meaning the end
    /// of that day, UTC.
    pub as_of: Option<String>,
}

impl AsOfQuery {
    pub fn as_of(&self) -> Option<&str> {
        self.as_of.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_date_as_of_is_the_last_microsecond_of_that_day_utc() {
        let end = as_of(Some("2026-06-01")).unwrap().unwrap();
        assert_eq!(end, "2026-06-01T23:59:59.999999Z");
        // Stored instants compare as text: the day's last entry is in, the next day's first out.
        assert!("2026-06-01T23:59:59.999999Z" <= end.as_str());
        assert!("2026-06-02T00:00:00.000000Z" > end.as_str());
        assert_eq!(
            as_of(Some("2026-06-01T12:00:00+02:00")).unwrap().unwrap(),
            "2026-06-01T10:00:00.000000Z"
        );
        assert!(as_of(Some("2026-02-30")).is_err());
        assert!(as_of(Some("2026-06-01T25:00:00Z")).is_err());
        assert_eq!(as_of(None).unwrap(), None);
    }
}
