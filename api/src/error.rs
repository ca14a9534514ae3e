//! Refusals on the wire: the one list of error codes ([`ErrorCode`]), the body every non-2xx
//! reply carries ([`ErrorBody`]), and the card format's refusals as codes.
//!
//! The portal only ever sends an [`ErrorCode`]; a client reads a [`ReplyCode`], which also
//! holds a code it does not know yet (from a newer portal) instead of failing to parse the
//! refusal. `portal/API.md` documents every code; `tests/api_md.rs` keeps the two in step.

use std::fmt;

use quickcard::{CardError, Role};
use serde::{Deserialize, Serialize};

/// Declares [`ErrorCode`] with its wire names, and the list of every code.
macro_rules! error_codes {
    ($( $(#[$attr:meta])* $variant:ident = $code:literal, )+) => {
        /// Why the portal refused a request: the `error.code` of every non-2xx reply.
        ///
        /// Deliberately not `#[non_exhaustive]`: a client matches every code, so a code added
        /// here is a compile error wherever a screen (or a status) has to be chosen for it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$attr])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in the order of `portal/API.md`'s table.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )+ ];

            /// The code as it is sent (and as it is stored in the audit log's `result`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $code, )+
                }
            }
        }
    };
}

error_codes! {
    // The card format's refusals (`quickcard::CardError::code`).
    /// Not a QuickCard: another QR code (422).
    #[serde(rename = "not_quickcard")]
    NotQuickCard = "not_quickcard",
    /// Damaged or truncated card (422).
    Malformed = "malformed",
    /// Card format version unknown (422).
    UnsupportedVersion = "unsupported_version",
    /// Signed by a key the portal does not trust (403).
    UnknownKey = "unknown_key",
    /// Forged or altered card (403).
    BadSignature = "bad_signature",
    /// The signing key is revoked (403).
    KeyRevoked = "key_revoked",
    /// The key's validity window does not cover the card's issue time (403).
    KeyNotValidAtIssue = "key_not_valid_at_issue",
    /// The key may only sign another school's cards (403).
    KeyNotForSchool = "key_not_for_school",
    /// The card is valid for longer than the portal allows (403).
    LifetimeTooLong = "lifetime_too_long",
    /// Issued in the future (403; `issued_at`).
    NotYetValid = "not_yet_valid",
    /// Past its expiry (403; `expires_at`).
    Expired = "expired",
    /// Another school's card (403).
    WrongSchool = "wrong_school",
    // The portal's own.
    /// Not on the roster (403; 404 on the admin API).
    UnknownUser = "unknown_user",
    /// The holder's data was erased (403).
    UserErased = "user_erased",
    /// The card was issued before the user's revocation (403).
    CardRevoked = "card_revoked",
    /// The policy refuses this role or grade here (403; `role`, `grade`).
    RoleNotAllowed = "role_not_allowed",
    /// The card's role is not the roster's (403; `role`).
    RoleMismatch = "role_mismatch",
    /// The card needs a PIN and none was sent (401).
    PinRequired = "pin_required",
    /// The card needs a PIN and the user has none (403).
    PinNotSet = "pin_not_set",
    /// Wrong PIN (401; `attempts_left`).
    WrongPin = "wrong_pin",
    /// Too many wrong PINs (423; `retry_after_secs` or `until_unlocked`).
    LockedOut = "locked_out",
    /// Too many requests (429; `retry_after_secs`).
    RateLimited = "rate_limited",
    /// Missing or unknown kiosk credential (401).
    KioskUnauthorized = "kiosk_unauthorized",
    /// The kiosk was disabled (403).
    KioskDisabled = "kiosk_disabled",
    /// The session is gone (401).
    SessionExpired = "session_expired",
    /// No such app for this user (404).
    UnknownApp = "unknown_app",
    /// The launch link was used, expired, or its session ended (410).
    LaunchInvalid = "launch_invalid",
    /// Unknown, used or expired enrolment code (401).
    EnrolmentCodeInvalid = "enrolment_code_invalid",
    /// No admin token configured (403).
    AdminApiDisabled = "admin_api_disabled",
    /// Missing or wrong admin token (401).
    AdminUnauthorized = "admin_unauthorized",
    /// Admin API: no such kiosk (404).
    UnknownKiosk = "unknown_kiosk",
    /// Chromebook sign-in is not set up (404).
    SamlNotConfigured = "saml_not_configured",
    /// No such pending Chromebook sign-in (404).
    SigninUnknown = "signin_unknown",
    /// The pending sign-in expired (410).
    SigninExpired = "signin_expired",
    /// The pending sign-in was already answered (410).
    SigninUsed = "signin_used",
    /// The request comes from outside the school's networks (403).
    NetworkNotAllowed = "network_not_allowed",
    /// No Google account is known for the user (403).
    NoGoogleAccount = "no_google_account",
    /// The portal serves no browser kiosk (404).
    NoWebKiosk = "no_web_kiosk",
    /// The browser kiosk's Content-Security-Policy is not a valid header (500).
    BadPolicy = "bad_policy",
    /// No such endpoint or file (404).
    NotFound = "not_found",
    /// The body or query is not what the endpoint expects (400, 413).
    BadRequest = "bad_request",
    /// The portal failed (500).
    Internal = "internal",
}

