//! Chromebook sign-in: the portal as the district's SAML 2.0 identity provider for
//! Google Workspace. The Chromebook's sign-in screen opens `/saml/sso` (Google's HTTP-Redirect
//! `AuthnRequest`), the portal keeps the checked request server-side as a *pending sign-in*
//! and sends the browser to the web kiosk in sign-in mode; the page scans the card, calls the
//! exchange ([`answer`]; every rule of `POST /v1/exchange` holds, through
//! [`crate::domain::exchange::check`]), and POSTs the signed response it gets back to Google's
//! ACS URL.
//!
//! Why it is built like this:
//! - the pending request lives in the database, not in the page: the page only holds an opaque
//!   128-bit id, so it cannot change the audience, the ACS URL or the request id it answers;
//! - an `AuthnRequest` ID is accepted once (unique `(issuer, request_id)`), and a pending
//!   sign-in is answered once (`UPDATE … WHERE answered_at IS NULL`), in the transaction that
//!   writes the audit row; the response is built before that and discarded if it loses;
//! - the ACS URL and audience always come from the configured allow-list (`quickcard-saml`).
//!
//! The routes are documented in `portal/API.md` ("Chromebook sign-in").
//!
//! The parts:
//! - this module: the routes, the IdP's metadata and certificate, and what every sign-in
//!   route shares (the `[saml]` setup, the per-address limit);
//! - [`start`]: `GET /saml/sso`, Google's request in, a pending sign-in and a redirect out;
//! - [`answer`]: the sign-in page's config and its card exchange, the signed response out;
//! - [`page`]: the HTML pages and advice for a sign-in that cannot start.

mod answer;
mod page;
mod start;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quickcard_saml::idp_metadata;

use crate::AppState;
use crate::config::idp::Idp;
use crate::db::store::{self, AuditEntry, AuditKind};
use crate::error::{ApiError, ErrorCode};

pub(crate) use page::error_page;

/// The audit log's `kind` for everything of a Chromebook sign-in.
pub const AUDIT_KIND: AuditKind = AuditKind::ChromebookSignIn;

/// The sign-in routes (merged into [`crate::app`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/sso", get(start::sso))
        .route("/saml/metadata", get(metadata))
        .route("/saml/certificate.pem", get(certificate))
        .route("/v1/signin/{request}/config", get(answer::signin_config))
        .route(
            "/v1/signin/{request}/exchange",
            post(answer::signin_exchange),
        )
}

/// The client's address (also the key of the per-address limits outside sign-in).
pub use crate::db::ratelimit::ClientAddr;

fn idp(state: &AppState) -> Option<&Arc<Idp>> {
    state.saml.as_ref()
}

const NOT_CONFIGURED: &str =
    "Chromebook sign-in is not set up on this portal (its config has no [saml] section)";

fn not_configured_json() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::SamlNotConfigured,
        NOT_CONFIGURED,
    )
}

fn not_configured_text() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{NOT_CONFIGURED}.\n"),
    )
        .into_response()
}

fn window(state: &AppState) -> (i64, i64) {
    let now = state.now();
    let w = state.config.rate_limit.window_secs.max(1) as i64;
    let start = now - now.rem_euclid(w);
    (start, start + w - now)
}

/// Counts one request of `addr`; `Err(retry_after_secs)` when over `saml.ip_max`.
async fn ip_hit(state: &AppState, idp: &Idp, addr: &str) -> Result<(), ApiError> {
    let (start, retry) = window(state);
    let [hits] = state.rate.hit([ip_bucket(addr).as_str()], start).await?;
    if hits > idp.settings.ip_max {
        if hits == idp.settings.ip_max + 1 {
            store::audit_now(
                &state.db,
                &AuditEntry::new(state.now(), AUDIT_KIND, ErrorCode::RateLimited)
                    .flagged()
                    .detail(format!("{addr} exceeded the sign-in rate limit")),
            )
            .await?;
        }
        return Err(ApiError::rate_limited(retry.max(1) as u64));
    }
    Ok(())
}

/// An IPv6 client counts by its /64, like every per-address limit ([`ClientAddr::bucket`]).
fn ip_bucket(addr: &str) -> String {
    ClientAddr(addr.to_string()).bucket("signin-ip")
}

/// `GET /saml/metadata`
async fn metadata(State(state): State<AppState>) -> Response {
    let Some(idp) = idp(&state) else {
        return not_configured_text();
    };
    (
        [
            (header::CONTENT_TYPE, "application/samlmetadata+xml"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"quickcard-idp-metadata.xml\"",
            ),
        ],
        idp_metadata(&idp.idp, idp.key.certificate()),
    )
        .into_response()
}

/// `GET /saml/certificate.pem`
async fn certificate(State(state): State<AppState>) -> Response {
    let Some(idp) = idp(&state) else {
        return not_configured_text();
    };
    (
        [
            (header::CONTENT_TYPE, "application/x-pem-file"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"quickcard-idp-certificate.pem\"",
            ),
        ],
        idp.key.certificate().to_pem(),
    )
        .into_response()
}
