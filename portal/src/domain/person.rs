//! A person's data on request: everything the portal holds about one person (a parent's
//! records request), and erasure.
//!
//! Export lists, table by table, every row that names the person — never a secret: not the
//! PIN's hash (only whether a PIN is set), not session or launch token hashes, not the raw
//! sign-in request. Erasure deletes all of it and keeps only what stops an old card from
//! working: the user id (what the card carries), a revocation of every card printed before the
//! erasure, and the time of the erasure (`erasures`). Such a card is refused as
//! `user_erased`, and a roster import that holds the person again reports them instead of
//! restoring them. Both are audited with the user id and counts, never the data.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sqlx::{Column, Row};

use crate::AppState;
use crate::db::Db;
use crate::db::store::{self, AuditEntry, AuditKind, AuditResult};
use crate::error::{ApiError, ErrorCode};

type Result<T> = std::result::Result<T, sqlx::Error>;

/// One table of the export: the columns shown (never secrets) and the condition naming the
/// person (`$1`). Constants, never input.
struct Part {
    table: &'static str,
    columns: &'static str,
    matches: &'static str,
}

/// Every table that names a person. A table added to the schema with a user column must be
/// added here (and to `ERASE`): `tests/person.rs` finds such tables from the schema.
const PARTS: &[Part] = &[
    Part {
        table: "users",
        columns: "id, role, given_name, family_name, display_name, email, username, grades, \
                  updated_at, removed_at",
        matches: "id = $1",
    },
    Part {
        table: "user_schools",
        columns: "school_id",
        matches: "user_id = $1",
    },
    Part {
        table: "enrollments",
        columns: "class_id, role",
        matches: "user_id = $1",
    },
    Part {
        table: "guardians",
        columns: "parent_id, child_id",
        matches: "(parent_id = $1 OR child_id = $1)",
    },
    // Whether a PIN is set, and when; the hash is a secret.
    Part {
        table: "pins",
        columns: "set_at",
        matches: "user_id = $1",
    },
    Part {
        table: "revocations",
        columns: "issued_before, revoked_at, reason",
        matches: "user_id = $1",
    },
    Part {
        table: "lockouts",
        columns: "failures, first_failure_at, locked_until",
        matches: "user_id = $1",
    },
    Part {
        table: "pin_attempts",
        columns: "source, attempts, window_start, locked_until, level",
        matches: "user_id = $1",
    },
    // The ChromeOS password itself is never stored (it is derived when handed out).
    Part {
        table: "chromeos_password_generations",
        columns: "generation, changed_at",
        matches: "user_id = $1",
    },
    Part {
        table: "sessions",
        columns: "kiosk_id, card_id, second_factor, created_at, expires_at, ended_at, end_reason",
        matches: "user_id = $1",
    },
    Part {
        table: "launches",
        columns: "kiosk_id, app_id, created_at, expires_at, used_at",
        matches: "user_id = $1",
    },
    Part {
        table: "saml_pending",
        columns: "issuer, acs_url, created_at, expires_at, answered_at, device_id",
        matches: "user_id = $1",
    },
    Part {
        table: "audit",
        columns: "id, at, kind, result, kiosk_id, card_id, flagged, detail",
        matches: "user_id = $1",
    },
    Part {
        table: "erasures",
        columns: "erased_at",
        matches: "user_id = $1",
    },
];

/// The tables the export covers (for tests and the privacy inventory).
pub fn exported_tables() -> Vec<&'static str> {
    PARTS.iter().map(|p| p.table).collect()
}

fn value(row: &sqlx::any::AnyRow, i: usize) -> Value {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        json!(v)
    } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        json!(v)
    } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        json!(v)
    } else {
        Value::Null
    }
}

