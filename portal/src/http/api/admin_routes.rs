//! The admin API (`portal/API.md`, "Admin API"): revoke a user's cards, lift PIN lockouts,
//! read the audit log, add and disable kiosks. Every route here first checks the admin token
//! ([`admin`]); kept apart from the kiosk's routes, which are authenticated differently.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quickcard_api::{
    AddKioskReply, AddKioskRequest, DisableKioskReply, RevokeReply, RevokeRequest, UnlockReply,
};
use serde::Deserialize;
use serde_json::json;

use super::auth::admin;
use super::{Body, normalise_user, parse, unix_secs};
use crate::AppState;
use crate::db::store::{self, AuditKind, AuditResult};
use crate::error::{ApiError, ErrorCode};

/// The admin routes (merged into [`super::app`]).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/users/{id}/revoke", post(admin_revoke))
        .route("/v1/admin/users/{id}/unlock", post(admin_unlock))
        .route("/v1/admin/audit", get(admin_audit))
        .route("/v1/admin/kiosks", post(admin_add_kiosk))
        .route("/v1/admin/kiosks/{id}/disable", post(admin_disable_kiosk))
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
    let lifted = crate::domain::pin_attempts::unlock(&state.db, &user_id).await?;
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
