//! Chromebook sign-in: the portal as the district's SAML 2.0 identity provider for
//! Google Workspace. The Chromebook's sign-in screen opens `/saml/sso` (Google's HTTP-Redirect
//! `AuthnRequest`), the portal keeps the checked request server-side as a *pending sign-in*
//! and sends the browser to the web kiosk in sign-in mode; the page scans the card, calls the
//! exchange below (every rule of `POST /v1/exchange` holds, through [`exchange::check`]), and
//! POSTs the signed response it gets back to Google's ACS URL.
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

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quickcard_api::{KioskConfig, SignInHandoff};
use quickcard_saml::{
    BuildError, EmailNameId, RequestError, ResponseIds, SignIn, build_response, idp_metadata,
    parse_authn_request, parse_redirect_query,
};

use crate::AppState;
use crate::api::{parse as parse_body, unix_secs};
use crate::error::{ApiError, ErrorCode};
use crate::exchange::{self, Caller, ExchangeRequest, SchoolScope, SessionReply};
use crate::idp::Idp;
use crate::secrets::{Secret, hash_token};
use crate::signin_device;
use crate::store::{self, AuditEntry, AuditKind, AuditResult, PendingSignIn};
use quickcard_saml::html_escape as escape;

/// The audit log's `kind` for everything of a Chromebook sign-in.
pub const AUDIT_KIND: AuditKind = AuditKind::ChromebookSignIn;

/// The sign-in routes (merged into [`crate::app`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/sso", get(sso))
        .route("/saml/metadata", get(metadata))
        .route("/saml/certificate.pem", get(certificate))
        .route("/v1/signin/{request}/config", get(signin_config))
        .route("/v1/signin/{request}/exchange", post(signin_exchange))
}

/// The client's address (also the key of the per-address limits outside sign-in).
pub use crate::ratelimit::ClientAddr;

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
fn request_advice(e: &RequestError, idp: &Idp) -> (String, String) {
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
async fn sso(
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

fn too_many(e: ApiError) -> Response {
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

/// Why a pending sign-in cannot be used (or `Ok` with the row).
enum Lookup {
    Usable(PendingSignIn),
    Refused(PendingSignIn, ApiError),
}

fn signin_unknown() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::SigninUnknown,
        "no such sign-in request; start the sign-in again on the Chromebook",
    )
}

fn signin_used() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        ErrorCode::SigninUsed,
        "this sign-in request was already answered; start the sign-in again on the Chromebook",
    )
}

fn signin_expired(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        ErrorCode::SigninExpired,
        format!("{why}; start the sign-in again on the Chromebook"),
    )
}

async fn lookup(state: &AppState, request: &str) -> Result<Lookup, ApiError> {
    if request.is_empty() || request.len() > 64 {
        return Err(signin_unknown());
    }
    let Some(p) = store::pending_sign_in(&state.db, &hash_token(request)).await? else {
        return Err(signin_unknown());
    };
    if p.answered_at.is_some() {
        return Ok(Lookup::Refused(p, signin_used()));
    }
    if state.now() > p.expires_at {
        return Ok(Lookup::Refused(
            p,
            signin_expired("this sign-in request has expired"),
        ));
    }
    Ok(Lookup::Usable(p))
}

/// `GET /v1/signin/{request}/config`
async fn signin_config(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(request): Path<String>,
) -> Result<Response, ApiError> {
    let idp = idp(&state).cloned().ok_or_else(not_configured_json)?;
    ip_hit(&state, &idp, &addr).await?;
    let p = match lookup(&state, &request).await? {
        Lookup::Usable(p) => p,
        Lookup::Refused(_, e) => return Err(e),
    };
    let schools = &idp.settings.schools;
    // Salted hashes, not user ids: anyone who starts a sign-in reads this reply.
    let revoked =
        crate::api::revoked_cards(store::revocations_for_schools(&state.db, schools).await?);
    Ok(axum::Json(KioskConfig {
        kiosk_id: String::new(),
        name: "Chromebook sign-in".into(),
        school_id: String::new(),
        schools: Some(schools.clone()),
        trust: state.trust.keys().to_vec(),
        revoked,
        idle_timeout_secs: Some(state.config.kiosk.idle_timeout_secs),
        clock_skew_secs: state.config.session.clock_skew_secs,
        server_time: unix_secs(state.now()),
        demo: state.demo,
        expires_at: Some(unix_secs(p.expires_at)),
        service_provider: Some(p.issuer.clone()),
    })
    .into_response())
}

