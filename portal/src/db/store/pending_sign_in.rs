//! Chromebook sign-ins waiting for their card: one row per accepted SAML `AuthnRequest`,
//! answered at most once.

use sqlx::FromRow;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AuditEntry, Result, audit};
use crate::db::Db;
use crate::domain::secrets;

/// A Chromebook sign-in waiting for its card (one accepted SAML `AuthnRequest`).
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    pub id_hash: String,
    /// The service provider's entity id (the request's `Issuer`).
    pub issuer: String,
    /// The `AuthnRequest` ID.
    pub request_id: String,
    pub acs_url: String,
    pub relay_state: Option<String>,
    /// The raw `SAMLRequest` value, parsed again when the request is answered.
    pub saml_request: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub answered_at: Option<i64>,
    pub user_id: Option<String>,
    /// The Chromebook that started it, as Chrome Verified Access attested it.
    pub device_id: Option<String>,
}

impl FromRow<'_, AnyRow> for PendingSignIn {
    fn from_row(r: &AnyRow) -> Result<PendingSignIn> {
        Ok(PendingSignIn {
            id_hash: r.try_get("id_hash")?,
            issuer: r.try_get("issuer")?,
            request_id: r.try_get("request_id")?,
            acs_url: r.try_get("acs_url")?,
            relay_state: r.try_get("relay_state")?,
            saml_request: r.try_get("saml_request")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            answered_at: r.try_get("answered_at")?,
            user_id: r.try_get("user_id")?,
            device_id: r.try_get("device_id")?,
        })
    }
}

/// Stores a pending sign-in, and forgets pending sign-ins that expired before `now`. Returns
/// false (and stores nothing) when the same `AuthnRequest` (issuer and ID) was already
/// accepted: each request id is answered at most once.
pub async fn insert_pending_sign_in(db: &Db, p: &PendingSignIn, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM saml_pending WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let n = sqlx::query(
        "INSERT INTO saml_pending (id_hash, issuer, request_id, acs_url, relay_state, saml_request, \
           created_at, expires_at, device_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (issuer, request_id) DO NOTHING",
    )
    .bind(p.id_hash.clone())
    .bind(p.issuer.clone())
    .bind(p.request_id.clone())
    .bind(p.acs_url.clone())
    .bind(p.relay_state.clone())
    .bind(p.saml_request.clone())
    .bind(p.created_at)
    .bind(p.expires_at)
    .bind(p.device_id.clone())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n == 1)
}

/// The pending sign-in with this id hash (compared again in constant time).
pub async fn pending_sign_in(db: &Db, id_hash: &str) -> Result<Option<PendingSignIn>> {
    let row = sqlx::query(
        "SELECT id_hash, issuer, request_id, acs_url, relay_state, saml_request, created_at, \
           expires_at, answered_at, user_id, device_id FROM saml_pending WHERE id_hash = $1",
    )
    .bind(id_hash.to_string())
    .fetch_optional(&db.pool)
    .await?;
    let p = row.as_ref().map(PendingSignIn::from_row).transpose()?;
    Ok(p.filter(|p| secrets::ct_eq(&p.id_hash, id_hash)))
}

/// Answers a pending sign-in, once: marks it answered by `user_id` (only if it is unanswered
/// and unexpired at `now`), reads the user's ChromeOS password generation, and writes `audit`,
/// in one transaction. `None` when the request was already answered or has expired: then
/// nothing is written.
pub async fn answer_sign_in(
    db: &Db,
    id_hash: &str,
    user_id: &str,
    now: i64,
    entry: &AuditEntry,
) -> Result<Option<i64>> {
    let mut tx = db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE saml_pending SET answered_at = $1, user_id = $2 \
         WHERE id_hash = $3 AND answered_at IS NULL AND expires_at >= $1",
    )
    .bind(now)
    .bind(user_id.to_string())
    .bind(id_hash.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    let generation = crate::domain::chromeos_password::generation(&mut tx, user_id).await?;
    audit(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(Some(generation))
}
