//! The PIN step of a card login ([`check_pin`]) and its guessing bound: every attempt is
//! counted before the PIN is checked, per user and per
//! source (the kiosk, or the network a sign-in page is used from), in one atomic statement.
//!
//! Checking first and counting afterwards let parallel guesses all be checked before any of
//! them was counted: ten wrong PINs sent at once got ten `wrong_pin` answers, and a right one
//! among them opened a session after the limit. Counting first means an attempt past the limit
//! is refused without being checked.
//!
//! Lockouts grow per source: 15 minutes (`lockout.duration_secs`), then an hour
//! (`lockout.second_duration_secs`), then until a person unlocks (`quickcard-portal pin
//! unlock`, `POST /v1/admin/users/{id}/unlock`). A right PIN clears the source's counter and
//! level. Because they are per source, a stranger with a photo of a staff card locks out only
//! the device or network they guess from for longer than `duration_secs`: the user-wide lock
//! (`store::record_pin_failure`, the same limit over all sources together) keeps the guessing
//! rate down but never escalates.

use axum::http::StatusCode;
use sqlx::Row;

use crate::AppState;
use crate::config::LockoutConfig;
use crate::db::Db;
use crate::db::store::{self, AuditEntry};
use crate::domain::exchange::{Caller, refuse};
use crate::domain::secrets;
use crate::error::{ApiError, ErrorCode};

type Result<T> = std::result::Result<T, sqlx::Error>;

/// `locked_until` of a lockout that lasts until a person lifts it.
pub const LOCKED_UNTIL_UNLOCKED: i64 = i64::MAX / 4;

/// What counting one attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The source is locked out for this user until then (or [`LOCKED_UNTIL_UNLOCKED`]).
    Locked { until: i64 },
    /// The attempt is counted as the `n`th of the window and may be checked.
    Counted { n: i64 },
    /// The attempt is past the limit: refused unchecked (parallel guesses after the limit).
    OverLimit,
}

/// Counts one PIN attempt of `user_id` from `source` before it is checked.
pub async fn count(
    db: &Db,
    user_id: &str,
    source: &str,
    now: i64,
    lo: &LockoutConfig,
) -> Result<Attempt> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "INSERT INTO pin_attempts (user_id, source, attempts, window_start, locked_until, level) \
         VALUES ($1, $2, 1, $3, 0, 0) \
         ON CONFLICT (user_id, source) DO UPDATE SET \
           attempts = CASE WHEN pin_attempts.locked_until > $3 THEN pin_attempts.attempts \
                           WHEN pin_attempts.window_start <= $4 THEN 1 \
                           ELSE pin_attempts.attempts + 1 END, \
           window_start = CASE WHEN pin_attempts.locked_until > $3 THEN pin_attempts.window_start \
                               WHEN pin_attempts.window_start <= $4 THEN $3 \
                               ELSE pin_attempts.window_start END \
         RETURNING attempts, locked_until",
    )
    .bind(user_id.to_string())
    .bind(source.to_string())
    .bind(now)
    .bind(now - lo.window_secs as i64)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let until: i64 = row.try_get("locked_until")?;
    if until > now {
        return Ok(Attempt::Locked { until });
    }
    let n: i64 = row.try_get("attempts")?;
    Ok(if n > i64::from(lo.max_failures) {
        Attempt::OverLimit
    } else {
        Attempt::Counted { n }
    })
}

/// Locks `source` out for `user_id` (unless it already is), the next step longer than the
/// last. Returns the lock's end.
pub async fn lock(
    db: &Db,
    user_id: &str,
    source: &str,
    now: i64,
    lo: &LockoutConfig,
) -> Result<i64> {
    let mut tx = db.begin_write().await?;
    // An upsert: a right PIN from the same source may have cleared the row meanwhile (the
    // wrong attempts in flight were counted before it); then the lock starts at the first
    // step again.
    let row = sqlx::query(
        "INSERT INTO pin_attempts (user_id, source, attempts, window_start, locked_until, level) \
         VALUES ($1, $2, 0, $6, $3, 1) \
         ON CONFLICT (user_id, source) DO UPDATE SET \
           locked_until = CASE WHEN pin_attempts.locked_until > $6 THEN pin_attempts.locked_until \
                               WHEN pin_attempts.level = 0 THEN $3 \
                               WHEN pin_attempts.level = 1 THEN $4 ELSE $5 END, \
           level = CASE WHEN pin_attempts.locked_until > $6 THEN pin_attempts.level \
                        ELSE pin_attempts.level + 1 END, \
           attempts = 0, \
           window_start = CASE WHEN pin_attempts.locked_until > $6 THEN pin_attempts.window_start \
                               ELSE $6 END \
         RETURNING locked_until",
    )
    .bind(user_id.to_string())
    .bind(source.to_string())
    .bind(now + lo.duration_secs as i64)
    .bind(now + lo.second_duration_secs as i64)
    .bind(LOCKED_UNTIL_UNLOCKED)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    row.try_get("locked_until")
}