impl ErrorCode {
    /// The code sent as `code`, if this version knows it.
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// One of the card format's refusals (the same code whether the kiosk's offline check or
    /// the portal refused the card).
    pub fn is_card_error(self) -> bool {
        use ErrorCode::*;
        matches!(
            self,
            NotQuickCard
                | Malformed
                | UnsupportedVersion
                | UnknownKey
                | BadSignature
                | KeyRevoked
                | KeyNotValidAtIssue
                | KeyNotForSchool
                | LifetimeTooLong
                | NotYetValid
                | Expired
                | WrongSchool
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The card format's refusal as the API names it. Exhaustive, so a new refusal of the format
/// needs a code here before anything builds.
impl From<&CardError> for ErrorCode {
    fn from(e: &CardError) -> ErrorCode {
        match e {
            CardError::NotQuickCard => ErrorCode::NotQuickCard,
            CardError::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            CardError::Malformed(_) => ErrorCode::Malformed,
            CardError::UnknownKey(_) => ErrorCode::UnknownKey,
            CardError::BadSignature => ErrorCode::BadSignature,
            CardError::KeyNotValidAtIssue { .. } => ErrorCode::KeyNotValidAtIssue,
            CardError::KeyRevoked { .. } => ErrorCode::KeyRevoked,
            CardError::KeyNotForSchool(_) => ErrorCode::KeyNotForSchool,
            CardError::LifetimeTooLong { .. } => ErrorCode::LifetimeTooLong,
            CardError::NotYetValid { .. } => ErrorCode::NotYetValid,
            CardError::Expired { .. } => ErrorCode::Expired,
            CardError::WrongSchool => ErrorCode::WrongSchool,
        }
    }
}

/// An error code as a client reads it: one this version knows, or one a newer portal sent.
/// A client must still show something sensible for the latter (the kiosk's "ask a grown-up"
/// screen names it), never fail to read the refusal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReplyCode {
    Known(ErrorCode),
    Unknown(String),
}

impl ReplyCode {
    /// The code as sent.
    pub fn as_str(&self) -> &str {
        match self {
            ReplyCode::Known(c) => c.as_str(),
            ReplyCode::Unknown(s) => s,
        }
    }

    /// The known code, if it is one.
    pub fn known(&self) -> Option<ErrorCode> {
        match self {
            ReplyCode::Known(c) => Some(*c),
            ReplyCode::Unknown(_) => None,
        }
    }
}

impl From<ErrorCode> for ReplyCode {
    fn from(c: ErrorCode) -> ReplyCode {
        ReplyCode::Known(c)
    }
}

impl From<&str> for ReplyCode {
    fn from(s: &str) -> ReplyCode {
        match ErrorCode::from_code(s) {
            Some(c) => ReplyCode::Known(c),
            None => ReplyCode::Unknown(s.to_string()),
        }
    }
}

impl From<String> for ReplyCode {
    fn from(s: String) -> ReplyCode {
        match ErrorCode::from_code(&s) {
            Some(c) => ReplyCode::Known(c),
            None => ReplyCode::Unknown(s),
        }
    }
}

impl PartialEq<ErrorCode> for ReplyCode {
    fn eq(&self, other: &ErrorCode) -> bool {
        self.known() == Some(*other)
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every non-2xx reply: `{"error": {"code", "message", ...}}`. `C` is
/// [`ErrorCode`] for the portal, which sends it, and [`ReplyCode`] for a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody<C = ReplyCode> {
    pub error: ErrorDetail<C>,
}

/// What a refusal says. Which extra fields come with which code is in `portal/API.md`; a
/// field a client does not know is ignored.
///
/// The fields are in alphabetical order, the order the portal has always sent them in (it
/// built the body as a JSON map), so replies stay the same byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail<C = ReplyCode> {
    /// `wrong_pin`: wrong PINs left before the lockout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    pub code: C,
    /// `expired`: the card's expiry (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// `role_not_allowed`: the refused grades, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
    /// `not_yet_valid`: the card's issue time (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<u64>,
    /// An English sentence for logs and admins; clients choose their screen by `code`.
    #[serde(default)]
    pub message: String,
    /// `rate_limited`, `locked_out`: when to try again (also the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// `role_not_allowed`, `role_mismatch`: the roster's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// `locked_out`: only a person can lift this lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_unlocked: Option<bool>,
}

impl<C> ErrorDetail<C> {
    /// A refusal with no extra fields.
    pub fn new(code: C, message: impl Into<String>) -> ErrorDetail<C> {
        ErrorDetail {
            attempts_left: None,
            code,
            expires_at: None,
            grade: None,
            issued_at: None,
            message: message.into(),
            retry_after_secs: None,
            role: None,
            until_unlocked: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_wire_names() {
        for &c in ErrorCode::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), c);
            assert_eq!(ErrorCode::from_code(c.as_str()), Some(c));
        }
    }

    #[test]
    fn card_errors_keep_the_formats_codes() {
        let key = quickcard::IssuerKey::from_seed([1; 32], "k")
            .public()
            .key_id();
        let all = [
            CardError::NotQuickCard,
            CardError::UnsupportedVersion(9),
            CardError::Malformed("x"),
            CardError::UnknownKey(key),
            CardError::BadSignature,
            CardError::KeyNotValidAtIssue { key, issued_at: 0 },
            CardError::KeyRevoked { key, revoked_at: 0 },
            CardError::KeyNotForSchool(key),
            CardError::LifetimeTooLong {
                lifetime_secs: 2,
                max_secs: 1,
            },
            CardError::NotYetValid { issued_at: 0 },
            CardError::Expired { expires_at: 0 },
            CardError::WrongSchool,
        ];
        for e in &all {
            let code = ErrorCode::from(e);
            assert_eq!(code.as_str(), e.code());
            assert!(code.is_card_error(), "{code}");
        }
        let card_codes = ErrorCode::ALL.iter().filter(|c| c.is_card_error()).count();
        assert_eq!(card_codes, all.len());
    }

    #[test]
    fn a_newer_portals_code_is_read_not_refused() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"error": {"code": "card_paused", "message": "m", "until": 5}, "trace": "t"}"#,
        )
        .unwrap();
        assert_eq!(body.error.code, ReplyCode::Unknown("card_paused".into()));
        let body: ErrorBody =
            serde_json::from_str(r#"{"error": {"code": "wrong_pin", "attempts_left": 2}}"#)
                .unwrap();
        assert_eq!(body.error.code, ErrorCode::WrongPin);
        assert_eq!(body.error.attempts_left, Some(2));
        assert_eq!(ReplyCode::from("wrong_pin"), ErrorCode::WrongPin);
    }

    #[test]
    fn the_body_is_what_the_portal_always_sent() {
        let mut d = ErrorDetail::new(ErrorCode::RoleNotAllowed, "no");
        d.role = Some(Role::Student);
        d.grade = Some("K,1".into());
        assert_eq!(
            serde_json::to_string(&ErrorBody { error: d }).unwrap(),
            r#"{"error":{"code":"role_not_allowed","grade":"K,1","message":"no","role":"student"}}"#
        );
    }
}