/// Everything the portal holds about `user_id`, as `{"user_id", "tables": {table: [rows]}}`
/// with an entry (perhaps empty) for every table that can name a person. `None` when the
/// portal holds nothing at all about them.
pub async fn export(db: &Db, user_id: &str) -> Result<Option<Value>> {
    let mut tables = Map::new();
    let mut any = false;
    for part in PARTS {
        let sql = format!(
            "SELECT {} FROM {} WHERE {}",
            part.columns, part.table, part.matches
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id.to_string())
            .fetch_all(&db.pool)
            .await?;
        any |= !rows.is_empty();
        let list: Vec<Value> = rows
            .iter()
            .map(|row| {
                let mut obj = Map::new();
                for (i, c) in row.columns().iter().enumerate() {
                    obj.insert(c.name().to_string(), value(row, i));
                }
                if part.table == "pins" {
                    obj.insert("pin_set".into(), Value::Bool(true));
                }
                Value::Object(obj)
            })
            .collect();
        tables.insert(part.table.to_string(), Value::Array(list));
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(json!({ "user_id": user_id, "tables": tables })))
}

/// [`export`], audited (the audit row holds the user id, not the data).
pub async fn export_audited(db: &Db, user_id: &str, now: i64, by: &str) -> Result<Option<Value>> {
    let data = export(db, user_id).await?;
    if data.is_some() {
        store::audit_now(
            db,
            &AuditEntry::new(now, AuditKind::PersonExport, AuditResult::Ok)
                .user(user_id)
                .detail(format!("exported by {by}")),
        )
        .await?;
    }
    Ok(data)
}

/// Statements that erase a person, in order (children before `users`). Revocations are kept;
/// `erase` rewrites them.
const ERASE: &[&str] = &[
    "DELETE FROM launches WHERE user_id = $1",
    "DELETE FROM sessions WHERE user_id = $1",
    "DELETE FROM saml_pending WHERE user_id = $1",
    "DELETE FROM pin_attempts WHERE user_id = $1",
    "DELETE FROM lockouts WHERE user_id = $1",
    "DELETE FROM pins WHERE user_id = $1",
    "DELETE FROM chromeos_password_generations WHERE user_id = $1",
    "DELETE FROM guardians WHERE parent_id = $1 OR child_id = $1",
    "DELETE FROM enrollments WHERE user_id = $1",
    "DELETE FROM user_schools WHERE user_id = $1",
    "DELETE FROM audit WHERE user_id = $1",
    "DELETE FROM users WHERE id = $1",
];

/// What [`erase`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    pub user_id: String,
    pub erased_at: i64,
    /// Rows deleted, all tables together.
    pub rows_deleted: u64,
    /// Whether the person had been erased before (nothing more to do).
    pub already: bool,
}

/// Erases `user_id`: deletes every row naming them except what keeps an old card refused.
/// `None` when the portal holds no such user.
pub async fn erase(db: &Db, user_id: &str, now: i64, by: &str) -> Result<Option<Erased>> {
    let mut tx = db.begin_write().await?;
    let before: Option<i64> = sqlx::query("SELECT erased_at FROM erasures WHERE user_id = $1")
        .bind(user_id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("erased_at"))
        .transpose()?;
    if let Some(at) = before {
        tx.rollback().await?;
        return Ok(Some(Erased {
            user_id: user_id.to_string(),
            erased_at: at,
            rows_deleted: 0,
            already: true,
        }));
    }
    if !crate::db::store::user_exists(&mut tx, user_id, false).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    let mut deleted = 0;
    for sql in ERASE {
        deleted += sqlx::query(*sql)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    // Every card printed before now stays refused even if the erasure row were lost; the
    // old reason is free text an admin typed and may name the person.
    sqlx::query(
        "INSERT INTO revocations (user_id, issued_before, revoked_at, reason) \
         VALUES ($1, $2, $2, 'erased') ON CONFLICT (user_id) DO UPDATE SET \
         issued_before = excluded.issued_before, revoked_at = excluded.revoked_at, \
         reason = excluded.reason",
    )
    .bind(user_id.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO erasures (user_id, erased_at) VALUES ($1, $2)")
        .bind(user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    store::audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::PersonErase, AuditResult::Ok)
            .user(user_id)
            .detail(format!("erased by {by}: {deleted} rows deleted")),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Erased {
        user_id: user_id.to_string(),
        erased_at: now,
        rows_deleted: deleted,
        already: false,
    }))
}

