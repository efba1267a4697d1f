//! ISO 3166-1 alpha-2 country codes and the regions the policy names.

use serde::{Deserialize, Serialize};

/// The 249 officially assigned ISO 3166-1 alpha-2 codes.
const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL \
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK \
DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU \
GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY \
MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU \
RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO \
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// True for an assigned ISO 3166-1 alpha-2 code, in upper case.
pub fn is_country(code: &str) -> bool {
    // CODES is sorted and every entry is three bytes apart ("AD AE …"): a binary search.
    let b = code.as_bytes();
    if b.len() != 2 || !b.iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    let entries = CODES.len().div_ceil(3);
    let (mut lo, mut hi) = (0, entries);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match CODES.as_bytes()[mid * 3..mid * 3 + 2].cmp(b) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The static spelling of an assigned code (for hints that outlive their input).
pub(super) fn static_code(code: &str) -> Option<&'static str> {
    if !is_country(code) {
        return None;
    }
    CODES.split(' ').find(|c| *c == code)
}

/// An assigned ISO 3166-1 alpha-2 code in upper case: only a valid code can be held.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(code: &str) -> Option<CountryCode> {
        is_country(code).then(|| CountryCode([code.as_bytes()[0], code.as_bytes()[1]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever held.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The region the policy puts this country in.
    pub fn region(self) -> Region {
        Region::of(self.as_str())
    }
}

impl std::fmt::Display for CountryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        CountryCode::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(super::hints::country_message(&text)))
    }
}

super::stored_as_text!(CountryCode);

super::text_enum! {
    /// Where data or a data subject is, as the policy groups countries.
    pub enum Region {
        /// The People's Republic of China (CN).
        Prc = "PRC",
        /// The United States (US).
        Us = "US",
        /// Every other country.
        Other = "OTHER",
    }
}

impl Region {
    pub fn of(country: &str) -> Region {
        match country {
            "CN" => Region::Prc,
            "US" => Region::Us,
            _ => Region::Other,
        }
    }
}

/// A set of two-letter country codes, held inline (one bit per code).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Countries([u64; 11]);

impl Countries {
    fn slot(code: &str) -> Option<usize> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
                Some((a - b'A') as usize * 26 + (b - b'A') as usize)
            }
            _ => None,
        }
    }

    pub fn insert(&mut self, code: &str) {
        if let Some(i) = Countries::slot(code) {
            self.0[i / 64] |= 1 << (i % 64);
        }
    }

    pub fn contains(&self, code: &str) -> bool {
        Countries::slot(code).is_some_and(|i| self.0[i / 64] & (1 << (i % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_assigned_upper_case_codes_are_countries() {
        let codes: Vec<&str> = CODES.split_ascii_whitespace().collect();
        assert_eq!(codes.len(), 249);
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "sorted, for the binary search"
        );
        assert_eq!(CODES.len(), 249 * 3 - 1, "one space between codes");
        assert!(
            codes.iter().all(|c| is_country(c)),
            "every listed code is found"
        );
        assert!(is_country("CN") && is_country("US") && is_country("DE"));
        assert!(!is_country("cn") && !is_country("XX") && !is_country("USA") && !is_country("S "));
        assert!(!is_country("UK"));
    }

    #[test]
    fn a_country_code_holds_only_assigned_codes() {
        assert_eq!(
            CountryCode::parse("CN").map(|c| c.region()),
            Some(Region::Prc)
        );
        assert_eq!(
            CountryCode::parse("DE").map(|c| c.to_string()),
            Some("DE".into())
        );
        assert!(CountryCode::parse("cn").is_none() && CountryCode::parse("UK").is_none());
        assert!(serde_json::from_str::<CountryCode>("\"XX\"").is_err());
    }

    #[test]
    fn regions_follow_the_country() {
        assert_eq!(Region::of("CN"), Region::Prc);
        assert_eq!(Region::of("US"), Region::Us);
        assert_eq!(Region::of("HK"), Region::Other);
    }
}
