//! The database: one sqlx `Any` pool over SQLite (default) or PostgreSQL (several replicas),
//! with the schema migrations for each embedded in the binary.
//!
//! Every query in the portal is written once, in the SQL both databases accept (`$1`
//! parameters, `ON CONFLICT … DO UPDATE`, `RETURNING`, integers for times and flags), so the
//! two backends cannot drift apart in behaviour; only the schema files differ in column types.
//!
//! - [`store`]: every query, one file per table;
//! - [`group`]: group commit, many requests' writes in one round trip, used by
//!   [`session_writer`] (session starts) and [`ratelimit`] (scan counters);
//! - [`exchange_reads`]: what concurrent exchanges read, read in one query.

pub mod exchange_reads;
pub mod group;
pub mod ratelimit;
pub mod session_writer;
pub mod store;

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor, SqlSafeStr, Transaction};
use tokio::sync::OwnedMutexGuard;

use crate::error::PortalError;

/// Which database a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// A connection pool and its kind. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub kind: DbKind,
    /// SQLite has one writer at a time. Writers of this process queue here, in order, instead
    /// of in SQLite's busy handler (which sleeps 1, 2, 5, 10… ms and makes the tail latency
    /// long). Other processes on the same file still meet the busy handler. The slot holds
    /// the kept writer connection ([`WriteTurn::conn`]).
    write_lock: Arc<tokio::sync::Mutex<Option<AnyConnection>>>,
    /// Microseconds this process held its SQLite write turn, in total.
    turn_us: Arc<std::sync::atomic::AtomicU64>,
    /// Write transactions begun by this process ([`Db::begin_write`]), in total.
    write_txs: Arc<std::sync::atomic::AtomicU64>,
    /// Whether the writer has a connection of its own (a SQLite file; not an in-memory
    /// database, which is private to the pool's one connection).
    keep_writer: bool,
}

/// This process's turn to write to SQLite (see [`Db::write_turn`]).
#[derive(Debug)]
pub struct WriteTurn {
    /// The kept writer connection (a SQLite file).
    slot: OwnedMutexGuard<Option<AnyConnection>>,
    /// This turn's connection from the pool (in-memory SQLite).
    pooled: Option<PoolConnection<Any>>,
    pool: AnyPool,
    keep: bool,
    since: std::time::Instant,
    turn_us: Arc<std::sync::atomic::AtomicU64>,
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        let held = self.since.elapsed().as_micros() as u64;
        self.turn_us
            .fetch_add(held, std::sync::atomic::Ordering::Relaxed);
    }
}

impl WriteTurn {
    /// The writer connection. On a SQLite file it is one connection of its own, kept turn
    /// after turn (beside the pool's): no other connection of this process writes, so its
    /// page cache stays valid from one commit to the next (a connection that finds the file
    /// changed by another drops its cache and reads the pages again), and its prepared
    /// statements stay prepared. An in-memory database has one connection, the pool's.
    pub async fn conn(&mut self) -> Result<&mut AnyConnection, sqlx::Error> {
        if self.keep {
            if self.slot.is_none() {
                *self.slot = Some(self.pool.acquire().await?.detach());
            }
            Ok(self.slot.as_mut().expect("just filled"))
        } else {
            if self.pooled.is_none() {
                self.pooled = Some(self.pool.acquire().await?);
            }
            Ok(self.pooled.as_mut().expect("just filled"))
        }
    }

    /// Closes the writer connection (after an error it may be broken); the next turn opens
    /// another.
    pub fn discard(&mut self) {
        self.slot.take();
        if let Some(mut conn) = self.pooled.take() {
            conn.close_on_drop();
        }
    }
}

/// A write transaction (holding this process's SQLite write turn until it ends). Dereferences
/// to the connection, so queries run on `&mut *tx`.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<WriteTurn>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "chromebook_signin",
        include_str!("../../migrations/sqlite/0002_chromebook_signin.sql"),
    ),
    (
        3,
        "roster_soft_delete",
        include_str!("../../migrations/sqlite/0003_roster_soft_delete.sql"),
    ),
    (
        4,
        "pin_attempts",
        include_str!("../../migrations/sqlite/0004_pin_attempts.sql"),
    ),
    (
        5,
        "chromeos_password_generations",
        include_str!("../../migrations/sqlite/0005_chromeos_password_generations.sql"),
    ),
    (
        6,
        "signin_device",
        include_str!("../../migrations/sqlite/0006_signin_device.sql"),
    ),
    (
        7,
        "privacy",
        include_str!("../../migrations/sqlite/0007_privacy.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "chromebook_signin",
        include_str!("../../migrations/postgres/0002_chromebook_signin.sql"),
    ),
    (
        3,
        "roster_soft_delete",
        include_str!("../../migrations/postgres/0003_roster_soft_delete.sql"),
    ),
    (
        4,
        "pin_attempts",
        include_str!("../../migrations/postgres/0004_pin_attempts.sql"),
    ),
    (
        5,
        "chromeos_password_generations",
        include_str!("../../migrations/postgres/0005_chromeos_password_generations.sql"),
    ),
    (
        6,
        "signin_device",
        include_str!("../../migrations/postgres/0006_signin_device.sql"),
    ),
    (
        7,
        "privacy",
        include_str!("../../migrations/postgres/0007_privacy.sql"),
    ),
];

