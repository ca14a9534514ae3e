//! The admin API's requests and replies (`/v1/admin/…`, admin token), and the health check.
//!
//! Reply fields are in alphabetical order, the order the portal has always sent them in (it
//! built the replies as JSON maps).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::redact::Redacted;

/// `GET /healthz`: `ok`, or `database_unavailable` (503).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReply {
    pub status: String,
}

/// `POST /v1/admin/users/{id}/revoke` body (optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeRequest {
    /// Why (`lost`, …); `card replaced` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /v1/admin/users/{id}/revoke` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeReply {
    /// Cards issued before this (now, Unix seconds) are refused.
    pub issued_before: u64,
    pub sessions_ended: u64,
    pub user_id: String,
}

/// `POST /v1/admin/users/{id}/unlock` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockReply {
    pub lockouts_lifted: u64,
    pub user_id: String,
}

/// `POST /v1/admin/kiosks` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddKioskRequest {
    pub name: String,
    pub school_id: String,
}

/// `POST /v1/admin/kiosks` reply (`201`). `Debug` leaves out the enrolment code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddKioskReply {
    pub enrolment_code: String,
    /// When the enrolment code stops working (Unix seconds).
    pub expires_at: u64,
    pub kiosk_id: String,
}

impl fmt::Debug for AddKioskReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddKioskReply")
            .field("enrolment_code", &Redacted)
            .field("expires_at", &self.expires_at)
            .field("kiosk_id", &self.kiosk_id)
            .finish()
    }
}

/// `POST /v1/admin/kiosks/{id-or-name}/disable` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisableKioskReply {
    pub kiosk_id: String,
    pub sessions_ended: u64,
}

/// What an audit row is about: the `kind` of `GET /v1/admin/audit` rows and of the audit
/// table (the stored text is [`AuditKind::as_str`], which the docs and the metrics read too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A card exchange at a kiosk.
    Exchange,
    /// A session ended because its card was used on another kiosk (a copied card).
    SessionEnd,
    SignOut,
    /// A launch link was made.
    Launch,
    /// A launch link was opened.
    LaunchOpen,
    Revocation,
    KioskAdd,
    KioskEnrol,
    KioskDisable,
    PinSet,
    PinUnlock,
    RosterImport,
    ChromebookSignIn,
    ChromeosPasswordReset,
    PersonExport,
    PersonErase,
}

impl AuditKind {
    /// Every kind.
    pub const ALL: &'static [AuditKind] = &[
        AuditKind::Exchange,
        AuditKind::SessionEnd,
        AuditKind::SignOut,
        AuditKind::Launch,
        AuditKind::LaunchOpen,
        AuditKind::Revocation,
        AuditKind::KioskAdd,
        AuditKind::KioskEnrol,
        AuditKind::KioskDisable,
        AuditKind::PinSet,
        AuditKind::PinUnlock,
        AuditKind::RosterImport,
        AuditKind::ChromebookSignIn,
        AuditKind::ChromeosPasswordReset,
        AuditKind::PersonExport,
        AuditKind::PersonErase,
    ];

    /// The stored and sent text.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditKind::Exchange => "exchange",
            AuditKind::SessionEnd => "session_end",
            AuditKind::SignOut => "sign_out",
            AuditKind::Launch => "launch",
            AuditKind::LaunchOpen => "launch_open",
            AuditKind::Revocation => "revocation",
            AuditKind::KioskAdd => "kiosk_add",
            AuditKind::KioskEnrol => "kiosk_enrol",
            AuditKind::KioskDisable => "kiosk_disable",
            AuditKind::PinSet => "pin_set",
            AuditKind::PinUnlock => "pin_unlock",
            AuditKind::RosterImport => "roster_import",
            AuditKind::ChromebookSignIn => "chromebook_sign_in",
            AuditKind::ChromeosPasswordReset => "chromeos_password_reset",
            AuditKind::PersonExport => "person_export",
            AuditKind::PersonErase => "person_erase",
        }
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_kinds_are_stored_as_their_serde_names() {
        for &k in AuditKind::ALL {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
    }
}
