//! PINs and the user-wide wrong-PIN lockouts (per-source attempts are in
//! [`crate::domain::pin_attempts`]).

use sqlx::Row;

use super::{AuditEntry, AuditKind, AuditResult, Result, audit, user_exists};
use crate::db::Db;

/// Records one wrong PIN. Returns `(failures, locked_until)`: when the failures within
/// `window` reach `max`, the user is locked until `now + duration` and the count restarts.
pub async fn record_pin_failure(
    db: &Db,
    user_id: &str,
    now: i64,
    window: i64,
    max: i64,
    duration: i64,
) -> Result<(i64, Option<i64>)> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "INSERT INTO lockouts (user_id, failures, first_failure_at, locked_until) VALUES ($1, 1, $2, 0) \
         ON CONFLICT (user_id) DO UPDATE SET \
           failures = CASE WHEN lockouts.first_failure_at <= $3 THEN 1 ELSE lockouts.failures + 1 END, \
           first_failure_at = CASE WHEN lockouts.first_failure_at <= $3 THEN $2 ELSE lockouts.first_failure_at END \
         RETURNING failures",
    )
    .bind(user_id.to_string())
    .bind(now)
    .bind(now - window)
    .fetch_one(&mut *tx)
    .await?;
    let failures: i64 = row.try_get("failures")?;
    let mut locked = None;
    if failures >= max {
        let until = now + duration;
        sqlx::query(
            "UPDATE lockouts SET locked_until = $1, failures = 0, first_failure_at = 0 WHERE user_id = $2",
        )
        .bind(until)
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
        locked = Some(until);
    }
    tx.commit().await?;
    Ok((failures, locked))
}

/// Forgets wrong PINs after a successful one.
pub async fn clear_pin_failures(db: &Db, user_id: &str) -> Result<()> {
    let _turn = db.write_turn().await;
    sqlx::query("DELETE FROM lockouts WHERE user_id = $1 AND locked_until = 0")
        .bind(user_id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Sets (or replaces) a user's PIN hash. Returns false when the user is not on the roster
/// (never imported, or removed).
pub async fn set_pin(db: &Db, user_id: &str, hash: &str, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    if !user_exists(&mut tx, user_id, true).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO pins (user_id, hash, set_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
    )
    .bind(user_id.to_string())
    .bind(hash.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // A new PIN also lifts a lockout.
    sqlx::query("DELETE FROM lockouts WHERE user_id = $1")
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::PinSet, AuditResult::Ok).user(user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
