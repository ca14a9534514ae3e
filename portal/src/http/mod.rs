//! The HTTP side: routes and their extractors, replies and the pages the portal serves. Handlers
//! here parse and authenticate a request, call [`crate::domain`], and turn the answer (or an
//! [`crate::ApiError`]) into a reply; no decision is made here.
//!
//! - [`api`]: the kiosk and admin API (`portal/API.md`) and [`api::app`], the whole router;
//! - [`web`]: the browser kiosk's files at `/kiosk/`, under a strict Content-Security-Policy;
//! - [`signin`] and `signin_device`: the Chromebook sign-in (the portal as SAML identity
//!   provider), with its device and network checks;
//! - [`metrics`]: `/metrics` for Prometheus.

pub mod api;
pub mod metrics;
/// Chromebook sign-in routes (the SAML identity provider); see the module docs.
#[cfg(feature = "saml")]
pub mod signin;
#[cfg(feature = "saml")]
mod signin_device;
pub mod web;
/// Without the `saml` feature there are no sign-in routes (every path answers 404).
#[cfg(not(feature = "saml"))]
pub mod signin {
    /// No routes.
    pub fn routes() -> axum::Router<crate::AppState> {
        axum::Router::new()
    }
}
