//! The device and network checks of the Chromebook sign-in (see [`crate::domain::device_binding`] for
//! why): at the start of a sign-in (`/saml/sso`), the client must be on a school network and,
//! with Verified Access, answer Google's challenge as one of the district's Chromebooks; at the
//! card exchange, the card's school must own the network the request comes from.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::config::idp::Idp;
use crate::db::store::{self, AuditEntry, AuditResult};
use crate::domain::verified_access::{CHALLENGE_HEADER, RESPONSE_HEADER};
use crate::error::{ApiError, ErrorCode};
use crate::http::signin::{AUDIT_KIND, error_page};

/// Added to the sign-in URL when the portal has sent its challenge, so that a device that does
/// not answer is refused instead of being challenged forever.
const CHALLENGED: &str = "qc_attest=1";

/// What the start of a sign-in may do next.
pub(crate) enum Start {
    /// Go on; `device_id` is the attested device, if Verified Access is on.
    Proceed {
        device_id: Option<String>,
        query: String,
    },
    /// Answer with this (a challenge redirect or a refusal page).
    Respond(Response),
}

/// The query without our own marker (the SAML binding does not know it).
fn without_marker(query: &str) -> (String, bool) {
    let mut marked = false;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| {
            let m = *p == CHALLENGED;
            marked |= m;
            !m && !p.is_empty()
        })
        .collect();
    (rest.join("&"), marked)
}

async fn refuse(
    state: &AppState,
    addr: &str,
    result: AuditResult,
    detail: String,
    page: (StatusCode, &str, &str),
) -> Start {
    let entry = AuditEntry::new(state.now(), AUDIT_KIND, result)
        .flagged()
        .detail(format!("{detail}; from {addr}"));
    if let Err(e) = store::audit_now(&state.db, &entry).await {
        tracing::error!(error = %e, "audit write failed");
    }
    tracing::warn!(%addr, %result, "sign-in start refused");
    Start::Respond(error_page(page.0, page.1, page.2, &result.to_string()))
}

/// The checks at `/saml/sso`, before the `AuthnRequest` is read.
pub(crate) async fn check_start(
    state: &AppState,
    idp: &Idp,
    addr: &str,
    headers: &HeaderMap,
    query: &str,
) -> Start {
    let (query, challenged) = without_marker(query);
    if !idp.networks.is_empty() && idp.networks.schools_of(addr).is_empty() {
        return refuse(
            state,
            addr,
            ErrorCode::NetworkNotAllowed.into(),
            "sign-in started outside every school's network ranges".into(),
            (
                StatusCode::FORBIDDEN,
                "Card sign-in works only at school",
                "This network is not one of the school's. Sign in with a card on a school \
                 Chromebook at school. If this is a school network, the district's IT team \
                 must add its addresses to the portal (saml.networks).",
            ),
        )
        .await;
    }
    let Some(va) = &idp.attest else {
        return Start::Proceed {
            device_id: None,
            query,
        };
    };
    let now = state.now();
    if let Some(answer) = headers.get(RESPONSE_HEADER) {
        let answer = answer.to_str().unwrap_or("");
        return match va.verify(answer, now).await {
            Ok(device) => Start::Proceed {
                device_id: Some(device.device_id),
                query,
            },
            Err(e) => {
                refuse(
                    state,
                    addr,
                    AuditResult::DeviceNotAttested,
                    format!("device attestation failed: {e}"),
                    (
                        StatusCode::FORBIDDEN,
                        "This Chromebook is not one of the school's",
                        "Card sign-in works only on the district's own Chromebooks. Use a \
                         school Chromebook; if this is one, tell the district's IT team \
                         (device attestation failed).",
                    ),
                )
                .await
            }
        };
    }
    if challenged {
        return refuse(
            state,
            addr,
            AuditResult::DeviceNotAttested,
            "the device did not answer the Verified Access challenge (not a managed \
             Chromebook, or DeviceWebBasedAttestationAllowedUrls does not list the portal)"
                .into(),
            (
                StatusCode::FORBIDDEN,
                "This Chromebook is not one of the school's",
                "Card sign-in works only on the district's own Chromebooks, from their sign-in \
                 screen. If this is a school Chromebook, the district's IT team must allow \
                 device attestation for the portal (DeviceWebBasedAttestationAllowedUrls).",
            ),
        )
        .await;
    }
    match va.challenge(now).await {
        Ok(challenge) => {
            let Ok(value) = HeaderValue::from_str(&challenge) else {
                return Start::Respond(unavailable("Google's challenge is not a header value"));
            };
            let sep = if query.is_empty() { "" } else { "&" };
            let location = format!("{}?{query}{sep}{CHALLENGED}", idp.idp.sso_url());
            let mut resp = (
                StatusCode::FOUND,
                [
                    (header::LOCATION, location),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
            )
                .into_response();
            resp.headers_mut().insert(CHALLENGE_HEADER, value);
            Start::Respond(resp)
        }
        Err(e) => {
            tracing::error!(error = %e, "Verified Access challenge");
            Start::Respond(unavailable(&e.to_string()))
        }
    }
}

fn unavailable(why: &str) -> Response {
    tracing::error!(why, "sign-in cannot check devices");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The portal could not check this Chromebook",
        "Google's device check did not answer. Try again in a minute; if this keeps \
         happening, tell the district's IT team.",
        "attestation_unavailable",
    )
}

/// At the card exchange: the card's school must own the network the request comes from.
pub(crate) fn check_exchange_network(idp: &Idp, school: &str, addr: &str) -> Result<(), ApiError> {
    if idp.networks.is_empty() || idp.networks.allows(school, addr) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::NetworkNotAllowed,
        format!(
            "this card's school ({school}) does not sign in from this network; use the card at \
             its own school"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::without_marker;

    #[test]
    fn the_marker_is_removed_wherever_it_is() {
        assert_eq!(
            without_marker("SAMLRequest=abc&RelayState=x&qc_attest=1"),
            ("SAMLRequest=abc&RelayState=x".to_string(), true)
        );
        assert_eq!(
            without_marker("qc_attest=1&SAMLRequest=abc"),
            ("SAMLRequest=abc".to_string(), true)
        );
        assert_eq!(
            without_marker("SAMLRequest=abc"),
            ("SAMLRequest=abc".to_string(), false)
        );
        assert_eq!(
            without_marker("SAMLRequest=abc&qc_attest=10"),
            ("SAMLRequest=abc&qc_attest=10".to_string(), false)
        );
    }
}
