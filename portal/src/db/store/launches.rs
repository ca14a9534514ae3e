//! One-time app launch tokens: stored when a tile is opened, redeemed once while the session
//! lives.

use sqlx::Row;

use super::{AuditEntry, AuditKind, AuditResult, Result, SessionView, audit};
use crate::db::Db;
use crate::error::ErrorCode;

/// Stores a one-time launch token for an app and audits it.
pub async fn create_launch(
    db: &Db,
    s: &SessionView,
    app_id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO launches (token_hash, session_hash, user_id, kiosk_id, app_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_hash.to_string())
    .bind(s.token_hash.clone())
    .bind(s.user_id.clone())
    .bind(s.kiosk_id.clone())
    .bind(app_id.to_string())
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::Launch, AuditResult::Ok)
            .user(&s.user_id)
            .kiosk(&s.kiosk_id)
            .detail(format!("app {app_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Redeems a launch token once. Returns the app id when the token was unused, unexpired, and
/// its session is still live.
///
/// Anyone can present a token, so a plain read comes first: only a token that exists, unused
/// and unexpired, takes the writer (SQLite has one); made-up tokens never queue there.
pub async fn redeem_launch(db: &Db, token_hash: &str, now: i64) -> Result<Option<String>> {
    let open = sqlx::query(
        "SELECT COUNT(*) AS n FROM launches WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash.to_string())
    .bind(now)
    .fetch_one(&db.pool)
    .await?
    .try_get::<i64, _>("n")?
        > 0;
    if !open {
        return Ok(None);
    }
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "UPDATE launches SET used_at = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING app_id, session_hash, user_id, kiosk_id",
    )
    .bind(now)
    .bind(token_hash.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let app_id: String = row.try_get("app_id")?;
    let session_hash: String = row.try_get("session_hash")?;
    let user_id: String = row.try_get("user_id")?;
    let kiosk_id: String = row.try_get("kiosk_id")?;
    let live = sqlx::query(
        "SELECT COUNT(*) AS n FROM sessions WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2",
    )
    .bind(session_hash)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .try_get::<i64, _>("n")?
        > 0;
    let result = if live {
        AuditResult::Ok
    } else {
        AuditResult::Refused(ErrorCode::SessionExpired)
    };
    audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::LaunchOpen, result)
            .user(&user_id)
            .kiosk(&kiosk_id)
            .detail(format!("app {app_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(live.then_some(app_id))
}
