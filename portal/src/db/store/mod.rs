//! Every query the portal makes, in one place, written in the SQL that SQLite and PostgreSQL
//! both accept. Handlers and commands call these; nothing else touches SQL.
//!
//! One file per table (or per group of tables one flow writes together), each with the row
//! type it reads (mapped through sqlx's [`FromRow`](sqlx::FromRow)) and the queries on it:
//!
//! - [`kiosks`]: kiosks, their enrolment and credentials;
//! - [`holders`]: what an exchange reads about a card holder (users with their revocation,
//!   lockout and PIN), also for many exchanges in one query;
//! - [`pins`]: PINs and the wrong-PIN lockouts;
//! - [`sessions`] and [`launches`]: kiosk sessions and their one-time app launch tokens;
//! - [`revocations`]: revoked cards, and the lists kiosks and the sign-in page check offline;
//! - [`audit`](mod@audit): the audit log, written inside the transaction each entry describes;
//! - [`roster`]: the roster import and the user facts other modules look up;
//! - [`pending_sign_in`](mod@pending_sign_in): Chromebook sign-ins waiting for their card.
//!
//! Everything is re-exported here, so callers write `store::revoke`, not the table's module.

pub mod audit;
pub mod holders;
pub mod kiosks;
pub mod launches;
pub mod pending_sign_in;
pub mod pins;
pub mod revocations;
pub mod roster;
pub mod sessions;

pub use audit::*;
pub use holders::*;
pub use kiosks::*;
pub use launches::*;
pub use pending_sign_in::*;
pub use pins::*;
pub use revocations::*;
pub use roster::*;
pub use sessions::*;

use sqlx::{AnyConnection, Row};

use crate::db::Db;

type Result<T> = std::result::Result<T, sqlx::Error>;

/// Whether `user_id` was ever imported (`on_roster_only`: and is on the roster now, not
/// removed). Erased people are gone from `users` and are never found.
pub async fn user_exists(
    conn: &mut AnyConnection,
    user_id: &str,
    on_roster_only: bool,
) -> Result<bool> {
    let sql = if on_roster_only {
        "SELECT COUNT(*) AS n FROM users WHERE id = $1 AND removed_at IS NULL"
    } else {
        "SELECT COUNT(*) AS n FROM users WHERE id = $1"
    };
    Ok(sqlx::query(sql)
        .bind(user_id.to_string())
        .fetch_one(conn)
        .await?
        .try_get::<i64, _>("n")?
        > 0)
}

/// Forgets rate-limit windows that have ended.
pub async fn prune_rate_buckets(db: &Db, before: i64) -> Result<u64> {
    let _turn = db.write_turn().await;
    Ok(
        sqlx::query("DELETE FROM rate_buckets WHERE window_start < $1")
            .bind(before)
            .execute(&db.pool)
            .await?
            .rows_affected(),
    )
}
