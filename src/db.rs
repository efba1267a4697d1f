//! Storage: one diesel connection type over SQLite and PostgreSQL, its pool, migrations, and the
//! few operations where the two backends truly differ.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::result::QueryResult;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to either backend; every query in the crate is written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Where the data lives.
#[derive(Clone, Debug)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Target {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Target::Postgres(_))
    }
}

/// Opens connections of the configured backend only (diesel's own `establish` on a multi
/// connection tries every backend in turn and would hide the real error).
pub struct Manager {
    target: Target,
    /// SQLite: whether a committing connection checkpoints the WAL itself (SQLite's default,
    /// every 1000 pages) or leaves it to [`checkpoint_wal`], run off the write path.
    inline_checkpoints: bool,
}

/// Every SQLite connection: write-ahead log, full fsync on commit, foreign keys, and a busy
/// timeout so a writer waits for the lock instead of failing with "database is locked".
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
    PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000;";

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.target {
            Target::Postgres(url) => PgConnection::establish(url)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
            Target::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                if !self.inline_checkpoints {
                    conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Builds the pool. Connections are checked when they are handed out, so a database that went
/// away and came back is noticed without a restart.
pub fn pool(target: &Target, size: u32) -> Result<Pool, r2d2::PoolError> {
    pool_with(target, size, true)
}

/// [`pool`], choosing where SQLite's WAL is checkpointed: `inline_checkpoints: false` for a
/// process that runs [`checkpoint_wal`] on a thread of its own (`serve`).
pub fn pool_with(
    target: &Target,
    size: u32,
    inline_checkpoints: bool,
) -> Result<Pool, r2d2::PoolError> {
    if let Target::Sqlite(path) = target
        && let Some(dir) = path.parent()
    {
        let _ = std::fs::create_dir_all(dir);
    }
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(true)
        .build(Manager {
            target: target.clone(),
            inline_checkpoints,
        })
}

/// The WAL size (in pages) past which [`checkpoint_wal`] waits for writers to finish a
/// checkpoint, so the file stays bounded under a load that never pauses: 64 MiB of 4 KiB pages.
const WAL_RESTART_PAGES: i64 = 16_384;

/// Copies the SQLite WAL into the database without making any writer wait (`PASSIVE`): what a
/// committing connection would otherwise do itself every 1000 pages, inside its commit. When
/// the WAL has grown past [`WAL_RESTART_PAGES`] it checkpoints with `RESTART` instead, which
/// waits for the writer of the moment and lets the next one start the file again. Answers the
/// WAL's pages and how many were copied; nothing on PostgreSQL.
pub fn checkpoint_wal(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Checkpoint {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        log: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        checkpointed: i64,
    }
    let DbConn::Sqlite(c) = conn else {
        return Ok((0, 0));
    };
    let run = |c: &mut SqliteConnection, mode: &str| {
        diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})"))
            .get_result::<Checkpoint>(c)
            .map(|r| (r.log, r.checkpointed))
    };
    let (log, done) = run(c, "PASSIVE")?;
    if log > WAL_RESTART_PAGES && done < log {
        return run(c, "RESTART");
    }
    Ok((log, done))
}

/// Runs [`checkpoint_wal`] every `every`, for as long as the process lives (`serve` on SQLite).
pub fn run_wal_checkpoints(pool: Pool, every: Duration) {
    loop {
        std::thread::sleep(every);
        let done = pool
            .get()
            .map_err(|e| e.to_string())
            .and_then(|mut c| checkpoint_wal(&mut c).map_err(|e| e.to_string()));
        match done {
            Ok((log, copied)) => tracing::debug!(log, copied, "WAL checkpoint"),
            // A full disk or a busy file: the next round tries again; commits are unaffected.
            Err(cause) => tracing::warn!(%cause, "WAL checkpoint failed"),
        }
    }
}

/// Applies the embedded migrations of the connection's backend.
pub fn migrate(conn: &mut DbConn) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    match conn {
        DbConn::Pg(c) => {
            // Several nodes may start at once: one migrates, the others wait for it.
            c.batch_execute("SELECT pg_advisory_lock(7428915);")?;
            let result = c.run_pending_migrations(PG_MIGRATIONS).map(|_| ());
            c.batch_execute("SELECT pg_advisory_unlock(7428915);")?;
            result
        }
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    }
}

/// Applies the embedded migrations whose version is at most `version` (`2026-12-02-000003`),
/// one at a time: an upgrade test stops here, writes data of that schema, then migrates on.
pub fn migrate_through(
    conn: &mut DbConn,
    version: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    fn through<C: MigrationHarness<B>, B: diesel::backend::Backend>(
        c: &mut C,
        source: EmbeddedMigrations,
        version: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let version = version.replace('-', "");
        for m in c.pending_migrations(source)? {
            if m.name().version().to_string().replace('-', "") > version {
                break;
            }
            c.run_migration(&*m)?;
        }
        Ok(())
    }
    match conn {
        DbConn::Pg(c) => through(c, PG_MIGRATIONS, version),
        DbConn::Sqlite(c) => through(c, SQLITE_MIGRATIONS, version),
    }
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (the write lock is taken up
/// front, so two writers never deadlock upgrading a read lock), a plain transaction on
/// PostgreSQL. Commits on `Ok`, rolls back on `Err`.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            end(conn, true)?;
            Ok(value)
        }
        Err(e) => {
            let _ = end(conn, false);
            Err(e)
        }
    }
}