/// `POST /v1/signin/{request}/exchange`
async fn signin_exchange(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(request): Path<String>,
    body: crate::api::Body,
) -> Result<axum::Json<SessionReply>, ApiError> {
    let idp = idp(&state).cloned().ok_or_else(not_configured_json)?;
    let pending = match lookup(&state, &request).await {
        Ok(Lookup::Usable(p)) => p,
        Ok(Lookup::Refused(p, e)) => {
            ip_hit(&state, &idp, &addr).await?;
            let entry = AuditEntry::new(state.now(), AUDIT_KIND, e.code()).detail(format!(
                "card exchange for AuthnRequest {} of {} refused: {}; from {addr}",
                p.request_id,
                p.issuer,
                e.message()
            ));
            return Err(exchange::refuse(&state, entry, e).await);
        }
        Err(e) => {
            ip_hit(&state, &idp, &addr).await?;
            return Err(e);
        }
    };
    let req: ExchangeRequest = parse_body(&body)?;
    let device = match &pending.device_id {
        Some(d) => format!("attested Chromebook {d}"),
        None => "a device that was not attested".to_string(),
    };
    let context = format!(
        "sign-in for {} (AuthnRequest {}) from {addr}, {device}",
        pending.issuer, pending.request_id
    );
    let caller = Caller {
        kind: AUDIT_KIND,
        kiosk_id: None,
        bucket: ip_bucket(&addr),
        max: idp.settings.ip_max,
        // A school's Chromebooks share one address: past verification only the card's own
        // budget counts (see `Caller::bucket_for_unverified_only`).
        bucket_for_unverified_only: true,
        scope: SchoolScope::District(&idp.settings.schools),
        context: Some(context.clone()),
        prefetched: None,
    };
    let checked = exchange::check(&state, &caller, req).await?;
    if let Err(e) = signin_device::check_exchange_network(&idp, &checked.school, &addr) {
        let entry = checked
            .audit(&caller, exchange::REFUSED)
            .flagged()
            .detail(format!("{}; {context}", e.message()));
        return Err(exchange::refuse(&state, entry, e).await);
    }
    let now = checked.now;
    let holder = &checked.holder;
    let refuse = |entry: AuditEntry, err: ApiError| exchange::refuse(&state, entry, err);

    // The Google account.
    let (email, username) = store::user_identity(&state.db, &holder.id).await?;
    let no_account = |why: String| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::NoGoogleAccount,
            format!("no Google account is known for this user: {why}; ask the district's IT team"),
        )
    };
    let name_id = match idp.settings.name_id(
        &checked.school,
        holder.role,
        &holder.id,
        email.as_deref(),
        username.as_deref(),
    ) {
        Ok(e) => match EmailNameId::parse(&e) {
            Ok(n) => n,
            Err(err) => {
                let e = no_account(err.to_string());
                let entry = checked
                    .audit(&caller, exchange::REFUSED)
                    .detail(format!("{}; {context}", e.message()));
                return Err(refuse(entry, e).await);
            }
        },
        Err(why) => {
            let e = no_account(why.0);
            let entry = checked
                .audit(&caller, exchange::REFUSED)
                .detail(format!("{}; {context}", e.message()));
            return Err(refuse(entry, e).await);
        }
    };

    // The signed response, built before the request is marked answered (and thrown away if
    // another answer wins).
    let authn = match parse_authn_request(
        &pending.saml_request,
        pending.relay_state.as_deref(),
        &idp.idp,
        now.max(0) as u64,
    ) {
        Ok(a) => a,
        Err(err) => {
            let e = if matches!(err, RequestError::TooOld) {
                signin_expired("this sign-in request has expired")
            } else {
                signin_expired(&format!("this sign-in request is no longer valid ({err})"))
            };
            let entry = checked
                .audit(&caller, exchange::REFUSED)
                .detail(format!("{}; {context}", e.message()));
            return Err(refuse(entry, e).await);
        }
    };
    let signed = {
        let idp = idp.clone();
        let sign_in = SignIn {
            name_id: name_id.clone(),
            authn_instant: now.max(0) as u64,
            attributes: Vec::new(),
        };
        tokio::task::spawn_blocking(move || {
            let ids = ResponseIds::generate()?;
            build_response(
                &idp.idp,
                &idp.key,
                &authn,
                &sign_in,
                &ids,
                now.max(0) as u64,
            )
        })
        .await
        .map_err(ApiError::internal)?
    };
    let signed = match signed {
        Ok(s) => s,
        Err(BuildError::RequestExpired { .. }) => {
            let e = signin_expired("this sign-in request has expired");
            let entry = checked
                .audit(&caller, exchange::REFUSED)
                .detail(format!("{}; {context}", e.message()));
            return Err(refuse(entry, e).await);
        }
        Err(e) => {
            return Err(ApiError::internal(format!(
                "building the SAML response: {e}"
            )));
        }
    };

    let ok = checked.audit(&caller, AuditResult::Ok).detail(format!(
        "signed in to {} as {} (AuthnRequest {}, response valid until {}); key {} ({}), role {}{}; from {addr}, {device}",
        pending.issuer,
        name_id.as_str(),
        pending.request_id,
        quickcard::time::format_utc(signed.not_on_or_after()),
        checked.card.key_id,
        checked.card.key_name,
        holder.role,
        if checked.second_factor { ", with PIN" } else { "" },
    ));
    let generation =
        store::answer_sign_in(&state.db, &pending.id_hash, &holder.id, now, &ok).await?;
    let Some(generation) = generation else {
        // Lost the race (another exchange answered it), or it expired meanwhile.
        let e = match store::pending_sign_in(&state.db, &pending.id_hash).await? {
            Some(p) if p.answered_at.is_some() => signin_used(),
            Some(_) => signin_expired("this sign-in request has expired"),
            None => signin_unknown(),
        };
        let entry = checked
            .audit(&caller, exchange::REFUSED)
            .detail(format!("{}; {context}", e.message()));
        return Err(refuse(entry, e).await);
    };
    // Derived, never stored: see crate::chromeos_password. It opens the child's Chromebook
    // profile, so only a sign-in from a Chromebook that Verified Access vouched for gets it;
    // any other sign-in goes on without it (ChromeOS then asks for no saved password).
    let password = pending.device_id.is_some().then(|| {
        crate::chromeos_password::chromeos_password(&idp.password_key, &holder.id, generation)
    });
    tracing::info!(user = %holder.id, sp = %pending.issuer, "Chromebook sign-in");
    let mut session = exchange::reply(
        &state,
        String::new(),
        signed.not_on_or_after() as i64,
        &holder.id,
        holder.role,
        &holder.given_name,
        &holder.display_name,
        &checked.school,
        checked.second_factor,
    );
    session.apps.clear();
    session.sign_in = Some(Box::new(SignInHandoff {
        acs_url: signed.acs_url().to_string(),
        saml_response: signed.base64(),
        relay_state: signed.relay_state().unwrap_or("").to_string(),
        email: name_id.as_str().to_string(),
        password: password.map(|p| p.expose().to_string()).unwrap_or_default(),
    }));
    Ok(axum::Json(session))
}

#[cfg(test)]
mod tests {
    use super::*;

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
