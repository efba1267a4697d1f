//! Taxonomy keys and service keys.

use serde::{Deserialize, Serialize};

macro_rules! string_key {
    ($(#[$meta:meta])* $name:ident, $valid:path, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, diesel::AsExpression,
            diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Option<$name> {
                $valid(text).then(|| $name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| serde::de::Error::custom($what))
            }
        }

        super::stored_as_text!($name);
    };
}

string_key!(
    /// A well-formed taxonomy key: dot-separated segments of lowercase letters, digits and
    /// underscores (whether the taxonomy holds it is the taxonomy's question).
    CategoryKey,
    is_well_formed,
    "must be dot-separated segments of lowercase letters, digits and underscores"
);

string_key!(
    /// A service key: 1-100 lowercase letters, digits, `-` or `_`, starting with a letter or
    /// digit; the `sub` of the service's tokens.
    ServiceKey,
    is_service_key,
    "must be 1-100 lowercase letters, digits, '-' or '_', starting with a letter or digit"
);

/// A well-formed key: dot-separated segments of lowercase letters, digits and underscores.
pub fn is_well_formed(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && key.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// The rule of a [`ServiceKey`].
pub fn is_service_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 100
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && key.as_bytes()[0].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_only_valid_values() {
        assert!(ServiceKey::parse("news-letter_2").is_some());
        assert!(ServiceKey::parse("-news").is_none() && ServiceKey::parse("News").is_none());
        assert!(ServiceKey::parse(&"a".repeat(101)).is_none());
        assert!(CategoryKey::parse("user.contact.email").is_some());
        assert!(CategoryKey::parse("user..email").is_none());
        assert!(serde_json::from_str::<CategoryKey>("\"User\"").is_err());
    }
}
