//! The HTTP API (`portal/API.md`): the router and what every route shares (body parsing, the
//! no-store default, times for the wire). The request and reply bodies are the wire contract's
//! (`quickcard-api`), shared with the kiosk.
//!
//! Handlers stay thin: they authenticate, parse, and call [`crate::domain::exchange`] or
//! [`crate::db::store`]. Every failure is an [`ApiError`] with its own code and status.
//!
//! - [`auth`]: who is calling (kiosk credential, live session, admin token);
//! - [`kiosk_routes`]: the kiosk's routes (enrolment, config, exchange, session, launches);
//! - [`admin_routes`]: the admin routes.

mod admin_routes;
mod auth;
mod kiosk_routes;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quickcard_api::{HealthReply, Revocation};
use serde::de::DeserializeOwned;

pub use auth::LiveSession;
pub(crate) use auth::admin;

use crate::AppState;
use crate::domain::secrets;
use crate::error::{ApiError, ErrorCode};

/// The portal's router over `state`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(kiosk_routes::routes())
        .merge(admin_routes::routes())
        .route("/metrics", get(crate::http::metrics::admin_metrics))
        .merge(crate::domain::person::routes())
        .merge(crate::http::web::routes())
        .merge(crate::http::signin::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(no_store_by_default))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::metrics::count,
        ))
        .with_state(state)
}

/// The API's and the sign-in's replies carry kiosk credentials, session tokens, launch links,
/// SAML responses, ChromeOS passwords and pupils' names: no browser or proxy cache may keep
/// them. A default rather than a header per handler, so that a new route cannot forget it; a
/// reply that chose its own policy (the kiosk's static files, cached by content hash) keeps it.
async fn no_store_by_default(mut resp: Response) -> Response {
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such endpoint",
    )
}

/// Largest request body accepted (a card is under 200 bytes).
pub const MAX_BODY: usize = 16 * 1024;

/// A request body, or why it could not be read (too large, broken connection).
pub(crate) type Body = Result<Bytes, BytesRejection>;

pub(crate) fn parse<T: DeserializeOwned>(body: &Body) -> Result<T, ApiError> {
    let bytes = body.as_ref().map_err(|e| {
        ApiError::new(
            e.status(),
            ErrorCode::BadRequest,
            format!("request body: {}", e.body_text()),
        )
    })?;
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.db.pool).await {
        Ok(_) => axum::Json(HealthReply {
            status: "ok".into(),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(HealthReply {
                    status: "database_unavailable".into(),
                }),
            )
                .into_response()
        }
    }
}

/// The configs' `revoked` list from `(user id, issued before)` rows, each with its own salt.
///
/// The user id is not sent, only a salted hash ([`Revocation`]): the sign-in page's config is
/// open to whoever starts a sign-in, and must not list the district's revoked pupils, while a
/// page holding a card (it reads the id on it) can still tell that the card is revoked.
pub fn revoked_cards(rows: Vec<(String, i64)>) -> Vec<Revocation> {
    rows.into_iter()
        .map(|(user_id, before)| Revocation::new(&secrets::salt(), &user_id, unix_secs(before)))
        .collect()
}

/// A time for the wire, which has no times before 1970 (SQL's integers are signed).
pub fn unix_secs(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

/// Roster ids are compared in the card format's normal form (UUIDs lower-case).
pub fn normalise_user(id: &str) -> Result<String, ApiError> {
    quickcard::Subject::parse(id.trim())
        .map(|s| s.to_string())
        .map_err(|e| ApiError::bad_request(format!("user id: {e}")))
}
