//! Keeping a node's snapshot following register changes made on any node: PostgreSQL
//! `LISTEN/NOTIFY`, with a periodic revision check in case a notification is lost. Neither is
//! needed for correctness — every decision checks the revision in its own transaction — they
//! only spare the first decision after a change the reload.

use std::sync::Arc;

use diesel::RunQueryDsl;

use super::loading::load_current;
use super::snapshot::{Snapshot, install};

/// Runs until the process ends.
pub fn follow(
    database_url: &str,
    pool: crate::db::Pool,
    slot: Arc<std::sync::RwLock<Arc<Snapshot>>>,
) {
    use diesel::Connection;
    use std::time::{Duration, Instant};
    let mut last_check = Instant::now();
    loop {
        let Ok(mut listener) = diesel::PgConnection::establish(database_url) else {
            std::thread::sleep(Duration::from_secs(2));
            continue;
        };
        if diesel::sql_query(format!("LISTEN {}", crate::db::REGISTER_CHANNEL))
            .execute(&mut listener)
            .is_err()
        {
            std::thread::sleep(Duration::from_secs(2));
            continue;
        }
        loop {
            let mut newest: Option<i64> = None;
            let mut broken = false;
            for n in listener.notifications_iter() {
                match n {
                    Ok(n) => newest = newest.max(n.payload.parse().ok()),
                    Err(_) => {
                        broken = true;
                        break;
                    }
                }
            }
            if broken {
                break;
            }
            let current = slot.read().map(|s| s.clone()).unwrap_or_default();
            let due = newest.is_some_and(|r| r > current.revision)
                || last_check.elapsed() > Duration::from_secs(5);
            if due {
                last_check = Instant::now();
                // The head first: a periodic check that finds nothing new costs one query, not
                // a copy of the snapshot.
                if let Ok(mut conn) = pool.get()
                    && crate::ledger::head(&mut conn).is_ok_and(|h| h.2 > current.revision)
                    && let Ok(fresh) = load_current(&mut conn, &current)
                    && fresh.revision > current.revision
                {
                    install(&slot, Arc::new(fresh));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
