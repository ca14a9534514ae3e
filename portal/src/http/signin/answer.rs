//! The answer to a sign-in: the sign-in page reads its config (`GET
//! /v1/signin/{request}/config`) and exchanges the card (`POST /v1/signin/{request}/exchange`);
//! every rule of `POST /v1/exchange` holds, through [`exchange::check`], and the reply carries
//! the signed SAML response the page POSTs to Google. Apart from [`super::start`] because it
//! is the half that decides who is signed in, and answers each pending sign-in once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quickcard_api::{KioskConfig, SignInHandoff};
use quickcard_saml::{
    BuildError, EmailNameId, RequestError, ResponseIds, SignIn, build_response, parse_authn_request,
};

use super::{AUDIT_KIND, ClientAddr, idp, ip_bucket, ip_hit, not_configured_json};
use crate::AppState;
use crate::db::store::{self, AuditEntry, AuditResult, PendingSignIn};
use crate::domain::exchange::{self, Caller, ExchangeRequest, SchoolScope, SessionReply};
use crate::domain::secrets::hash_token;
use crate::error::{ApiError, ErrorCode};
use crate::http::api::{parse as parse_body, unix_secs};
use crate::http::signin_device;

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
pub(super) async fn signin_config(
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
        crate::http::api::revoked_cards(store::revocations_for_schools(&state.db, schools).await?);
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
pub(super) async fn signin_exchange(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(request): Path<String>,
    body: crate::http::api::Body,
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
    // Derived, never stored: see crate::domain::chromeos_password. It opens the child's Chromebook
    // profile, so only a sign-in from a Chromebook that Verified Access vouched for gets it;
    // any other sign-in goes on without it (ChromeOS then asks for no saved password).
    let password = pending.device_id.is_some().then(|| {
        crate::domain::chromeos_password::chromeos_password(
            &idp.password_key,
            &holder.id,
            generation,
        )
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
