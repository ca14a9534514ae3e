//! The HTML pages of a sign-in that cannot start, for the teacher standing next to the
//! Chromebook: what happened and what to do. Apart from the routes because the wording is
//! long, changes on its own, and is shared by [`super::start`] and the device checks
//! (`signin_device`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quickcard_saml::RequestError;
use quickcard_saml::html_escape as escape;

use crate::config::idp::Idp;
use crate::error::ApiError;

/// The HTML page for a sign-in that cannot start: what happened and what to do, for the
/// teacher standing next to the Chromebook.
pub(crate) fn error_page(
    status: StatusCode,
    headline: &str,
    what_to_do: &str,
    code: &str,
) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Card sign-in: {h}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}\
         h1{{font-size:1.6rem}}code{{background:#eee;padding:0 .3em}}</style></head>\
         <body><main><h1>{h}</h1><p>{w}</p><p>Error code for the IT team: <code>{c}</code></p></main></body></html>\n",
        h = escape(headline),
        w = escape(what_to_do),
        c = escape(code),
    );
    let mut resp = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    resp.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    resp
}

/// Headline and advice for a refused `AuthnRequest`.
pub(super) fn request_advice(e: &RequestError, idp: &Idp) -> (String, String) {
    let restart = "Go back to the Chromebook's sign-in screen and start the sign-in again.";
    let it = "If this keeps happening, tell the district's IT team.";
    match e {
        RequestError::TooOld => (
            "This sign-in page was open too long".into(),
            format!(
                "A sign-in must be finished within {} minutes. {restart}",
                idp.idp.request_max_age_secs() / 60
            ),
        ),
        RequestError::FromTheFuture => (
            "The sign-in request has a time in the future".into(),
            format!("The clocks of the portal and of Google disagree. {it}"),
        ),
        RequestError::UnknownIssuer(issuer) => (
            "This service is not set up for card sign-in".into(),
            format!(
                "The sign-in request comes from \"{issuer}\", which is not one of the portal's allowed \
                 services. If this is your school's Google Workspace, the IT team must add its domain \
                 or SSO profile to the portal's [saml] settings (and tick \"use a domain-specific issuer\" \
                 in Google's legacy SSO profile)."
            ),
        ),
        RequestError::AcsNotAllowed(acs) => (
            "The sign-in result would go to an address that is not allowed".into(),
            format!(
                "The request asks to send the result to \"{acs}\", which is not the allowed address of \
                 that service. Nobody was signed in. {it}"
            ),
        ),
        RequestError::WrongDestination(d) => (
            "The sign-in request was meant for another sign-in page".into(),
            format!(
                "It names \"{d}\" instead of \"{}\". The sign-in page URL in Google's SSO profile and \
                 the portal's address must match. {it}",
                idp.idp.sso_url()
            ),
        ),
        RequestError::UnsupportedBinding(_) | RequestError::UnsupportedNameIdFormat(_) => (
            "The SSO profile is set up differently from the portal".into(),
            format!("{e}. {it}"),
        ),
        RequestError::Missing => (
            "This is the card sign-in page, but no sign-in request came with it".into(),
            format!("Open it from the Chromebook's sign-in screen, not directly. {it}"),
        ),
        _ => (
            "The Chromebook's sign-in request could not be read".into(),
            format!("{restart} {it}"),
        ),
    }
}

/// The page for a client over the sign-in rate limit, with its `Retry-After`.
pub(super) fn too_many(e: ApiError) -> Response {
    let mut page = error_page(
        e.status,
        "Too many sign-ins from this network",
        "Wait a minute and start the sign-in again.",
        e.code().as_str(),
    );
    if let Some(v) = e.error.retry_after_secs
        && let Ok(v) = HeaderValue::from_str(&v.to_string())
    {
        page.headers_mut().insert(header::RETRY_AFTER, v);
    }
    page
}