#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> BoxFuture<'static, Result<Vec<Migration>, Box<dyn std::error::Error + Send + Sync>>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, name, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*name),
                        MigrationType::Simple,
                        sql.into_sql_str(),
                        false,
                    )
                })
                .collect())
        })
    }
}

impl Db {
    /// Connects to `url`: `sqlite://PATH` (the file is created when missing),
    /// `sqlite::memory:` (one private database held by a single connection), or
    /// `postgres://USER@HOST/DB`.
    pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<Db, PortalError> {
        install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else {
            return Err(PortalError::Invalid(format!(
                "database_url {:?}: use sqlite://FILE, sqlite::memory: or postgres://…",
                redact_url(url)
            )));
        };
        let memory = kind == DbKind::Sqlite && url.contains(":memory:");
        let mut url = url.to_string();
        if kind == DbKind::Sqlite && !memory && !url.contains("mode=") {
            url.push_str(if url.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
        let mut opts = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        opts = if memory {
            // An in-memory SQLite database lives as long as its one connection.
            opts.max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            let default = if kind == DbKind::Sqlite { 4 } else { 10 };
            opts.max_connections(max_connections.unwrap_or(default))
        };
        if kind == DbKind::Sqlite {
            // A connection to a local file does not go stale: no ping round trip to its worker
            // thread before every query.
            opts = opts.test_before_acquire(false);
            opts = opts.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL: readers never wait for the writer; synchronous=NORMAL in WAL mode
                    // keeps every committed transaction across a crash of the process.
                    // Checkpoints (copying the WAL into the database file, with an fsync)
                    // run in the background (`Db::checkpoint`, from `serve`), not in the
                    // request that happens to cross the threshold; the high threshold only
                    // bounds the WAL if nothing checkpoints. Statement journals (multi-row
                    // statements that may have to undo themselves) stay in memory.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                         PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -16384; \
                         PRAGMA temp_store = MEMORY;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = opts.connect(&url).await?;
        Ok(Db {
            pool,
            kind,
            write_lock: Arc::new(tokio::sync::Mutex::new(None)),
            turn_us: Arc::default(),
            write_txs: Arc::default(),
            keep_writer: kind == DbKind::Sqlite && !memory,
        })
    }

    /// Brings the schema up to date (safe to run from several replicas at once).
    pub async fn migrate(&self) -> Result<(), PortalError> {
        let source = match self.kind {
            DbKind::Sqlite => Embedded(SQLITE_MIGRATIONS),
            DbKind::Postgres => Embedded(POSTGRES_MIGRATIONS),
        };
        let migrator = Migrator::new(source).await?;
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so two writers queue instead of failing with "database is locked".
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        self.write_txs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let turn = self.write_turn().await;
        let tx = match self.kind {
            DbKind::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            DbKind::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _turn: turn })
    }

    /// Copies the SQLite write-ahead log into the database file (a no-op on PostgreSQL and
    /// in-memory SQLite) and returns how many frames the log held. The bulk is copied and
    /// synced while writers go on; then, in the write turn, the few frames written meanwhile,
    /// so the log is copied completely and the next write starts it over from the beginning.
    /// (A checkpoint that always trails the writer never completes: the log grows until
    /// SQLite's own checkpoint runs inside a commit, copying and syncing tens of megabytes
    /// while every exchange waiting for the writer waits too.)
    pub async fn checkpoint(&self) -> Result<u64, sqlx::Error> {
        use sqlx::Row;
        if self.kind != DbKind::Sqlite || !self.keep_writer {
            return Ok(0);
        }
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await?;
        let frames: i64 = row.try_get(1)?;
        if frames > 0 {
            let mut turn = self.write_turn().await.expect("SQLite has write turns");
            let result = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(turn.conn().await?)
                .await;
            if result.is_err() {
                turn.discard();
            }
            result?;
        }
        Ok(frames.max(0) as u64)
    }

    /// How long this process has held its SQLite write turn, in total (microseconds): the
    /// single writer's busy time.
    pub fn write_turn_busy_us(&self) -> u64 {
        self.turn_us.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many write transactions this process has begun: what a request that must not
    /// write (a made-up launch token) can be checked against.
    pub fn write_transactions(&self) -> u64 {
        self.write_txs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// This process's write turn on SQLite (nothing on PostgreSQL), for single writing
    /// statements outside a transaction. The hot writers (rate-limit counts, session starts)
    /// run on its [`WriteTurn::conn`]; rare ones may use the pool while they hold it.
    pub async fn write_turn(&self) -> Option<WriteTurn> {
        match self.kind {
            DbKind::Sqlite => Some(WriteTurn {
                slot: self.write_lock.clone().lock_owned().await,
                pooled: None,
                pool: self.pool.clone(),
                keep: self.keep_writer,
                since: std::time::Instant::now(),
                turn_us: self.turn_us.clone(),
            }),
            DbKind::Postgres => None,
        }
    }
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://qc:secret@127.0.0.1:5432/db"),
            "postgres://qc:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
