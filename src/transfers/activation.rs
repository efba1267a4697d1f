//! Recording the rule set a node runs: when the ledger's last `rules.activated` entry names
//! another rule set (or none), the node writes the whole rule set and its hash under the head
//! lock before it is ready. Not a register change: snapshots are not reloaded for it.

use super::rules::RuleSet;
use crate::db::DbConn;
use crate::error::DomainError;
use crate::ledger::{Subject, action};

/// Records `rules` unless it is the rule set the ledger recorded last. Returns whether an
/// entry was written. Call inside a write transaction.
pub fn ensure_recorded(conn: &mut DbConn, rules: &RuleSet) -> Result<bool, DomainError> {
    let mut appender = crate::ledger::Appender::lock(conn)?;
    let last = crate::ledger::store::latest_of_action(conn, action::RULES_ACTIVATED)?;
    let recorded = last
        .and_then(|row| serde_json::from_str::<serde_json::Value>(&row.change).ok())
        .and_then(|change| change["sha256"].as_str().map(str::to_owned));
    if recorded.as_deref() == Some(rules.sha256.as_str()) {
        return Ok(false);
    }
    let change = serde_json::json!({
        "rules": serde_json::to_value(&rules.published)?,
        "sha256": rules.sha256,
        "version": rules.version(),
    });
    appender.append(
        &crate::ledger::system_actor(),
        action::RULES_ACTIVATED,
        Subject::Rules(rules.version()),
        &change,
        false,
    );
    appender.finish(conn)?;
    Ok(true)
}