/// Commits (`keep`) or rolls back the innermost transaction or savepoint.
fn end(conn: &mut DbConn, keep: bool) -> diesel::QueryResult<()> {
    match (conn, keep) {
        (DbConn::Sqlite(c), true) => AnsiTransactionManager::commit_transaction(c),
        (DbConn::Pg(c), true) => AnsiTransactionManager::commit_transaction(c),
        (DbConn::Sqlite(c), false) => AnsiTransactionManager::rollback_transaction(c),
        (DbConn::Pg(c), false) => AnsiTransactionManager::rollback_transaction(c),
    }
}

/// Runs `f` in a savepoint of the caller's transaction: kept on `Ok`, undone on `Err`.
pub fn savepoint<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    savepoint_then(conn, |conn| f(conn).map(|v| (v, true)))
}

/// Runs `f` in a savepoint of the caller's transaction: kept when `f` answers `Ok((_, true))`,
/// undone when it answers `Ok((_, false))` or `Err` (a dry run undoes what it did).
pub fn savepoint_then<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<(T, bool), E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction(c)?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    let result = f(conn);
    end(conn, matches!(result, Ok((_, true))))?;
    result.map(|(v, _)| v)
}

/// Inserts `$rows` (a slice or `Vec` of insertable rows) into `$table`, at most 500 rows per
/// statement, on a `&mut DbConn`. Multi-row inserts are per backend in diesel, so the backend is
/// matched here for every caller. Expands to a `?` on the statement's error.
macro_rules! insert_in_chunks {
    ($conn:ident, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(500) {
            match $conn {
                $crate::db::DbConn::Pg(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
                $crate::db::DbConn::Sqlite(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
            };
        }
    };
}
pub(crate) use insert_in_chunks;

/// The PostgreSQL channel that carries the register revision after every register change.
pub const REGISTER_CHANNEL: &str = "vendor_registry_register";

/// Tells other nodes the register moved to `revision` (delivered when the transaction commits).
/// SQLite has one node by construction: nothing to tell.
pub fn notify_register_change(conn: &mut DbConn, revision: i64) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => diesel::sql_query(format!(
            "SELECT pg_notify('{REGISTER_CHANNEL}', '{revision}')"
        ))
        .execute(c)
        .map(|_| ()),
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// Runs `f` in a read-only transaction that sees one consistent state of the database.
pub fn consistent_read<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> QueryResult<T>,
) -> QueryResult<T> {
    match conn {
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        )?,
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED")?,
    }
    let result = f(conn);
    let _ = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
        DbConn::Pg(c) => AnsiTransactionManager::rollback_transaction(c),
    };
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_pages(conn: &mut DbConn) -> i64 {
        // A checkpoint that copies nothing new reports the WAL's size.
        checkpoint_wal(conn).unwrap().0
    }

    #[test]
    fn with_checkpoints_off_the_write_path_commits_leave_the_wal_to_the_checkpointer() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Sqlite(dir.path().join("t.db"));
        let pool = pool_with(&target, 2, false).unwrap();
        let mut conn = pool.get().unwrap();
        conn.batch_execute("CREATE TABLE t (x TEXT)").unwrap();
        checkpoint_wal(&mut conn).unwrap();
        // Past SQLite's inline threshold of 1000 pages: no commit checkpointed on its way.
        for _ in 0..300 {
            conn.batch_execute(&format!("INSERT INTO t VALUES ('{}')", "x".repeat(20_000)))
                .unwrap();
        }
        let wal = dir.path().join("t.db-wal");
        let grown = std::fs::metadata(&wal).unwrap().len();
        assert!(
            grown > 1000 * 4096,
            "the WAL kept every page: {grown} bytes"
        );
        let (log, copied) = checkpoint_wal(&mut conn).unwrap();
        assert!(log > 1000 && copied == log, "all copied: {log} {copied}");
        // Once copied, the next commit starts the WAL over instead of growing it.
        conn.batch_execute("INSERT INTO t VALUES ('y')").unwrap();
        assert!(wal_pages(&mut conn) < 10);

        // The default pool checkpoints inside commits, as SQLite does.
        let inline = super::pool(&Target::Sqlite(dir.path().join("u.db")), 1).unwrap();
        let mut conn = inline.get().unwrap();
        conn.batch_execute("CREATE TABLE t (x TEXT)").unwrap();
        for _ in 0..300 {
            conn.batch_execute(&format!("INSERT INTO t VALUES ('{}')", "x".repeat(20_000)))
                .unwrap();
        }
        assert!(
            wal_pages(&mut conn) < 1100,
            "checkpointed inline every 1000 pages"
        );
    }
}
