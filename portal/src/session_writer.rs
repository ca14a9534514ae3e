//! Session starts, committed in groups.
//!
//! Every successful exchange writes a session row and its audit row, and answers only once
//! they are committed (a kiosk must never show a dashboard for a session a crash could lose).
//! Concurrent session starts are written together ([`crate::group`]): on SQLite as the
//! single-session statements repeated in one transaction sent as one call, on PostgreSQL as one
//! statement over the group as a JSON array.
//!
//! A group never holds the same card twice (the second waits for the next group), so the rules
//! of [`store::start_session`] hold unchanged: the card's open sessions end (a re-scan, or a
//! copied card, flagged in the audit), then the new one starts. If a group fails as a whole
//! (another replica, or another of this replica's groups on PostgreSQL, started a session for
//! one of its cards at the same moment), its sessions are written one by one, each with its
//! own outcome.

use tokio::sync::oneshot;

use crate::db::{Db, DbKind};
use crate::group::{Group, GroupWork, POSTGRES_WRITERS, renumber};
use crate::store::{self, NewSession};

/// Queues session starts and commits them in groups.
#[derive(Debug)]
pub struct SessionWriter {
    group: Group<Writer>,
}

#[derive(Debug)]
struct Writer {
    db: Db,
}

#[derive(Debug)]
pub struct Job {
    token_hash: String,
    user_id: String,
    kiosk_id: String,
    card_id: String,
    second_factor: bool,
    now: i64,
    expires_at: i64,
    detail: String,
    reply: oneshot::Sender<Result<(), sqlx::Error>>,
}

impl Job {
    fn session(&self) -> NewSession<'_> {
        NewSession {
            token_hash: self.token_hash.clone(),
            user_id: &self.user_id,
            kiosk_id: &self.kiosk_id,
            card_id: &self.card_id,
            second_factor: self.second_factor,
            now: self.now,
            expires_at: self.expires_at,
        }
    }
}

impl SessionWriter {
    /// How many groups were written so far, and how many requests they held.
    pub fn stats(&self) -> crate::group::GroupStats {
        self.group.stats()
    }

    pub fn new(db: Db) -> SessionWriter {
        SessionWriter {
            group: Group::new(Writer { db }),
        }
    }

    /// Stores `s` with its audit rows (as [`store::start_session`] does) and returns once it
    /// is committed, possibly together with other sessions.
    pub async fn start(&self, s: &NewSession<'_>, detail: &str) -> Result<(), sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        self.group.push(Job {
            token_hash: s.token_hash.clone(),
            user_id: s.user_id.to_string(),
            kiosk_id: s.kiosk_id.to_string(),
            card_id: s.card_id.to_string(),
            second_factor: s.second_factor,
            now: s.now,
            expires_at: s.expires_at,
            detail: detail.to_string(),
            reply,
        });
        match answer.await {
            Ok(result) => result,
            // The writer task ended without answering (it panicked, or its runtime stopped).
            Err(_) => Err(sqlx::Error::WorkerCrashed),
        }
    }
}

impl GroupWork for Writer {
    type Job = Job;
    /// SQLite binds 8 parameters a session.
    const MAX: usize = 64;

    /// A group never holds the same card twice: the second start of a card ends the first
    /// one's session, so it waits for the next group.
    fn fits(group: &[Job], next: &Job) -> bool {
        group.iter().all(|j| j.card_id != next.card_id)
    }

    /// SQLite has one writer; on PostgreSQL a few groups are written at once.
    fn writers(&self) -> usize {
        match self.db.kind {
            DbKind::Sqlite => 1,
            DbKind::Postgres => POSTGRES_WRITERS,
        }
    }

    async fn write(&self, group: Vec<Job>) {
        if group.len() > 1 {
            let written = match self.db.kind {
                DbKind::Sqlite => write_sqlite(&self.db, &group).await,
                DbKind::Postgres => write_postgres(&self.db, &group).await,
            };
            match written {
                Ok(()) => {
                    for job in group {
                        let _ = job.reply.send(Ok(()));
                    }
                    return;
                }
                Err(e) => {
                    tracing::debug!(error = %e, sessions = group.len(),
                        "group commit failed; writing its sessions one by one");
                }
            }
        }
        for job in group {
            let result = store::start_session(&self.db, &job.session(), &job.detail).await;
            let _ = job.reply.send(result);
        }
    }
}

/// The SQLite text for a group of `n` sessions (made once per size).
fn sqlite_group_sql(n: usize) -> &'static str {
    static TEXTS: [std::sync::OnceLock<String>; <Writer as GroupWork>::MAX] =
        [const { std::sync::OnceLock::new() }; <Writer as GroupWork>::MAX];
    TEXTS[n - 1].get_or_init(|| {
        let mut sql = String::from("BEGIN IMMEDIATE; ");
        for i in 0..n {
            sql.push_str(&renumber(store::START_SESSION_SQLITE_BODY, 8 * i));
        }
        sql.push_str("COMMIT;");
        sql
    })
}

