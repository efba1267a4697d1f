//! Rules every part of the register applies to its input lists.

use crate::error::DomainError;

/// Invalid input for the first duplicate in a list.
pub fn check_unique<T: PartialEq>(field: &str, items: &[T]) -> Result<(), DomainError> {
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(DomainError::field(
                format!("{field}[{i}]"),
                "is listed twice",
            ));
        }
    }
    Ok(())
}
