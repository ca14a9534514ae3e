//! Session starts, committed in groups.
//!
//! Every successful exchange writes a session row and its audit row, and answers only once
//! they are committed (a kiosk must never show a dashboard for a session a crash could lose).
//! Concurrent session starts are written together ([`crate::group`]): on SQLite as the
//! single-session statements repeated in one transaction sent as one call, on PostgreSQL as one
//! statement over the group as a JSON array.
//!
//! Starting a session ends the card's open sessions — quietly on the same kiosk (a re-scan), as
//! a copied card on another kiosk, with a flagged audit row for each —, inserts the new session
//! and writes the exchange's audit row (flagged when it ended a session elsewhere). A group
//! never holds the same card twice (the second waits for the next group), so these rules hold
//! within a group as between groups. A single session is a group of one.
//!
//! When another replica (or, on PostgreSQL, another of this replica's groups) starts a session
//! for the same card at the same moment, the unique index on open sessions refuses one of the
//! two. A group that fails as a whole is written one by one, each session with its own outcome;
//! a session refused that way is retried and then ends the other's session.

use tokio::sync::oneshot;

use crate::db::{Db, DbKind};
use crate::group::{Group, GroupWork, renumber};
use crate::store::NewSession;

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

impl SessionWriter {
    /// How many groups were written so far, and how many requests they held.
    pub fn stats(&self) -> crate::group::GroupStats {
        self.group.stats()
    }

    pub fn new(db: Db) -> SessionWriter {
        SessionWriter {
            group: Group::new(crate::group::writers_for(db.kind), Writer { db }),
        }
    }

    /// Stores `s` with its audit rows (see the module docs) and returns once it is committed,
    /// possibly together with other sessions.
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

    async fn write(&self, group: Vec<Job>) {
        if group.len() > 1 {
            match write_group(&self.db, &group).await {
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
            let result = write_one(&self.db, &job).await;
            let _ = job.reply.send(result);
        }
    }
}

async fn write_group(db: &Db, group: &[Job]) -> Result<(), sqlx::Error> {
    match db.kind {
        DbKind::Sqlite => write_sqlite(db, group).await,
        DbKind::Postgres => write_postgres(db, group).await,
    }
}

/// One session as a group of one, retried when another start of the same card won the race
/// for the one-open-session-per-card index (the retry then ends that session).
async fn write_one(db: &Db, job: &Job) -> Result<(), sqlx::Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match write_group(db, std::slice::from_ref(job)).await {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() && attempt < 5 => {
                tracing::debug!("concurrent session start for one card; retrying");
            }
            other => return other,
        }
    }
}

/// One session start on SQLite, with parameters `$1`…`$8` as [`bind_session`] binds them:
/// end the card's open sessions, marking them `ended_by` the new session (`$5`), insert the
/// new session, a flagged audit row for every session ended as a copy, and the exchange's
/// audit row. A group repeats it per session, renumbered, in one transaction.
const SQLITE_SESSION: &str = concat!(
    "UPDATE sessions SET ",
    "ended_at = CASE WHEN expires_at > $1 THEN $1 ELSE expires_at END, ",
    "end_reason = CASE WHEN expires_at <= $1 THEN 'expired' ",
    "WHEN kiosk_id = $3 THEN 'rescan' ELSE 'copied_card' END, ",
    "ended_by = $5 ",
    "WHERE card_id = $2 AND ended_at IS NULL; ",
    "INSERT INTO sessions ",
    "(token_hash, user_id, kiosk_id, card_id, second_factor, created_at, expires_at) ",
    "VALUES ($5, $4, $3, $2, $6, $1, $7); ",
    "INSERT INTO audit (at, kind, result, user_id, kiosk_id, card_id, flagged, detail) ",
    "SELECT $1, 'session_end', 'copied_card', $4, kiosk_id, $2, 1, ",
    "'the same card started a session on kiosk ' || $3 || '; this session was ended' ",
    "FROM sessions WHERE ended_by = $5 AND end_reason = 'copied_card'; ",
    "INSERT INTO audit (at, kind, result, user_id, kiosk_id, card_id, flagged, detail) ",
    "SELECT $1, 'exchange', 'ok', $4, $3, $2, ",
    "CASE WHEN COUNT(*) > 0 THEN 1 ELSE 0 END, ",
    "CASE WHEN COUNT(*) > 0 ",
    "THEN $8 || '; the card was still signed in on another kiosk (copied card?)' ",
    "ELSE $8 END ",
    "FROM sessions WHERE ended_by = $5 AND end_reason = 'copied_card'; ",
);

fn bind_session<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    job: &Job,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(job.now)
        .bind(job.card_id.clone())
        .bind(job.kiosk_id.clone())
        .bind(job.user_id.clone())
        .bind(job.token_hash.clone())
        .bind(i64::from(job.second_factor))
        .bind(job.expires_at)
        .bind(job.detail.clone())
}

/// The SQLite text for a group of `n` sessions (made once per size).
fn sqlite_group_sql(n: usize) -> &'static str {
    static TEXTS: [std::sync::OnceLock<String>; <Writer as GroupWork>::MAX] =
        [const { std::sync::OnceLock::new() }; <Writer as GroupWork>::MAX];
    TEXTS[n - 1].get_or_init(|| {
        let mut sql = String::from("BEGIN IMMEDIATE; ");
        for i in 0..n {
            sql.push_str(&renumber(SQLITE_SESSION, 8 * i));
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
        q = bind_session(q, job);
    }
    let result = q.execute(&mut *conn).await;
    if result.is_err() {
        // End the transaction before the connection goes back to the pool.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    result.map(|_| ())
}

/// PostgreSQL: one statement over the group as a JSON array (data-modifying CTEs run once, to
/// completion, in one implicit transaction), the same steps as [`SQLITE_SESSION`]. The new
/// sessions' INSERT reads `ended`, so the old sessions are ended before the new ones are
/// checked against the one-open-session-per-card index.
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
    // The same condition as an array the planner can look up in the open-sessions index
    // (it cannot estimate how many rows the JSON holds, and would scan `sessions`).
    "AND s.card_id = ANY(ARRAY(SELECT card_id FROM input)) ",
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
            .find(|n| SQLITE_SESSION.contains(&format!("${n}")))
            .unwrap();
        assert_eq!(highest, 8, "renumbering assumes 8 parameters a session");
    }
}