/// SQLite: the single-session statements once per session, in one `BEGIN IMMEDIATE … COMMIT`,
/// sent as one call.
async fn write_sqlite(db: &Db, group: &[Job]) -> Result<(), sqlx::Error> {
    let sql = sqlite_group_sql(group.len());
    let _turn = db.write_turn().await;
    let mut conn = db.pool.acquire().await?;
    // Built from the constant statements and parameter numbers only: no input in the text.
    let mut q = sqlx::query(sql);
    for job in group {
        q = store::bind_session(q, &job.session(), &job.detail);
    }
    let result = q.execute(&mut *conn).await;
    if result.is_err() {
        // End the transaction before the connection goes back to the pool.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    result.map(|_| ())
}

/// PostgreSQL: one statement over the group as a JSON array (data-modifying CTEs run once, to
/// completion, in one implicit transaction), the same steps as the single-session statement.
const GROUP_POSTGRES: &str = concat!(
    "WITH input AS (SELECT * FROM json_to_recordset($1::json) AS i(",
    "seq INT, now BIGINT, card_id TEXT, kiosk_id TEXT, user_id TEXT, token_hash TEXT, ",
    "second_factor BIGINT, expires_at BIGINT, detail TEXT)), ",
    "ended AS (",
    "UPDATE sessions s SET ",
    "ended_at = CASE WHEN s.expires_at > i.now THEN i.now ELSE s.expires_at END, ",
    "end_reason = CASE WHEN s.expires_at <= i.now THEN 'expired' ",
    "WHEN s.kiosk_id = i.kiosk_id THEN 'rescan' ELSE 'copied_card' END, ",
    "ended_by = i.token_hash ",
    "FROM input i WHERE s.card_id = i.card_id AND s.ended_at IS NULL ",
    "RETURNING i.card_id, s.kiosk_id AS old_kiosk, s.end_reason), ",
    "copies AS (SELECT card_id, old_kiosk FROM ended WHERE end_reason = 'copied_card'), ",
    "new_sessions AS (",
    "INSERT INTO sessions ",
    "(token_hash, user_id, kiosk_id, card_id, second_factor, created_at, expires_at) ",
    "SELECT i.token_hash, i.user_id, i.kiosk_id, i.card_id, i.second_factor, i.now, i.expires_at ",
    "FROM input i, (SELECT COUNT(*) AS n FROM ended) AS after_update ",
    "RETURNING token_hash), ",
    "copy_audit AS (",
    "INSERT INTO audit (at, kind, result, user_id, kiosk_id, card_id, flagged, detail) ",
    "SELECT i.now, 'session_end', 'copied_card', i.user_id, c.old_kiosk, i.card_id, 1, ",
    "'the same card started a session on kiosk ' || i.kiosk_id || '; this session was ended' ",
    "FROM copies c JOIN input i ON i.card_id = c.card_id RETURNING id) ",
    "INSERT INTO audit (at, kind, result, user_id, kiosk_id, card_id, flagged, detail) ",
    "SELECT i.now, 'exchange', 'ok', i.user_id, i.kiosk_id, i.card_id, ",
    "CASE WHEN c.card_id IS NULL THEN 0 ELSE 1 END, ",
    "CASE WHEN c.card_id IS NULL THEN i.detail ",
    "ELSE i.detail || '; the card was still signed in on another kiosk (copied card?)' END ",
    "FROM input i LEFT JOIN (SELECT DISTINCT card_id FROM copies) c ON c.card_id = i.card_id ",
    "ORDER BY i.seq"
);

async fn write_postgres(db: &Db, group: &[Job]) -> Result<(), sqlx::Error> {
    let rows: Vec<serde_json::Value> = group
        .iter()
        .enumerate()
        .map(|(seq, j)| {
            serde_json::json!({
                "seq": seq,
                "now": j.now,
                "card_id": j.card_id,
                "kiosk_id": j.kiosk_id,
                "user_id": j.user_id,
                "token_hash": j.token_hash,
                "second_factor": i64::from(j.second_factor),
                "expires_at": j.expires_at,
                "detail": j.detail,
            })
        })
        .collect();
    let json = serde_json::Value::Array(rows).to_string();
    sqlx::query(GROUP_POSTGRES)
        .bind(json)
        .execute(&db.pool)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_body_uses_eight_parameters() {
        let highest = (1..=20)
            .rev()
            .find(|n| store::START_SESSION_SQLITE_BODY.contains(&format!("${n}")))
            .unwrap();
        assert_eq!(highest, 8, "renumbering assumes 8 parameters a session");
    }
}
