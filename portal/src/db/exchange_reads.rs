//! What exchanges read, read in groups.
//!
//! Every exchange reads the kiosk its credential names and the holder its card claims (roster
//! entry, school, revocation, lockout, PIN) before it decides. One query per exchange made each
//! one a round trip to a database connection's thread and, on SQLite, a read transaction of
//! its own — and since the writes of other exchanges change the file all the time, each such
//! transaction began by dropping the connection's page cache and reading the same index pages
//! from the operating system again. So concurrent exchanges' reads queue in a
//! [`Group`] and are answered by one query ([`store::kiosks_and_holders`]), like the writes
//! ([`crate::db::ratelimit`], [`crate::db::session_writer`]).
//!
//! Reading in groups changes nothing an exchange can observe: a group is one read of committed
//! state, as each of its reads alone would have been, taken no earlier than the request
//! arrived. A single read is a group of one, so at low load nothing waits.

use tokio::sync::oneshot;

use crate::db::group::{Group, GroupWork, fan_out};
use crate::db::store::{self, ExchangeRead, Holder, Kiosk};
use crate::db::{Db, DbKind};

/// The kiosk holding a credential and the holder a card claims, as one exchange reads them.
pub type Read = Option<(Kiosk, Option<Holder>)>;

/// Queues exchanges' reads and answers them in groups.
#[derive(Debug)]
pub struct ExchangeReads {
    group: Group<Reader>,
}

#[derive(Debug)]
struct Reader {
    db: Db,
}

#[derive(Debug)]
pub struct Job {
    credential_hash: String,
    user_id: Option<String>,
    reply: oneshot::Sender<Result<Read, sqlx::Error>>,
}

/// How many groups are read at once: SQLite's readers run beside its one writer (the pool has
/// 4 connections by default), PostgreSQL's beside its 4 group writers.
fn readers_for(kind: DbKind) -> usize {
    match kind {
        DbKind::Sqlite => 2,
        DbKind::Postgres => 4,
    }
}

impl ExchangeReads {
    pub fn new(db: Db) -> ExchangeReads {
        ExchangeReads {
            group: Group::new(readers_for(db.kind), Reader { db }),
        }
    }

    /// How many groups were read so far, and how many reads they held.
    pub fn stats(&self) -> crate::db::group::GroupStats {
        self.group.stats()
    }

    /// The kiosk holding `credential_hash` (`None`: no such kiosk) and the holder `user_id` at
    /// its school (see [`store::kiosks_and_holders`]).
    pub async fn read(
        &self,
        credential_hash: String,
        user_id: Option<String>,
    ) -> Result<Read, sqlx::Error> {
        self.group
            .ask(|reply| Job {
                credential_hash,
                user_id,
                reply,
            })
            .await
    }
}

impl GroupWork for Reader {
    type Job = Job;
    const MAX: usize = 128;

    fn fits(_: &[Job], _: &Job) -> bool {
        true
    }

    async fn write(&self, group: Vec<Job>) {
        let reads: Vec<ExchangeRead<'_>> = group
            .iter()
            .map(|j| ExchangeRead {
                credential_hash: &j.credential_hash,
                user_id: j.user_id.as_deref(),
            })
            .collect();
        let result = store::kiosks_and_holders(&self.db, &reads).await;
        drop(reads);
        match result {
            Ok(found) => {
                for (job, read) in group.into_iter().zip(found) {
                    let _ = job.reply.send(Ok(read));
                }
            }
            Err(e) => {
                for (job, err) in group.into_iter().zip(fan_out(e)) {
                    let _ = job.reply.send(Err(err));
                }
            }
        }
    }
}
