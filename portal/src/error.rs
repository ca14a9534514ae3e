//! Errors: the API's machine-readable failures, and the library's own.
//!
//! Every API failure has a stable snake_case `code` and an HTTP status (the table is in
//! `portal/API.md`). Internal errors are logged with their cause and answered with a generic
//! message, so database details never reach a kiosk.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quickcard::CardError;
use serde_json::{Map, Value, json};
use thiserror::Error;

/// A refusal the API sends back: `{"error": {"code", "message", ...extra}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    /// Adds an extra field beside `code` and `message`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A failure of the portal itself; the cause is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the portal had an internal error; try again",
        )
    }

    /// A card that `quickcard::verify` refused.
    pub fn card(e: &CardError) -> ApiError {
        let status = match e {
            CardError::NotQuickCard
            | CardError::Malformed(_)
            | CardError::UnsupportedVersion(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::FORBIDDEN,
        };
        let mut err = ApiError::new(status, e.code(), e.to_string());
        match e {
            CardError::Expired { expires_at } => err = err.with("expires_at", *expires_at),
            CardError::NotYetValid { issued_at } => err = err.with("issued_at", *issued_at),
            _ => {}
        }
        err
    }

    pub fn kiosk_unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "kiosk_unauthorized",
            "this kiosk is not enrolled (missing or unknown kiosk credential)",
        )
    }

    pub fn session_expired() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "session_expired",
            "the session has ended or expired; scan the card again",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many attempts; wait a moment",
        )
        .with("retry_after_secs", retry_after_secs)
    }

    pub fn locked_out(retry_after_secs: u64) -> ApiError {
        ApiError::new(
            StatusCode::LOCKED,
            "locked_out",
            "card login for this user is locked after too many wrong PINs",
        )
        .with("retry_after_secs", retry_after_secs)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::internal(format!("database: {e}"))
    }
}

/// The error code of a reply, kept in the response's extensions for the metrics
/// middleware ([`crate::metrics`]).
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.extra.get("retry_after_secs").and_then(Value::as_u64);
        let mut body = Map::new();
        body.insert("code".into(), json!(self.code));
        body.insert("message".into(), json!(self.message));
        body.extend(self.extra);
        let mut resp = (self.status, axum::Json(json!({ "error": body }))).into_response();
        resp.extensions_mut().insert(ErrorCode(self.code));
        if let Some(secs) = retry
            && let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Failures of the portal's library calls (start-up, commands, import).
#[derive(Debug, Error)]
pub enum PortalError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("roster: {0}")]
    Roster(#[from] quickcard_roster::RosterError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("no user {0:?} on the roster")]
    UnknownUser(String),
    #[error("no kiosk {0:?} (give its id or name; `quickcard-portal kiosk list` shows them)")]
    UnknownKiosk(String),
    #[error("browser kiosk: {0}")]
    Web(#[from] crate::web::WebError),
}
