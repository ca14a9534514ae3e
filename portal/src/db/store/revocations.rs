//! Revoked cards: revoking a user's cards (ending their sessions and changing their ChromeOS
//! password), and the revocation lists kiosks and the sign-in page check offline.

use sqlx::Row;

use super::{
    AuditEntry, AuditKind, AuditResult, Ended, Result, audit, end_live_sessions, user_exists,
};
use crate::db::Db;

/// Revokes every card of `user_id` issued before `now` and ends the user's live sessions.
/// Returns the number of sessions ended, or `None` when the user was never on the roster.
pub async fn revoke(
    db: &Db,
    user_id: &str,
    now: i64,
    reason: &str,
    by: &str,
) -> Result<Option<u64>> {
    let mut tx = db.begin_write().await?;
    // A user removed from the roster may be revoked too: a card lost while they are off the
    // roster must stay refused should they come back.
    if !user_exists(&mut tx, user_id, false).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    sqlx::query(
        "INSERT INTO revocations (user_id, issued_before, revoked_at, reason) VALUES ($1, $2, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET issued_before = excluded.issued_before, \
           revoked_at = excluded.revoked_at, reason = excluded.reason",
    )
    .bind(user_id.to_string())
    .bind(now)
    .bind(reason.to_string())
    .execute(&mut *tx)
    .await?;
    let ended = end_live_sessions(&mut tx, Ended::Revoked(user_id), now).await?;
    // Whoever holds the lost card may have the ChromeOS password too: it changes with it.
    crate::domain::chromeos_password::bump(&mut tx, user_id, now).await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::Revocation, AuditResult::Ok)
            .user(user_id)
            .detail(format!(
                "cards issued before {} revoked by {by}: {reason}; {ended} live sessions ended",
                quickcard::time::format_utc(now as u64)
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(ended))
}

/// Revocations that concern users of a school (for the kiosk's offline check).
pub async fn revocations_for_school(db: &Db, school_id: &str) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT r.user_id, r.issued_before FROM revocations r \
         JOIN user_schools s ON s.user_id = r.user_id WHERE s.school_id = $1 ORDER BY r.user_id",
    )
    .bind(school_id.to_string())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("issued_before")?)))
        .collect()
}

/// Revocations of users of any of `schools` (of every user when `schools` is empty), for the
/// sign-in page's offline pre-check.
pub async fn revocations_for_schools(db: &Db, schools: &[String]) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT r.user_id, r.issued_before, s.school_id FROM revocations r \
         LEFT JOIN user_schools s ON s.user_id = r.user_id ORDER BY r.user_id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out: Vec<(String, i64)> = Vec::new();
    for r in rows {
        let user: String = r.try_get("user_id")?;
        let before: i64 = r.try_get("issued_before")?;
        let school: Option<String> = r.try_get("school_id")?;
        let wanted = schools.is_empty() || school.is_some_and(|s| schools.contains(&s));
        if wanted && out.last().is_none_or(|(u, _)| *u != user) {
            out.push((user, before));
        }
    }
    Ok(out)
}
