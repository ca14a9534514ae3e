//! Session starts, committed in groups.
//!
//! Every successful exchange writes a session row and its audit row, and answers only once
//! they are committed (a kiosk must never show a dashboard for a session a crash could lose).
//! Concurrent session starts are written together ([`crate::db::group`]), as a JSON array that
//! statements of the same text read whatever the group's size: one statement on PostgreSQL,
//! three in one transaction sent as one call on SQLite.
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

use crate::db::group::{Group, GroupWork};
use crate::db::store::NewSession;
use crate::db::{Db, DbKind};

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
    pub fn stats(&self) -> crate::db::group::GroupStats {
        self.group.stats()
    }

    pub fn new(db: Db) -> SessionWriter {
        SessionWriter {
            group: Group::new(crate::db::group::writers_for(db.kind), Writer { db }),
        }
    }

    /// Stores `s` with its audit rows (see the module docs) and returns once it is committed,
    /// possibly together with other sessions.
    pub async fn start(&self, s: &NewSession<'_>, detail: &str) -> Result<(), sqlx::Error> {
        self.group
            .ask(|reply| Job {
                token_hash: s.token_hash.clone(),
                user_id: s.user_id.to_string(),
                kiosk_id: s.kiosk_id.to_string(),
                card_id: s.card_id.to_string(),
                second_factor: s.second_factor,
                now: s.now,
                expires_at: s.expires_at,
                detail: detail.to_string(),
                reply,
            })
            .await
    }
}

impl GroupWork for Writer {
    type Job = Job;
    const MAX: usize = 128;

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

/// The group's sessions from the JSON array `$1` (SQLite), as a common table expression.
macro_rules! sqlite_input {
    () => {
        concat!(
            "WITH input AS (SELECT key AS seq, ",
            "json_extract(value, '$.now') AS now, json_extract(value, '$.card_id') AS card_id, ",
            "json_extract(value, '$.kiosk_id') AS kiosk_id, ",
            "json_extract(value, '$.user_id') AS user_id, ",
            "json_extract(value, '$.token_hash') AS token_hash, ",
            "json_extract(value, '$.second_factor') AS second_factor, ",
            "json_extract(value, '$.expires_at') AS expires_at, ",
            "json_extract(value, '$.detail') AS detail FROM json_each($1)) "
        )
    };
}

/// SQLite (which has no data-modifying CTEs): the steps of [`GROUP_POSTGRES`] as three
/// statements over the same JSON array in one `BEGIN IMMEDIATE … COMMIT`, sent as one call.
/// The text is the same for every group size, so each connection prepares it once. End the
/// cards' open sessions (marking them `ended_by` the new session), insert the new sessions,
/// then the audit rows in queue order: for each session a flagged row for every session it
/// ended as a copy, then the exchange's row (flagged when it ended one).
const GROUP_SQLITE: &str = concat!(
    "BEGIN IMMEDIATE; ",
    sqlite_input!(),
    "UPDATE sessions SET ",
    "ended_at = CASE WHEN sessions.expires_at > i.now THEN i.now ELSE sessions.expires_at END, ",
    "end_reason = CASE WHEN sessions.expires_at <= i.now THEN 'expired' ",
    "WHEN sessions.kiosk_id = i.kiosk_id THEN 'rescan' ELSE 'copied_card' END, ",
    "ended_by = i.token_hash ",
    "FROM input i WHERE sessions.card_id = i.card_id AND sessions.ended_at IS NULL; ",
    sqlite_input!(),
    "INSERT INTO sessions ",
    "(token_hash, user_id, kiosk_id, card_id, second_factor, created_at, expires_at) ",
    "SELECT token_hash, user_id, kiosk_id, card_id, second_factor, now, expires_at ",
    "FROM input ORDER BY seq; ",
    sqlite_input!(),
    ", copies AS (SELECT i.seq, s.kiosk_id AS old_kiosk FROM input i ",
    "JOIN sessions s ON s.ended_by = i.token_hash AND s.end_reason = 'copied_card') ",
    "INSERT INTO audit (at, kind, result, user_id, kiosk_id, card_id, flagged, detail) ",
    "SELECT at, kind, result, user_id, kiosk_id, card_id, flagged, detail FROM (",
    "SELECT i.seq, 0 AS part, i.now AS at, 'session_end' AS kind, 'copied_card' AS result, ",
    "i.user_id, c.old_kiosk AS kiosk_id, i.card_id, 1 AS flagged, ",
    "'the same card started a session on kiosk ' || i.kiosk_id || '; this session was ended' ",
    "AS detail FROM copies c JOIN input i ON i.seq = c.seq ",
    "UNION ALL ",
    "SELECT i.seq, 1, i.now, 'exchange', 'ok', i.user_id, i.kiosk_id, i.card_id, ",
    "CASE WHEN i.seq IN (SELECT seq FROM copies) THEN 1 ELSE 0 END, ",
    "CASE WHEN i.seq IN (SELECT seq FROM copies) ",
    "THEN i.detail || '; the card was still signed in on another kiosk (copied card?)' ",
    "ELSE i.detail END FROM input i) ",
    "ORDER BY seq, part; ",
    "COMMIT;"
);

/// The group as the JSON array both databases' statements read.
fn group_json(group: &[Job]) -> String {
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
    serde_json::Value::Array(rows).to_string()
}

/// SQLite: [`GROUP_SQLITE`] in this process's write turn.
async fn write_sqlite(db: &Db, group: &[Job]) -> Result<(), sqlx::Error> {
    let json = group_json(group);
    let mut turn = db.write_turn().await.expect("SQLite has write turns");
    let conn = turn.conn().await?;
    let result = sqlx::query(GROUP_SQLITE)
        .bind(json)
        .execute(&mut *conn)
        .await;
    if result.is_err() {
        // End the transaction before the connection is used again.
        if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
            turn.discard();
        }
    }
    result.map(|_| ())
}

/// PostgreSQL: one statement over the group as a JSON array (data-modifying CTEs run once, to
/// completion, in one implicit transaction), the same steps as [`GROUP_SQLITE`]. The new
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
    sqlx::query(GROUP_POSTGRES)
        .bind(group_json(group))
        .execute(&db.pool)
        .await
        .map(|_| ())
}
