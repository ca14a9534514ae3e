//! What an exchange reads about a card holder: the user with their revocation, lockout and
//! PIN, at the kiosk's school; for one exchange, or for many in one query.

use quickcard::Role;
use sqlx::Row;

use super::{Kiosk, Result};
use crate::db::{Db, DbKind};

/// What the exchange needs to know about a card holder, in one query.
// Debug: crate::domain::redact (no secrets in logs).
#[derive(Clone)]
pub struct Holder {
    pub id: String,
    pub role: Role,
    pub given_name: String,
    pub display_name: String,
    pub grades: Vec<String>,
    /// On that school's roster: linked to it and not removed.
    pub in_school: bool,
    pub revoked_before: Option<i64>,
    pub locked_until: Option<i64>,
    pub pin_hash: Option<String>,
}

/// The columns of [`Holder`] for `u` (users), `r`, `l`, `p` and a school given as `{school}`.
/// A removed user is still found (so the refusal can say they left the roster), never in school.
macro_rules! holder_columns {
    ($school:literal) => {
        concat!(
            "u.id AS user_id, u.role, u.given_name, u.display_name, u.grades, ",
            "(SELECT COUNT(*) FROM user_schools s WHERE s.user_id = u.id AND s.school_id = ",
            $school,
            " AND u.removed_at IS NULL) AS in_school, r.issued_before, l.locked_until, ",
            "p.hash AS pin_hash "
        )
    };
}

macro_rules! holder_joins {
    () => {
        concat!(
            "LEFT JOIN revocations r ON r.user_id = u.id ",
            "LEFT JOIN lockouts l ON l.user_id = u.id ",
            "LEFT JOIN pins p ON p.user_id = u.id "
        )
    };
}

fn holder_from(row: &sqlx::any::AnyRow) -> Result<Option<Holder>> {
    let Some(id) = row.try_get::<Option<String>, _>("user_id")? else {
        return Ok(None);
    };
    let role: String = row.try_get("role")?;
    let grades: String = row.try_get("grades")?;
    Ok(Some(Holder {
        id,
        role: role.parse().unwrap_or(Role::Student),
        given_name: row.try_get("given_name")?,
        display_name: row.try_get("display_name")?,
        grades: split_list(&grades),
        in_school: row.try_get::<i64, _>("in_school")? > 0,
        revoked_before: row.try_get("issued_before")?,
        locked_until: row.try_get("locked_until")?,
        pin_hash: row.try_get("pin_hash")?,
    }))
}

/// The card holder `user_id` as the exchange checks them at `school_id`: role, names, grades,
/// whether on that school's roster, revocation, lockout, PIN hash.
pub async fn holder(db: &Db, user_id: &str, school_id: &str) -> Result<Option<Holder>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        holder_columns!("$2"),
        "FROM users u ",
        holder_joins!(),
        "WHERE u.id = $1"
    ))
    .bind(user_id.to_string())
    .bind(school_id.to_string())
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some(row) => holder_from(&row),
        None => Ok(None),
    }
}

/// What one exchange reads: the kiosk holding `credential_hash` and the holder `user_id`
/// (the card's claimed subject, when the card decoded) at that kiosk's school.
// Debug: crate::domain::redact (no secrets in logs).
#[derive(Clone, Copy)]
pub struct ExchangeRead<'a> {
    pub credential_hash: &'a str,
    pub user_id: Option<&'a str>,
}

/// For each read, in order: the kiosk holding the credential hash (as [`super::kiosk_by_credential`],
/// `None` for no such kiosk) and the holder the read names at that kiosk's school (as
/// [`holder`]), all in one query ([`crate::db::exchange_reads`] groups concurrent exchanges' reads).
pub async fn kiosks_and_holders(
    db: &Db,
    reads: &[ExchangeRead<'_>],
) -> Result<Vec<Option<(Kiosk, Option<Holder>)>>> {
    let input: Vec<serde_json::Value> = reads
        .iter()
        .map(|r| serde_json::json!({"c": r.credential_hash, "u": r.user_id}))
        .collect();
    let sql = match db.kind {
        DbKind::Sqlite => KIOSKS_AND_HOLDERS_SQLITE,
        DbKind::Postgres => KIOSKS_AND_HOLDERS_POSTGRES,
    };
    let rows = sqlx::query(sql)
        .bind(serde_json::Value::Array(input).to_string())
        .fetch_all(&db.pool)
        .await?;
    let mut out: Vec<Option<(Kiosk, Option<Holder>)>> = vec![None; reads.len()];
    for row in rows {
        let i: i64 = row.try_get("i")?;
        let Some(read) = usize::try_from(i).ok().and_then(|i| reads.get(i)) else {
            continue;
        };
        let kiosk = <Kiosk as sqlx::FromRow<_>>::from_row(&row)?;
        if !kiosk.holds(read.credential_hash) {
            continue;
        }
        let holder = match read.user_id {
            Some(_) => holder_from(&row)?,
            None => None,
        };
        out[i as usize] = Some((kiosk, holder));
    }
    Ok(out)
}

const KIOSKS_AND_HOLDERS_SQLITE: &str = concat!(
    "SELECT i, k.id, k.name, k.school_id, k.credential_hash, k.enrolled_at, ",
    "k.disabled_at, k.last_seen_at, k.created_at, ",
    holder_columns!("k.school_id"),
    "FROM (SELECT key AS i, json_extract(value, '$.c') AS c, json_extract(value, '$.u') AS u ",
    "FROM json_each($1)) AS input JOIN kiosks k ON k.credential_hash = input.c ",
    "LEFT JOIN users u ON u.id = input.u ",
    holder_joins!()
);

/// PostgreSQL cannot estimate how many rows the JSON holds and would join it to whole tables by
/// hashing them; `LATERAL … LIMIT 1` keeps each lookup an index lookup per read.
const KIOSKS_AND_HOLDERS_POSTGRES: &str = concat!(
    "SELECT input.i, k.id, k.name, k.school_id, k.credential_hash, k.enrolled_at, ",
    "k.disabled_at, k.last_seen_at, k.created_at, h.* ",
    "FROM (SELECT n - 1 AS i, v->>'c' AS c, v->>'u' AS u ",
    "FROM json_array_elements($1::json) WITH ORDINALITY AS e(v, n)) AS input ",
    "JOIN LATERAL (SELECT * FROM kiosks WHERE credential_hash = input.c LIMIT 1) k ON true ",
    "LEFT JOIN LATERAL (SELECT ",
    holder_columns!("k.school_id"),
    "FROM users u ",
    holder_joins!(),
    "WHERE u.id = input.u LIMIT 1) h ON true"
);

pub(super) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}
