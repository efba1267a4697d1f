//! The taxonomy of data categories and purposes: hierarchical dotted keys, where a key covers
//! itself and its descendants.

pub mod routes;
pub mod seed;

/// True when `ancestor` is `key` or one of its ancestors (`user.contact` covers
/// `user.contact.email`, never the reverse, and never `user.contactless`).
pub fn covers(ancestor: &str, key: &str) -> bool {
    key == ancestor
        || (key.len() > ancestor.len()
            && key.starts_with(ancestor)
            && key.as_bytes()[ancestor.len()] == b'.')
}

/// The parent of a dotted key (`user.contact` for `user.contact.email`).
pub fn parent_of(key: &str) -> Option<&str> {
    key.rfind('.').map(|i| &key[..i])
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_covers_itself_and_descendants_only() {
        assert!(covers("user.contact", "user.contact"));
        assert!(covers("user.contact", "user.contact.email"));
        assert!(covers("user", "user.contact.address.city"));
        assert!(!covers("user.contact.email", "user.contact"));
        assert!(!covers("user.contact", "user.contactless"));
        assert!(!covers("user.contact", "user.name"));
    }

    #[test]
    fn keys_are_lowercase_dotted_segments() {
        assert!(is_well_formed("user.device.browser_type"));
        assert!(!is_well_formed("user..email"));
        assert!(!is_well_formed("User.email"));
        assert!(!is_well_formed("user.email "));
        assert!(!is_well_formed(""));
        assert_eq!(parent_of("user.contact.email"), Some("user.contact"));
        assert_eq!(parent_of("user"), None);
    }
}
