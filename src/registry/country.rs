//! ISO 3166-1 alpha-2 country codes and the regions the policy names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// A validator-crate check for one country code.
pub fn validate_code(code: &str) -> Result<(), validator::ValidationError> {
    if is_country(code) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("country")
            .with_message("must be an ISO 3166-1 alpha-2 code in upper case, e.g. \"CN\"".into()))
    }
}

/// Where data or a data subject is, as the policy groups countries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Region {
    /// The People's Republic of China (CN).
    #[serde(rename = "PRC")]
    Prc,
    /// The United States (US).
    #[serde(rename = "US")]
    Us,
    /// Every other country.
    #[serde(rename = "OTHER")]
    Other,
}

impl Region {
    pub fn of(country: &str) -> Region {
        match country {
            "CN" => Region::Prc,
            "US" => Region::Us,
            _ => Region::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Prc => "PRC",
            Region::Us => "US",
            Region::Other => "OTHER",
        }
    }

    pub fn parse(s: &str) -> Option<Region> {
        match s {
            "PRC" => Some(Region::Prc),
            "US" => Some(Region::Us),
            "OTHER" => Some(Region::Other),
            _ => None,
        }
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
    fn regions_follow_the_country() {
        assert_eq!(Region::of("CN"), Region::Prc);
        assert_eq!(Region::of("US"), Region::Us);
        assert_eq!(Region::of("HK"), Region::Other);
    }
}
