//! The kiosk's routes: enrolment, its config, the card exchange, the session and app launches
//! (`portal/API.md`, "Kiosk API"). Split from the admin routes because the two have different
//! callers and different authentication: everything here is called by a kiosk (or, for
//! `/v1/launch`, the browser the kiosk opened).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use quickcard_api::{EnrollReply, EnrollRequest, KioskConfig, LaunchReply};

use super::auth::{AuthedKiosk, LiveSession, admit, bearer};
use super::{Body, parse, revoked_cards, unix_secs};
use crate::AppState;
use crate::db::ratelimit::{self, ClientAddr};
use crate::db::store::{self, AuditEntry, AuditKind};
use crate::domain::exchange::{self, ExchangeRequest, SessionReply};
use crate::domain::secrets::{self, Secret, hash_token, normalise_code};
use crate::error::{ApiError, ErrorCode};

/// The kiosk's routes (merged into [`super::app`]).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/kiosks/enroll", post(enroll))
        .route("/v1/kiosk/config", get(kiosk_config))
        .route("/v1/exchange", post(exchange_card))
        .route("/v1/session", get(get_session).delete(delete_session))
        .route("/v1/session/apps/{id}/launch", post(launch))
        .route("/v1/launch/{token}", get(open_launch))
}

async fn enroll(
    State(state): State<AppState>,
    client: ClientAddr,
    body: Body,
) -> Result<Response, ApiError> {
    ratelimit::client_hit(&state, &client).await?;
    let req: EnrollRequest = parse(&body)?;
    let now = state.now();
    let w = state.config.rate_limit.window_secs.max(1) as i64;
    let start = now - now.rem_euclid(w);
    let [hits] = state.rate.hit(["enrol"], start).await?;
    if hits > state.config.rate_limit.enrol_max {
        return Err(ApiError::rate_limited((start + w - now) as u64));
    }
    let hash = secrets::hash_token(&normalise_code(&req.code));
    match store::enrol_kiosk(&state.db, &hash, now).await? {
        Some((kiosk, credential)) => {
            tracing::info!(kiosk = %kiosk.id, "kiosk enrolled");
            let reply = EnrollReply {
                kiosk_id: kiosk.id,
                name: kiosk.name,
                credential: credential.expose().to_string(),
                school_id: kiosk.school_id,
                trust: state.trust.keys().to_vec(),
            };
            Ok((StatusCode::OK, axum::Json(reply)).into_response())
        }
        None => {
            let named = req
                .name
                .map(|n| format!(" (kiosk calls itself {n:?})"))
                .unwrap_or_default();
            store::audit_now(
                &state.db,
                &AuditEntry::new(now, AuditKind::KioskEnrol, ErrorCode::EnrolmentCodeInvalid)
                    .flagged()
                    .detail(format!("unknown, used or expired enrolment code{named}")),
            )
            .await?;
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::EnrolmentCodeInvalid,
                "the enrolment code is unknown, already used, or expired; ask for a new one",
            ))
        }
    }
}

async fn kiosk_config(
    State(state): State<AppState>,
    AuthedKiosk(kiosk): AuthedKiosk,
) -> Result<Response, ApiError> {
    let revoked = revoked_cards(store::revocations_for_school(&state.db, &kiosk.school_id).await?);
    Ok(axum::Json(KioskConfig {
        kiosk_id: kiosk.id,
        name: kiosk.name,
        school_id: kiosk.school_id,
        trust: state.trust.keys().to_vec(),
        revoked,
        idle_timeout_secs: Some(state.config.kiosk.idle_timeout_secs),
        clock_skew_secs: state.config.session.clock_skew_secs,
        server_time: unix_secs(state.now()),
        demo: state.demo,
        ..KioskConfig::default()
    })
    .into_response())
}

