//! The audit log: entries are written on the connection of the transaction they describe, so
//! an action and its audit row commit together or not at all.

use std::fmt;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

use super::Result;
use crate::db::Db;

pub use quickcard_api::AuditKind;

use crate::error::ErrorCode;

/// What came of an audited action: the `result` column, stored as its `Display` text.
/// The texts are what the audit log has always held (tests, `docs/privacy.md` and the
/// metrics read them): `ok`, the API's error code, or the code of a refusal that never became
/// an API reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditResult {
    Ok,
    /// Refused with this code (also the reply's code).
    Refused(ErrorCode),
    /// `session_end`: the session ended because its card was used on another kiosk.
    CopiedCard,
    /// Chromebook sign-in start page: the `AuthnRequest` was already used once.
    SigninReplayed,
    /// Chromebook sign-in start page: Verified Access did not vouch for the device.
    DeviceNotAttested,
    /// Chromebook sign-in start page: the `AuthnRequest` was refused (`saml_<code>`, the code
    /// of `quickcard_saml::RequestError`).
    SamlRequest(&'static str),
}

impl fmt::Display for AuditResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditResult::Ok => f.write_str("ok"),
            AuditResult::Refused(code) => f.write_str(code.as_str()),
            AuditResult::CopiedCard => f.write_str("copied_card"),
            AuditResult::SigninReplayed => f.write_str("signin_replayed"),
            AuditResult::DeviceNotAttested => f.write_str("device_not_attested"),
            AuditResult::SamlRequest(code) => write!(f, "saml_{code}"),
        }
    }
}

impl From<ErrorCode> for AuditResult {
    fn from(code: ErrorCode) -> AuditResult {
        AuditResult::Refused(code)
    }
}

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub kind: AuditKind,
    pub result: AuditResult,
    pub user_id: Option<String>,
    pub kiosk_id: Option<String>,
    pub card_id: Option<String>,
    pub flagged: bool,
    pub detail: String,
}

impl AuditEntry {
    pub fn new(at: i64, kind: AuditKind, result: impl Into<AuditResult>) -> AuditEntry {
        AuditEntry {
            at,
            kind,
            result: result.into(),
            user_id: None,
            kiosk_id: None,
            card_id: None,
            flagged: false,
            detail: String::new(),
        }
    }
    pub fn user(mut self, id: &str) -> Self {
        self.user_id = Some(id.to_string());
        self
    }
    pub fn kiosk(mut self, id: &str) -> Self {
        self.kiosk_id = Some(id.to_string());
        self
    }
    pub fn card(mut self, id: &str) -> Self {
        self.card_id = Some(id.to_string());
        self
    }
    pub fn flagged(mut self) -> Self {
        self.flagged = true;
        self
    }
    pub fn detail(mut self, d: String) -> Self {
        self.detail = d;
        self
    }
}

/// Writes an audit row on a connection (usually inside the transaction it describes).
pub async fn audit(conn: &mut AnyConnection, e: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, kind, result, user_id, kiosk_id, card_id, flagged, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.at)
    .bind(e.kind.as_str().to_string())
    .bind(e.result.to_string())
    .bind(e.user_id.clone())
    .bind(e.kiosk_id.clone())
    .bind(e.card_id.clone())
    .bind(i64::from(e.flagged))
    .bind(e.detail.clone())
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes an audit row on its own.
pub async fn audit_now(db: &Db, e: &AuditEntry) -> Result<()> {
    let _turn = db.write_turn().await;
    let mut conn = db.pool.acquire().await?;
    audit(&mut conn, e).await
}

/// A stored audit row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub result: String,
    pub user_id: Option<String>,
    pub kiosk_id: Option<String>,
    pub card_id: Option<String>,
    pub flagged: bool,
    pub detail: String,
}

/// Audit rows since `since` (Unix seconds), optionally of one user, oldest first.
pub async fn audit_rows(
    db: &Db,
    user: Option<&str>,
    since: i64,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let rows = match user {
        Some(u) => sqlx::query(
            "SELECT id, at, kind, result, user_id, kiosk_id, card_id, flagged, detail FROM audit \
                 WHERE user_id = $1 AND at >= $2 ORDER BY id LIMIT $3",
        )
        .bind(u.to_string())
        .bind(since)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?,
        None => sqlx::query(
            "SELECT id, at, kind, result, user_id, kiosk_id, card_id, flagged, detail FROM audit \
                 WHERE at >= $1 ORDER BY id LIMIT $2",
        )
        .bind(since)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?,
    };
    rows.iter().map(AuditRow::from_row).collect()
}

impl FromRow<'_, AnyRow> for AuditRow {
    fn from_row(r: &AnyRow) -> Result<AuditRow> {
        Ok(AuditRow {
            id: r.try_get("id")?,
            at: r.try_get("at")?,
            kind: r.try_get("kind")?,
            result: r.try_get("result")?,
            user_id: r.try_get("user_id")?,
            kiosk_id: r.try_get("kiosk_id")?,
            card_id: r.try_get("card_id")?,
            flagged: r.try_get::<i64, _>("flagged")? != 0,
            detail: r.try_get("detail")?,
        })
    }
}
