//! Kiosks: adding one with its one-time enrolment code, trading the code for a credential,
//! finding a kiosk by its credential (compared again in constant time), disabling it.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{AuditEntry, AuditKind, AuditResult, Ended, Result, audit, end_live_sessions};
use crate::db::Db;
use crate::domain::secrets::{self, Secret};

/// A kiosk row.
// Debug: crate::domain::redact (no secrets in logs).
#[derive(Clone)]
pub struct Kiosk {
    pub id: String,
    pub name: String,
    pub school_id: String,
    pub credential_hash: Option<String>,
    pub enrolled_at: Option<i64>,
    pub disabled_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub created_at: i64,
}

impl Kiosk {
    /// Whether this kiosk's credential hash is `credential_hash` (compared in constant time;
    /// the lookup by hash found the row, this makes sure of it).
    pub(super) fn holds(&self, credential_hash: &str) -> bool {
        self.credential_hash
            .as_deref()
            .is_some_and(|h| secrets::ct_eq(h, credential_hash))
    }
}

impl FromRow<'_, AnyRow> for Kiosk {
    fn from_row(row: &AnyRow) -> Result<Kiosk> {
        Ok(Kiosk {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            school_id: row.try_get("school_id")?,
            credential_hash: row.try_get("credential_hash")?,
            enrolled_at: row.try_get("enrolled_at")?,
            disabled_at: row.try_get("disabled_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// The kiosk holding this credential hash, if any (the hash is re-compared in constant time).
pub async fn kiosk_by_credential(db: &Db, credential_hash: &str) -> Result<Option<Kiosk>> {
    let row = sqlx::query(
        "SELECT id, name, school_id, credential_hash, enrolled_at, disabled_at, last_seen_at, created_at \
         FROM kiosks WHERE credential_hash = $1",
    )
    .bind(credential_hash.to_string())
    .fetch_optional(&db.pool)
    .await?;
    let kiosk = row.as_ref().map(Kiosk::from_row).transpose()?;
    Ok(kiosk.filter(|k| k.holds(credential_hash)))
}

pub async fn touch_kiosk(db: &Db, id: &str, now: i64) -> Result<()> {
    let _turn = db.write_turn().await;
    sqlx::query("UPDATE kiosks SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn list_kiosks(db: &Db) -> Result<Vec<Kiosk>> {
    let rows = sqlx::query(
        "SELECT id, name, school_id, credential_hash, enrolled_at, disabled_at, last_seen_at, created_at \
         FROM kiosks ORDER BY school_id, name",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(Kiosk::from_row).collect()
}

/// Adds a kiosk and returns it with its one-time enrolment code.
pub async fn add_kiosk(
    db: &Db,
    name: &str,
    school_id: &str,
    now: i64,
    code_ttl: i64,
) -> Result<(String, Secret)> {
    let id = format!("kio-{}", &Secret::token("").hash()[..12]);
    let code = Secret::enrolment_code();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO kiosks (id, name, school_id, enrol_code_hash, enrol_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.clone())
    .bind(name.to_string())
    .bind(school_id.to_string())
    .bind(code.hash())
    .bind(now + code_ttl)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::KioskAdd, AuditResult::Ok)
            .kiosk(&id)
            .detail(format!("name {name:?}, school {school_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok((id, code))
}

/// Trades an enrolment code (its hash) for a new credential, once. `None` if the code is
/// unknown, used, expired, or its kiosk disabled.
pub async fn enrol_kiosk(db: &Db, code_hash: &str, now: i64) -> Result<Option<(Kiosk, Secret)>> {
    let credential = Secret::token("qck_");
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "UPDATE kiosks SET credential_hash = $1, enrolled_at = $2, last_seen_at = $2, \
         enrol_code_hash = NULL, enrol_expires_at = NULL \
         WHERE enrol_code_hash = $3 AND enrol_expires_at > $2 AND disabled_at IS NULL \
         RETURNING id, name, school_id, credential_hash, enrolled_at, disabled_at, last_seen_at, created_at",
    )
    .bind(credential.hash())
    .bind(now)
    .bind(code_hash.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let kiosk = Kiosk::from_row(&row)?;
    audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::KioskEnrol, AuditResult::Ok).kiosk(&kiosk.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Some((kiosk, credential)))
}

/// Finds a kiosk by id or by name.
pub async fn find_kiosk(db: &Db, id_or_name: &str) -> Result<Vec<Kiosk>> {
    let rows = sqlx::query(
        "SELECT id, name, school_id, credential_hash, enrolled_at, disabled_at, last_seen_at, created_at \
         FROM kiosks WHERE id = $1 OR name = $1",
    )
    .bind(id_or_name.to_string())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(Kiosk::from_row).collect()
}

/// Disables a kiosk and ends its live sessions. Returns how many sessions ended.
pub async fn disable_kiosk(db: &Db, id: &str, now: i64) -> Result<u64> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE kiosks SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let ended = end_live_sessions(&mut tx, Ended::KioskDisabled(id), now).await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::KioskDisable, AuditResult::Ok)
            .kiosk(id)
            .detail(format!("{ended} live sessions ended")),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}
