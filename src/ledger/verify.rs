//! Verifying the stored log, page by page, so memory stays flat however long it is.

use diesel::QueryResult;
use ed25519_dalek::VerifyingKey;

use super::audit::Auditor;
use super::chain::VerifyReport;
use super::store::{all_checkpoints, head, list};
use crate::db::DbConn;

/// Recomputes every entry's hash, checks the chain and `seq`, that the log reaches its recorded
/// head, and that it matches every signed checkpoint.
pub fn verify_log(conn: &mut DbConn, keys: &[VerifyingKey]) -> QueryResult<VerifyReport> {
    let (head_seq, head_hash, _) = head(conn)?;
    let mut auditor = Auditor::new(all_checkpoints(conn)?, keys);
    let mut after = 0;
    loop {
        let rows = list(conn, after, None, None, 1000)?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            auditor.push(row, Some(&row.leaf_hash));
        }
    }
    let mut report = auditor.finish(Some(head_seq));
    if report.ok && (report.head_seq != head_seq || report.head_hash != head_hash) {
        report.ok = false;
        // Entries past the recorded head are the first not to belong; else the head itself.
        report.first_bad_seq = Some(if report.head_seq > head_seq {
            head_seq + 1
        } else {
            head_seq.max(1)
        });
        report
            .problems
            .push("the last entry does not match the recorded head".into());
    }
    Ok(report)
}