/// The ids of every erased person (read by the roster import, in its transaction).
pub async fn erased_ids(
    conn: &mut sqlx::AnyConnection,
) -> Result<std::collections::HashSet<String>> {
    sqlx::query("SELECT user_id FROM erasures")
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| r.try_get("user_id"))
        .collect()
}

/// Whether `user_id` was erased (read only when a card's holder is not on the roster).
pub async fn is_erased(db: &Db, user_id: &str) -> Result<bool> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM erasures WHERE user_id = $1")
            .bind(user_id.to_string())
            .fetch_one(&db.pool)
            .await?
            .try_get::<i64, _>("n")?
            > 0,
    )
}

/// The refusal of an erased person's card.
pub fn erased_error() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::UserErased,
        "this person's data was erased at the district's request, and their cards no longer \
         work; if they are back at school, an admin must add them under a new id and print a \
         new card",
    )
}

/// `quickcard-portal person …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print everything the portal holds about a person as JSON (for a records request).
    Export {
        #[arg(long)]
        user: String,
    },
    /// Erase a person's data; only their id, a revocation of their cards and the time of the
    /// erasure stay, so an old card is refused (`user_erased`) and a later roster import
    /// reports them instead of restoring them.
    Erase {
        #[arg(long)]
        user: String,
    },
}

fn cli_user(id: &str) -> anyhow::Result<String> {
    crate::http::api::normalise_user(id).map_err(|e| anyhow::anyhow!("--user: {}", e.message()))
}

/// Runs a `person` command.
pub async fn command(db: &Db, cmd: &Command, now: i64) -> anyhow::Result<()> {
    let missing = |id: &str| {
        anyhow::anyhow!(
            "the portal holds nothing about user {id:?}; check the id (`quickcard-portal audit \
             --user ID` lists what happened under an id)"
        )
    };
    match cmd {
        Command::Export { user } => {
            let id = cli_user(user)?;
            let data = export_audited(db, &id, now, "command line")
                .await?
                .ok_or_else(|| missing(&id))?;
            crate::cli::outln!("{}", serde_json::to_string_pretty(&data)?)?;
        }
        Command::Erase { user } => {
            let id = cli_user(user)?;
            let e = erase(db, &id, now, "command line")
                .await?
                .ok_or_else(|| missing(&id))?;
            if e.already {
                crate::cli::outln!(
                    "user {id} was already erased at {}",
                    quickcard::time::format_utc(e.erased_at as u64)
                )?;
            } else {
                tracing::info!(user = %id, "person erased");
                crate::cli::outln!(
                    "user {id} erased: {} rows deleted; their cards are refused (user_erased)",
                    e.rows_deleted
                )?;
            }
        }
    }
    Ok(())
}

/// The admin routes (`GET /v1/admin/users/{id}/export`, `POST /v1/admin/users/{id}/erase`).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/v1/admin/users/{id}/export", get(admin_export))
        .route("/v1/admin/users/{id}/erase", post(admin_erase))
}

fn no_such_user() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::UnknownUser,
        "the portal holds nothing about this user id",
    )
}

async fn admin_export(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> std::result::Result<Response, ApiError> {
    crate::http::api::admin(&state, &headers)?;
    let user_id = crate::http::api::normalise_user(&user_id)?;
    let data = export_audited(&state.db, &user_id, state.now(), "admin API")
        .await?
        .ok_or_else(no_such_user)?;
    Ok(axum::Json(data).into_response())
}

async fn admin_erase(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> std::result::Result<Response, ApiError> {
    crate::http::api::admin(&state, &headers)?;
    let user_id = crate::http::api::normalise_user(&user_id)?;
    let erased = erase(&state.db, &user_id, state.now(), "admin API")
        .await?
        .ok_or_else(no_such_user)?;
    tracing::info!(user = %user_id, "person erased");
    Ok(axum::Json(erased).into_response())
}
