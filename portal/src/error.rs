//! Errors: the API's machine-readable failures, and the library's own.
//!
//! Every API failure has a stable snake_case code ([`ErrorCode`], shared with the kiosk
//! through `quickcard-api`) and an HTTP status (the table is in `portal/API.md`). Internal
//! errors are logged with their cause and answered with a generic message, so database
//! details never reach a kiosk.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quickcard::CardError;
pub use quickcard_api::ErrorCode;
use quickcard_api::{ErrorBody, ErrorDetail};
use thiserror::Error;

/// A refusal the API sends back: `{"error": {"code", "message", ...extra}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// The body's `error` object: code, message and the code's extra fields.
    pub error: ErrorDetail<ErrorCode>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: ErrorDetail::new(code, message),
        }
    }

    /// The refusal's code.
    pub fn code(&self) -> ErrorCode {
        self.error.code
    }

    /// The refusal's message (for logs and admins).
    pub fn message(&self) -> &str {
        &self.error.message
    }

    /// Sets extra fields beside `code` and `message`.
    pub fn with(mut self, extra: impl FnOnce(&mut ErrorDetail<ErrorCode>)) -> ApiError {
        extra(&mut self.error);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// A failure of the portal itself; the cause is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
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
        ApiError::new(status, ErrorCode::from(e), e.to_string()).with(|d| match e {
            CardError::Expired { expires_at } => d.expires_at = Some(*expires_at),
            CardError::NotYetValid { issued_at } => d.issued_at = Some(*issued_at),
            _ => {}
        })
    }

    pub fn kiosk_unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::KioskUnauthorized,
            "this kiosk is not enrolled (missing or unknown kiosk credential)",
        )
    }

    pub fn session_expired() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::SessionExpired,
            "the session has ended or expired; scan the card again",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many attempts; wait a moment",
        )
        .with(|d| d.retry_after_secs = Some(retry_after_secs))
    }

    pub fn locked_out(retry_after_secs: u64) -> ApiError {
        ApiError::new(
            StatusCode::LOCKED,
            ErrorCode::LockedOut,
            "card login for this user is locked after too many wrong PINs",
        )
        .with(|d| d.retry_after_secs = Some(retry_after_secs))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::internal(format!("database: {e}"))
    }
}

/// The reply's body, with its code also kept in the response's extensions for the metrics
/// middleware (`http::metrics`).
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.error.retry_after_secs;
        let code = self.error.code;
        let body = ErrorBody { error: self.error };
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.extensions_mut().insert(code);
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
    Web(#[from] crate::http::web::WebError),
}