/// A right PIN: the source's counter and lockout level start over.
pub async fn succeeded(db: &Db, user_id: &str, source: &str) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM pin_attempts WHERE user_id = $1 AND source = $2")
        .bind(user_id.to_string())
        .bind(source.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Lifts every PIN lockout of a user (per source and user-wide). Returns how many were
/// lifted.
pub async fn unlock(db: &Db, user_id: &str) -> Result<u64> {
    let mut tx = db.begin_write().await?;
    let a = sqlx::query("DELETE FROM pin_attempts WHERE user_id = $1")
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let b = sqlx::query("DELETE FROM lockouts WHERE user_id = $1")
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(a + b)
}

/// The PIN of a card login that needs one: present, set, and right, with every attempt
/// counted before it is checked (this module) per source and per user.
pub async fn check_pin(
    state: &AppState,
    caller: &Caller<'_>,
    holder: &store::Holder,
    pin: Option<&str>,
    now: i64,
    entry: &AuditEntry,
    ctx: &(dyn Fn(AuditEntry) -> AuditEntry + Sync),
) -> std::result::Result<(), ApiError> {
    let refused = |e: AuditEntry, err: ApiError| async move { refuse(state, ctx(e), err).await };
    let Some(pin) = pin.filter(|p| !p.is_empty()) else {
        let err = ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::PinRequired,
            "this card needs a PIN",
        );
        return Err(refused(entry.clone(), err).await);
    };
    let Some(hash) = holder.pin_hash.clone() else {
        let err = ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::PinNotSet,
            "this card needs a PIN but none is set for the user; ask the school office",
        );
        return Err(refused(entry.clone(), err).await);
    };
    let lo = &state.config.lockout;
    let source = match caller.kiosk_id {
        Some(k) => format!("kiosk:{k}"),
        None => caller.bucket.clone(),
    };
    let user_id = holder.id.as_str();
    let n = match count(&state.db, user_id, &source, now, lo).await? {
        Attempt::Counted { n } => n,
        Attempt::Locked { until } => {
            let err = locked_out(until, now);
            return Err(refused(
                entry.clone().detail(format!("PIN locked from {source}")),
                err,
            )
            .await);
        }
        Attempt::OverLimit => {
            let until = lock(&state.db, user_id, &source, now, lo).await?;
            let e = entry.clone().flagged().detail(format!(
                "PIN attempt past the limit from {source}, not checked"
            ));
            return Err(refused(e, locked_out(until, now)).await);
        }
    };
    let pin = pin.to_string();
    let ok = tokio::task::spawn_blocking(move || secrets::verify_pin(&pin, &hash))
        .await
        .map_err(ApiError::internal)?;
    if ok {
        succeeded(&state.db, user_id, &source).await?;
        store::clear_pin_failures(&state.db, user_id).await?;
        return Ok(());
    }
    // The user-wide cap: every source together, the same limit; it locks for
    // `duration_secs` and never escalates, so nobody can lock a person out for good (only
    // the source that keeps guessing is locked for longer and longer).
    let (_, user_locked) = store::record_pin_failure(
        &state.db,
        user_id,
        now,
        lo.window_secs as i64,
        lo.max_failures as i64,
        lo.duration_secs as i64,
    )
    .await?;
    let max = i64::from(lo.max_failures);
    if n >= max {
        let until = lock(&state.db, user_id, &source, now, lo).await?;
        let e = entry.clone().flagged().detail(format!(
            "wrong PIN {max} times from {source}: card login locked there {}",
            if until >= LOCKED_UNTIL_UNLOCKED {
                "until a person unlocks it".to_string()
            } else {
                format!("for {} s", until - now)
            }
        ));
        return Err(refused(e, locked_out(until, now)).await);
    }
    if let Some(until) = user_locked {
        let e = entry.clone().flagged().detail(format!(
            "wrong PIN {max} times from all sources: card login locked for {} s",
            until - now
        ));
        return Err(refused(e, locked_out(until, now)).await);
    }
    let err = ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::WrongPin, "wrong PIN")
        .with(|d| d.attempts_left = Some(u32::try_from((max - n).max(0)).unwrap_or(0)));
    let e = entry
        .clone()
        .detail(format!("wrong PIN ({n} in a row from {source})"));
    Err(refused(e, err).await)
}

/// `locked_out`, with a lock that lasts until a person unlocks it said as such.
fn locked_out(until: i64, now: i64) -> ApiError {
    if until >= LOCKED_UNTIL_UNLOCKED {
        ApiError::new(
            StatusCode::LOCKED,
            ErrorCode::LockedOut,
            "too many wrong PINs here: a teacher or an administrator must unlock this card",
        )
        .with(|d| d.until_unlocked = Some(true))
    } else {
        ApiError::locked_out((until - now).max(1) as u64)
    }
}
