//! Who is calling: the extractors and checks that authenticate a request before a handler
//! runs. A kiosk by its bearer credential ([`AuthedKiosk`]), a kiosk's live session by the
//! `QuickCard-Session` header too ([`LiveSession`]), an administrator by the admin token
//! ([`admin`]). Kept apart from the routes so that every route group (kiosk, admin, `/metrics`,
//! a person's data) authenticates through the same few functions.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};

use crate::AppState;
use crate::db::store::{self, Kiosk, SessionView};
use crate::domain::secrets::{self, hash_token};
use crate::error::{ApiError, ErrorCode};

/// Header carrying the session token on session calls.
pub const SESSION_HEADER: &str = "quickcard-session";
/// Kiosks' last-seen time is written at most this often.
const LAST_SEEN_GRANULARITY: i64 = 30;

/// The token of `Authorization: Bearer <token>`, if there is a non-empty one.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// An enrolled, enabled kiosk (from `Authorization: Bearer <credential>`).
#[derive(Debug, Clone)]
pub struct AuthedKiosk(pub Kiosk);

impl FromRequestParts<AppState> for AuthedKiosk {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::kiosk_unauthorized)?;
        let kiosk = store::kiosk_by_credential(&state.db, &hash_token(token))
            .await?
            .ok_or_else(ApiError::kiosk_unauthorized)?;
        let kiosk = admit(state, kiosk).await?;
        Ok(AuthedKiosk(kiosk))
    }
}

/// Lets an authenticated kiosk in unless it is disabled, and records that it was seen.
pub(super) async fn admit(state: &AppState, kiosk: Kiosk) -> Result<Kiosk, ApiError> {
    if kiosk.disabled_at.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::KioskDisabled,
            "this kiosk was disabled by an administrator",
        ));
    }
    let now = state.now();
    if kiosk
        .last_seen_at
        .is_none_or(|t| now - t >= LAST_SEEN_GRANULARITY)
    {
        store::touch_kiosk(&state.db, &kiosk.id, now).await?;
    }
    Ok(kiosk)
}

/// A live session of the calling kiosk (kiosk auth plus the `QuickCard-Session` header).
// Debug: crate::domain::redact (no secrets in logs).
#[derive(Clone)]
pub struct LiveSession {
    pub kiosk: Kiosk,
    pub session: SessionView,
    pub token: String,
}

impl FromRequestParts<AppState> for LiveSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthedKiosk(kiosk) = AuthedKiosk::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::session_expired)?
            .to_string();
        let session = store::session(&state.db, &hash_token(&token))
            .await?
            .filter(|s| {
                s.kiosk_id == kiosk.id && s.ended_at.is_none() && s.expires_at > state.now()
            })
            .ok_or_else(ApiError::session_expired)?;
        Ok(LiveSession {
            kiosk,
            session,
            token,
        })
    }
}

/// Lets the caller in only with the admin token (`admin.token_sha256`); the admin API is off
/// without one.
pub(crate) fn admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = state.config.admin.token_sha256.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AdminApiDisabled,
            "the admin API is off: set admin.token_sha256 in the config",
        ));
    };
    let given = bearer(headers).map(hash_token).unwrap_or_default();
    if secrets::ct_eq(&given, &expected.to_ascii_lowercase()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::AdminUnauthorized,
            "missing or wrong admin token",
        ))
    }
}
