//! The HTTP API (`portal/API.md`): routes and authentication extractors. The request and
//! reply bodies are the wire contract's (`quickcard-api`), shared with the kiosk.
//!
//! Handlers stay thin: they authenticate, parse, and call [`crate::exchange`] or
//! [`crate::store`]. Every failure is an [`ApiError`] with its own code and status.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use quickcard_api::{
    AddKioskReply, AddKioskRequest, DisableKioskReply, EnrollReply, EnrollRequest, HealthReply,
    KioskConfig, LaunchReply, Revocation, RevokeReply, RevokeRequest, UnlockReply,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::exchange::{self, ExchangeRequest, SessionReply};
use crate::ratelimit::{self, ClientAddr};
use crate::secrets::{self, Secret, hash_token, normalise_code};
use crate::store::{self, AuditEntry, AuditKind, AuditResult, Kiosk, SessionView};

/// Header carrying the session token on session calls.
pub const SESSION_HEADER: &str = "quickcard-session";
/// Kiosks' last-seen time is written at most this often.
const LAST_SEEN_GRANULARITY: i64 = 30;

/// The portal's router over `state`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/kiosks/enroll", post(enroll))
        .route("/v1/kiosk/config", get(kiosk_config))
        .route("/v1/exchange", post(exchange_card))
        .route("/v1/session", get(get_session).delete(delete_session))
        .route("/v1/session/apps/{id}/launch", post(launch))
        .route("/v1/launch/{token}", get(open_launch))
        .route("/v1/admin/users/{id}/revoke", post(admin_revoke))
        .route("/v1/admin/users/{id}/unlock", post(admin_unlock))
        .route("/v1/admin/audit", get(admin_audit))
        .route("/v1/admin/kiosks", post(admin_add_kiosk))
        .route("/v1/admin/kiosks/{id}/disable", post(admin_disable_kiosk))
        .route("/metrics", get(crate::metrics::admin_metrics))
        .merge(crate::person::routes())
        .merge(crate::web::routes())
        .merge(crate::signin::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(no_store_by_default))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::count,
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

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
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
async fn admit(state: &AppState, kiosk: Kiosk) -> Result<Kiosk, ApiError> {
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
// Debug: crate::redact (no secrets in logs).
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
/// ([`crate::exchange_reads`]); the card's signature is checked by [`exchange::check`] before
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
    kiosk: &crate::store::Kiosk,
    client: &ratelimit::ClientAddr,
) -> Result<(), ApiError> {
    #[cfg(feature = "saml")]
    if let Some(idp) = &state.saml
        && idp.settings.networks_apply_to_kiosks
        && !idp.networks.allows(&kiosk.school_id, &client.0)
    {
        crate::store::audit_now(
            &state.db,
            &crate::store::AuditEntry::new(
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

/// Lifts every PIN lockout of a user.
async fn admin_unlock(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    admin(&state, &headers)?;
    let user_id = normalise_user(&user_id)?;
    let now = state.now();
    let lifted = crate::pin_attempts::unlock(&state.db, &user_id).await?;
    store::audit_now(
        &state.db,
        &store::AuditEntry::new(now, AuditKind::PinUnlock, AuditResult::Ok)
            .user(&user_id)
            .detail(format!("{lifted} lockouts lifted by the admin API")),
    )
    .await?;
    Ok(axum::Json(UnlockReply {
        user_id,
        lockouts_lifted: lifted,
    })
    .into_response())
}

async fn admin_revoke(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin(&state, &headers)?;
    let req: RevokeRequest = if body.as_ref().is_ok_and(|b| b.is_empty()) {
        RevokeRequest::default()
    } else {
        parse(&body)?
    };
    let user_id = normalise_user(&user_id)?;
    let now = state.now();
    let reason = req.reason.unwrap_or_else(|| "card replaced".into());
    let ended = store::revoke(&state.db, &user_id, now, &reason, "admin API")
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownUser,
                "no such user on the roster",
            )
        })?;
    Ok(axum::Json(RevokeReply {
        user_id,
        issued_before: unix_secs(now),
        sessions_ended: ended,
    })
    .into_response())
}

/// Roster ids are compared in the card format's normal form (UUIDs lower-case).
pub fn normalise_user(id: &str) -> Result<String, ApiError> {
    quickcard::Subject::parse(id.trim())
        .map(|s| s.to_string())
        .map_err(|e| ApiError::bad_request(format!("user id: {e}")))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    since: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn admin_audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    admin(&state, &headers)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let user = q.user.as_deref().map(normalise_user).transpose()?;
    let rows = store::audit_rows(
        &state.db,
        user.as_deref(),
        q.since.unwrap_or(0),
        q.limit.unwrap_or(1000).clamp(1, 10_000),
    )
    .await?;
    Ok(axum::Json(json!({ "rows": rows })).into_response())
}

async fn admin_add_kiosk(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin(&state, &headers)?;
    let req: AddKioskRequest = parse(&body)?;
    if req.name.trim().is_empty() || req.school_id.trim().is_empty() {
        return Err(ApiError::bad_request(
            "name and school_id must not be empty",
        ));
    }
    let now = state.now();
    let ttl = state.config.kiosk.enrolment_code_ttl_secs as i64;
    let (id, code) =
        store::add_kiosk(&state.db, req.name.trim(), req.school_id.trim(), now, ttl).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AddKioskReply {
            kiosk_id: id,
            enrolment_code: code.expose().to_string(),
            expires_at: unix_secs(now + ttl),
        }),
    )
        .into_response())
}

async fn admin_disable_kiosk(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    admin(&state, &headers)?;
    let found = store::find_kiosk(&state.db, &id).await?;
    let [kiosk] = found.as_slice() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownKiosk,
            "no such kiosk (or the name is not unique; use the id)",
        ));
    };
    let ended = store::disable_kiosk(&state.db, &kiosk.id, state.now()).await?;
    Ok(axum::Json(DisableKioskReply {
        kiosk_id: kiosk.id.clone(),
        sessions_ended: ended,
    })
    .into_response())
}
