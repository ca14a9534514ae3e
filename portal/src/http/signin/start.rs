//! The start of a sign-in: `GET /saml/sso` checks Google's `AuthnRequest` (and, through
//! `signin_device`, the Chromebook and its network), stores it as a pending sign-in and sends
//! the browser to the web kiosk's sign-in page. Apart from [`super::answer`] because the two
//! halves meet only through the database row: nothing the page sends can change what was
//! stored here.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quickcard_saml::{RequestError, parse_redirect_query};

use super::page::{error_page, request_advice, too_many};
use super::{AUDIT_KIND, ClientAddr, idp, ip_hit, not_configured_text};
use crate::AppState;
use crate::config::idp::Idp;
use crate::db::store::{self, AuditEntry, AuditResult, PendingSignIn};
use crate::domain::secrets::{Secret, hash_token};
use crate::error::ApiError;
use crate::http::signin_device;

/// Where the browser goes to scan the card. A demo portal tells the page to trust the demo
/// key (the page accepts that only from a portal on loopback).
fn page_location(state: &AppState, id: &str) -> String {
    let demo = if state.demo { "&demo=1" } else { "" };
    let path = format!("/kiosk/?mode=signin&request={id}{demo}");
    match &state.config.public_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => path,
    }
}

/// `GET /saml/sso?SAMLRequest=…&RelayState=…`
pub(super) async fn sso(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(idp) = idp(&state).cloned() else {
        return not_configured_text();
    };
    let query = query.as_deref().unwrap_or("");
    if let Err(e) = ip_hit(&state, &idp, &addr).await {
        return too_many(e);
    }
    let (device_id, query) =
        match signin_device::check_start(&state, &idp, &addr, &headers, query).await {
            signin_device::Start::Proceed { device_id, query } => (device_id, query),
            signin_device::Start::Respond(r) => return r,
        };
    match start_sign_in(&state, &idp, &addr, &query, device_id).await {
        Ok(resp) | Err(resp) => resp,
    }
}

async fn start_sign_in(
    state: &AppState,
    idp: &Idp,
    addr: &str,
    query: &str,
    device_id: Option<String>,
) -> Result<Response, Response> {
    let internal = |e: ApiError| {
        error_page(
            e.status,
            "The portal could not start the sign-in",
            "Try again in a moment. If this keeps happening, tell the district's IT team.",
            e.code().as_str(),
        )
    };
    let now = state.now();
    let req = match parse_redirect_query(query, &idp.idp, now.max(0) as u64) {
        Ok(r) => r,
        Err(e) => {
            let flagged = matches!(
                e,
                RequestError::UnknownIssuer(_)
                    | RequestError::AcsNotAllowed(_)
                    | RequestError::DtdOrEntity
            );
            // Unreadable requests are only logged (anyone can send garbage; it names no SP and
            // no request); refusals of a readable request are audited.
            let garbage = matches!(
                e,
                RequestError::Missing
                    | RequestError::BadQuery(_)
                    | RequestError::EncodedTooLarge
                    | RequestError::InflatedTooLarge
                    | RequestError::BadBase64
                    | RequestError::BadDeflate
                    | RequestError::NotUtf8
                    | RequestError::BadXml(_)
            );
            if !garbage {
                let mut entry =
                    AuditEntry::new(now, AUDIT_KIND, AuditResult::SamlRequest(e.code()))
                        .detail(format!("sign-in request refused: {e}; from {addr}"));
                if flagged {
                    entry = entry.flagged();
                }
                store::audit_now(&state.db, &entry)
                    .await
                    .map_err(|e| internal(e.into()))?;
            }
            tracing::info!(code = e.code(), %addr, "SAML request refused");
            let (headline, advice) = request_advice(&e, idp);
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                &headline,
                &advice,
                &format!("saml_{}", e.code()),
            ));
        }
    };
    if req.is_passive() {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "A card sign-in needs the child at the Chromebook",
            "The service asked for a sign-in without any interaction (IsPassive), which a card \
             sign-in cannot do. Start the sign-in from the Chromebook's sign-in screen.",
            "saml_passive",
        ));
    }
    let id = Secret::request_id();
    let pending = PendingSignIn {
        id_hash: hash_token(id.expose()),
        issuer: req.issuer().to_string(),
        request_id: req.id().to_string(),
        acs_url: req.acs_url().to_string(),
        relay_state: req.relay_state().map(str::to_string),
        saml_request: saml_request_param(query).unwrap_or_default(),
        created_at: now,
        expires_at: req.answer_by() as i64,
        answered_at: None,
        user_id: None,
        device_id,
    };
    let stored = store::insert_pending_sign_in(&state.db, &pending, now)
        .await
        .map_err(|e| internal(e.into()))?;
    if !stored {
        store::audit_now(
            &state.db,
            &AuditEntry::new(now, AUDIT_KIND, AuditResult::SigninReplayed)
                .flagged()
                .detail(format!(
                    "AuthnRequest {} of {} was already used once; refused; from {addr}",
                    req.id(),
                    req.issuer()
                )),
        )
        .await
        .map_err(|e| internal(e.into()))?;
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in request was already used",
            "Each sign-in request works once (reloading the page does not work). Go back to the \
             Chromebook's sign-in screen and start the sign-in again.",
            "signin_replayed",
        ));
    }
    let location = page_location(state, id.expose());
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response())
}

/// The raw (still percent-encoded) `SAMLRequest` value, decoded, as stored for re-parsing.
fn saml_request_param(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "SAMLRequest").then(|| percent_decode(v))?
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = quickcard::util::percent_decode(s, quickcard::util::BadEscape::Refuse)?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcard_saml::html_escape as escape;

    #[test]
    fn saml_request_value_is_decoded() {
        assert_eq!(
            saml_request_param("RelayState=x&SAMLRequest=ab%2Bc%3D&x=1").as_deref(),
            Some("ab+c=")
        );
        assert_eq!(saml_request_param("RelayState=x"), None);
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