/// `POST /v1/exchange`. The kiosk (as [`AuthedKiosk`] checks it) and the holder the card
/// claims are read in one query, grouped with concurrent exchanges' reads
/// ([`crate::db::exchange_reads`]); the card's signature is checked by [`exchange::check`] before
/// anything is decided on what was read.
async fn exchange_card(
    State(state): State<AppState>,
    client: ratelimit::ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<SessionReply>, ApiError> {
    let token = bearer(&headers).ok_or_else(ApiError::kiosk_unauthorized)?;
    // A malformed body is reported only to an authenticated kiosk.
    let req: Result<ExchangeRequest, ApiError> = parse(&body);
    let card = req
        .as_ref()
        .ok()
        .and_then(|r| quickcard::decode(r.card.as_bytes()).ok());
    let subject = card.as_ref().map(|c| c.claims.subject.to_string());
    let (kiosk, holder) = state
        .reads
        .read(hash_token(token), subject)
        .await?
        .ok_or_else(ApiError::kiosk_unauthorized)?;
    let kiosk = admit(&state, kiosk).await?;
    kiosk_network(&state, &kiosk, &client).await?;
    let req = req?;
    let prefetched = card.map(|card| exchange::Prefetched {
        card,
        school: kiosk.school_id.clone(),
        holder,
    });
    let reply = exchange::exchange(&state, &kiosk, req, prefetched).await?;
    Ok(axum::Json(reply))
}

/// With `saml.networks_apply_to_kiosks`, a kiosk's cards are taken only from its school's
/// network ranges: a stolen kiosk (or its credential) is useless off the school's network.
async fn kiosk_network(
    state: &AppState,
    kiosk: &crate::db::store::Kiosk,
    client: &ratelimit::ClientAddr,
) -> Result<(), ApiError> {
    #[cfg(feature = "saml")]
    if let Some(idp) = &state.saml
        && idp.settings.networks_apply_to_kiosks
        && !idp.networks.allows(&kiosk.school_id, &client.0)
    {
        crate::db::store::audit_now(
            &state.db,
            &crate::db::store::AuditEntry::new(
                state.now(),
                AuditKind::Exchange,
                ErrorCode::NetworkNotAllowed,
            )
            .flagged()
            .detail(format!(
                "kiosk {} ({}) used from {}, outside school {}'s networks",
                kiosk.name, kiosk.id, client.0, kiosk.school_id
            )),
        )
        .await?;
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            ErrorCode::NetworkNotAllowed,
            format!(
                "this kiosk works only on its school's network ({}); ask the district's IT team",
                kiosk.school_id
            ),
        ));
    }
    #[cfg(not(feature = "saml"))]
    let _ = (state, kiosk, client);
    Ok(())
}

async fn get_session(
    State(state): State<AppState>,
    live: LiveSession,
) -> Result<axum::Json<SessionReply>, ApiError> {
    let s = &live.session;
    Ok(axum::Json(exchange::reply(
        &state,
        live.token.clone(),
        s.expires_at,
        &s.user_id,
        s.role,
        &s.given_name,
        &s.display_name,
        &live.kiosk.school_id,
        s.second_factor,
    )))
}

async fn delete_session(
    State(state): State<AppState>,
    live: LiveSession,
) -> Result<StatusCode, ApiError> {
    if store::end_session(&state.db, &live.session, state.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::session_expired())
    }
}

async fn launch(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    live: LiveSession,
) -> Result<axum::Json<LaunchReply>, ApiError> {
    let schools = [live.kiosk.school_id.clone()];
    let app = state
        .apps
        .iter()
        .find(|a| a.id == app_id && a.visible_to(live.session.role, &schools))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownApp,
                "no such app for this user",
            )
        })?;
    let now = state.now();
    let token = Secret::token("qcl_");
    let expires_at = now + state.config.session.launch_ttl_secs as i64;
    store::create_launch(
        &state.db,
        &live.session,
        &app.id,
        &token.hash(),
        now,
        expires_at,
    )
    .await?;
    Ok(axum::Json(LaunchReply {
        url: format!(
            "{}/v1/launch/{}",
            state.config.public_base(),
            token.expose()
        ),
        expires_at: unix_secs(expires_at),
    }))
}

/// `GET /v1/launch/{token}`: anyone can call it, so it is limited per client address, and
/// only a token that exists and is unused reaches the database's writer (see
/// [`store::redeem_launch`]).
async fn open_launch(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    ratelimit::client_hit(&state, &client).await?;
    let invalid = || {
        ApiError::new(
            StatusCode::GONE,
            ErrorCode::LaunchInvalid,
            "this launch link was already used, has expired, or its session ended; open the app from the kiosk again",
        )
    };
    let app_id = store::redeem_launch(&state.db, &hash_token(&token), state.now())
        .await?
        .ok_or_else(invalid)?;
    let app = state
        .apps
        .iter()
        .find(|a| a.id == app_id)
        .ok_or_else(invalid)?;
    Ok(Redirect::to(&app.launch_url).into_response())
}
