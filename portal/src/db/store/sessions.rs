//! Kiosk sessions: a session with its user as the session endpoints see it, sign-out, and
//! how many live sessions a user has.

use quickcard::Role;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

use super::{AuditEntry, AuditKind, AuditResult, Result, audit};
use crate::db::Db;
use crate::domain::secrets;

/// A new session to store.
// Debug: crate::domain::redact (no secrets in logs).
pub struct NewSession<'a> {
    pub token_hash: String,
    pub user_id: &'a str,
    pub kiosk_id: &'a str,
    pub card_id: &'a str,
    pub second_factor: bool,
    pub now: i64,
    pub expires_at: i64,
}

/// A session with its user, as the session endpoints need it.
// Debug: crate::domain::redact (no secrets in logs).
#[derive(Clone)]
pub struct SessionView {
    pub token_hash: String,
    pub user_id: String,
    pub kiosk_id: String,
    pub card_id: String,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub second_factor: bool,
    pub role: Role,
    pub given_name: String,
    pub display_name: String,
}

/// The session with this token hash. A session of a user removed from the roster is not
/// found: the import ends them, and one started while the import ran must not live on.
pub async fn session(db: &Db, token_hash: &str) -> Result<Option<SessionView>> {
    let row = sqlx::query(
        "SELECT s.token_hash, s.user_id, s.kiosk_id, s.card_id, s.expires_at, s.ended_at, \
           s.second_factor, u.role, u.given_name, u.display_name \
         FROM sessions s JOIN users u ON u.id = s.user_id AND u.removed_at IS NULL \
         WHERE s.token_hash = $1",
    )
    .bind(token_hash.to_string())
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let view = SessionView::from_row(&row)?;
    Ok(secrets::ct_eq(&view.token_hash, token_hash).then_some(view))
}

impl FromRow<'_, AnyRow> for SessionView {
    fn from_row(row: &AnyRow) -> Result<SessionView> {
        let role: String = row.try_get("role")?;
        Ok(SessionView {
            token_hash: row.try_get("token_hash")?,
            user_id: row.try_get("user_id")?,
            kiosk_id: row.try_get("kiosk_id")?,
            card_id: row.try_get("card_id")?,
            expires_at: row.try_get("expires_at")?,
            ended_at: row.try_get("ended_at")?,
            second_factor: row.try_get::<i64, _>("second_factor")? != 0,
            role: role.parse().unwrap_or(Role::Student),
            given_name: row.try_get("given_name")?,
            display_name: row.try_get("display_name")?,
        })
    }
}

/// Ends a live session (sign-out). Returns false if it had already ended.
pub async fn end_session(db: &Db, s: &SessionView, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = 'sign_out' \
         WHERE token_hash = $2 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(s.token_hash.clone())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n > 0 {
        audit(
            &mut tx,
            &AuditEntry::new(now, AuditKind::SignOut, AuditResult::Ok)
                .user(&s.user_id)
                .kiosk(&s.kiosk_id)
                .card(&s.card_id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n > 0)
}

/// How many live sessions a user has.
pub async fn live_sessions_of(db: &Db, user_id: &str, now: i64) -> Result<i64> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2",
    )
    .bind(user_id.to_string())
    .bind(now)
    .fetch_one(&db.pool)
    .await?
    .try_get("n")
}

/// Why live sessions end at once, and whose: the `end_reason` stored with them.
#[derive(Debug, Clone, Copy)]
pub enum Ended<'a> {
    /// The user's cards were revoked.
    Revoked(&'a str),
    /// The user left the roster.
    RemovedFromRoster(&'a str),
    /// The kiosk was disabled.
    KioskDisabled(&'a str),
}

/// Ends the live sessions `why` names, inside the caller's transaction. Returns how many.
pub async fn end_live_sessions(conn: &mut AnyConnection, why: Ended<'_>, now: i64) -> Result<u64> {
    let sql = match why {
        Ended::Revoked(_) => {
            "UPDATE sessions SET ended_at = $1, end_reason = 'revoked' \
             WHERE user_id = $2 AND ended_at IS NULL AND expires_at > $1"
        }
        Ended::RemovedFromRoster(_) => {
            "UPDATE sessions SET ended_at = $1, end_reason = 'removed_from_roster' \
             WHERE user_id = $2 AND ended_at IS NULL AND expires_at > $1"
        }
        Ended::KioskDisabled(_) => {
            "UPDATE sessions SET ended_at = $1, end_reason = 'kiosk_disabled' \
             WHERE kiosk_id = $2 AND ended_at IS NULL AND expires_at > $1"
        }
    };
    let (Ended::Revoked(id) | Ended::RemovedFromRoster(id) | Ended::KioskDisabled(id)) = why;
    Ok(sqlx::query(sql)
        .bind(now)
        .bind(id.to_string())
        .execute(conn)
        .await?
        .rows_affected())
}
