//! Every query the portal makes, in one place, written in the SQL that SQLite and PostgreSQL
//! both accept. Handlers and commands call these; nothing else touches SQL.

use quickcard::Role;
use sqlx::{AnyConnection, Row};

use crate::db::{Db, DbKind};
use crate::secrets::{self, Secret};

type Result<T> = std::result::Result<T, sqlx::Error>;

/// A kiosk row.
// Debug: crate::redact (no secrets in logs).
#[derive(Clone)]
pub struct Kiosk {
    pub id: String,
    pub name: String,
    pub school_id: String,
    pub credential_hash: Option<String>,
    pub enrolled_at: Option<i64>,
    pub disabled_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub created_at: i64,
}

impl Kiosk {
    /// Whether this kiosk's credential hash is `credential_hash` (compared in constant time;
    /// the lookup by hash found the row, this makes sure of it).
    fn holds(&self, credential_hash: &str) -> bool {
        self.credential_hash
            .as_deref()
            .is_some_and(|h| secrets::ct_eq(h, credential_hash))
    }
}

fn kiosk_from(row: &sqlx::any::AnyRow) -> Result<Kiosk> {
    Ok(Kiosk {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        school_id: row.try_get("school_id")?,
        credential_hash: row.try_get("credential_hash")?,
        enrolled_at: row.try_get("enrolled_at")?,
        disabled_at: row.try_get("disabled_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The kiosk holding this credential hash, if any (the hash is re-compared in constant time).
pub async fn kiosk_by_credential(db: &Db, credential_hash: &str) -> Result<Option<Kiosk>> {
    let row = sqlx::query(
        "SELECT id, name, school_id, credential_hash, enrolled_at, disabled_at, last_seen_at, created_at \
         FROM kiosks WHERE credential_hash = $1",
    )
    .bind(credential_hash.to_string())
    .fetch_optional(&db.pool)
    .await?;
    let kiosk = row.as_ref().map(kiosk_from).transpose()?;
    Ok(kiosk.filter(|k| k.holds(credential_hash)))
}

pub async fn touch_kiosk(db: &Db, id: &str, now: i64) -> Result<()> {
    let _turn = db.write_turn().await;
    sqlx::query("UPDATE kiosks SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn list_kiosks(db: &Db) -> Result<Vec<Kiosk>> {
    let rows = sqlx::query(
        "SELECT id, name, school_id, credential_hash, enrolled_at, disabled_at, last_seen_at, created_at \
         FROM kiosks ORDER BY school_id, name",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(kiosk_from).collect()
}

/// Adds a kiosk and returns it with its one-time enrolment code.
pub async fn add_kiosk(
    db: &Db,
    name: &str,
    school_id: &str,
    now: i64,
    code_ttl: i64,
) -> Result<(String, Secret)> {
    let id = format!("kio-{}", &Secret::token("").hash()[..12]);
    let code = Secret::enrolment_code();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO kiosks (id, name, school_id, enrol_code_hash, enrol_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.clone())
    .bind(name.to_string())
    .bind(school_id.to_string())
    .bind(code.hash())
    .bind(now + code_ttl)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, "kiosk_add", "ok")
            .kiosk(&id)
            .detail(format!("name {name:?}, school {school_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok((id, code))
}

/// Trades an enrolment code (its hash) for a new credential, once. `None` if the code is
/// unknown, used, expired, or its kiosk disabled.
pub async fn enrol_kiosk(db: &Db, code_hash: &str, now: i64) -> Result<Option<(Kiosk, Secret)>> {
    let credential = Secret::token("qck_");
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "UPDATE kiosks SET credential_hash = $1, enrolled_at = $2, last_seen_at = $2, \
         enrol_code_hash = NULL, enrol_expires_at = NULL \
         WHERE enrol_code_hash = $3 AND enrol_expires_at > $2 AND disabled_at IS NULL \
         RETURNING id, name, school_id, credential_hash, enrolled_at, disabled_at, last_seen_at, created_at",
    )
    .bind(credential.hash())
    .bind(now)
    .bind(code_hash.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let kiosk = kiosk_from(&row)?;
    audit(
        &mut tx,
        &AuditEntry::new(now, "kiosk_enrol", "ok").kiosk(&kiosk.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Some((kiosk, credential)))
}

/// Finds a kiosk by id or by name.
pub async fn find_kiosk(db: &Db, id_or_name: &str) -> Result<Vec<Kiosk>> {
    let rows = sqlx::query(
        "SELECT id, name, school_id, credential_hash, enrolled_at, disabled_at, last_seen_at, created_at \
         FROM kiosks WHERE id = $1 OR name = $1",
    )
    .bind(id_or_name.to_string())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(kiosk_from).collect()
}

/// Disables a kiosk and ends its live sessions. Returns how many sessions ended.
pub async fn disable_kiosk(db: &Db, id: &str, now: i64) -> Result<u64> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE kiosks SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let ended = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = 'kiosk_disabled' \
         WHERE kiosk_id = $2 AND ended_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(id.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    audit(
        &mut tx,
        &AuditEntry::new(now, "kiosk_disable", "ok")
            .kiosk(id)
            .detail(format!("{ended} live sessions ended")),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
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

/// What the exchange needs to know about a card holder, in one query.
// Debug: crate::redact (no secrets in logs).
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
// Debug: crate::redact (no secrets in logs).
#[derive(Clone, Copy)]
pub struct ExchangeRead<'a> {
    pub credential_hash: &'a str,
    pub user_id: Option<&'a str>,
}

/// For each read, in order: the kiosk holding the credential hash (as [`kiosk_by_credential`],
/// `None` for no such kiosk) and the holder the read names at that kiosk's school (as
/// [`holder`]), all in one query ([`crate::exchange_reads`] groups concurrent exchanges' reads).
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
        let kiosk = kiosk_from(&row)?;
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

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// Records one wrong PIN. Returns `(failures, locked_until)`: when the failures within
/// `window` reach `max`, the user is locked until `now + duration` and the count restarts.
pub async fn record_pin_failure(
    db: &Db,
    user_id: &str,
    now: i64,
    window: i64,
    max: i64,
    duration: i64,
) -> Result<(i64, Option<i64>)> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "INSERT INTO lockouts (user_id, failures, first_failure_at, locked_until) VALUES ($1, 1, $2, 0) \
         ON CONFLICT (user_id) DO UPDATE SET \
           failures = CASE WHEN lockouts.first_failure_at <= $3 THEN 1 ELSE lockouts.failures + 1 END, \
           first_failure_at = CASE WHEN lockouts.first_failure_at <= $3 THEN $2 ELSE lockouts.first_failure_at END \
         RETURNING failures",
    )
    .bind(user_id.to_string())
    .bind(now)
    .bind(now - window)
    .fetch_one(&mut *tx)
    .await?;
    let failures: i64 = row.try_get("failures")?;
    let mut locked = None;
    if failures >= max {
        let until = now + duration;
        sqlx::query(
            "UPDATE lockouts SET locked_until = $1, failures = 0, first_failure_at = 0 WHERE user_id = $2",
        )
        .bind(until)
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
        locked = Some(until);
    }
    tx.commit().await?;
    Ok((failures, locked))
}

/// Forgets wrong PINs after a successful one.
pub async fn clear_pin_failures(db: &Db, user_id: &str) -> Result<()> {
    let _turn = db.write_turn().await;
    sqlx::query("DELETE FROM lockouts WHERE user_id = $1 AND locked_until = 0")
        .bind(user_id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A new session to store.
// Debug: crate::redact (no secrets in logs).
pub struct NewSession<'a> {
    pub token_hash: String,
    pub user_id: &'a str,
    pub kiosk_id: &'a str,
    pub card_id: &'a str,
    pub second_factor: bool,
    pub now: i64,
    pub expires_at: i64,
}

/// A session with its user, as the session endpoints need it.
// Debug: crate::redact (no secrets in logs).
#[derive(Clone)]
pub struct SessionView {
    pub token_hash: String,
    pub user_id: String,
    pub kiosk_id: String,
    pub card_id: String,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub second_factor: bool,
    pub role: Role,
    pub given_name: String,
    pub display_name: String,
}

/// The session with this token hash. A session of a user removed from the roster is not
/// found: the import ends them, and one started while the import ran must not live on.
pub async fn session(db: &Db, token_hash: &str) -> Result<Option<SessionView>> {
    let row = sqlx::query(
        "SELECT s.token_hash, s.user_id, s.kiosk_id, s.card_id, s.expires_at, s.ended_at, \
           s.second_factor, u.role, u.given_name, u.display_name \
         FROM sessions s JOIN users u ON u.id = s.user_id AND u.removed_at IS NULL \
         WHERE s.token_hash = $1",
    )
    .bind(token_hash.to_string())
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let stored: String = row.try_get("token_hash")?;
    if !secrets::ct_eq(&stored, token_hash) {
        return Ok(None);
    }
    let role: String = row.try_get("role")?;
    Ok(Some(SessionView {
        token_hash: stored,
        user_id: row.try_get("user_id")?,
        kiosk_id: row.try_get("kiosk_id")?,
        card_id: row.try_get("card_id")?,
        expires_at: row.try_get("expires_at")?,
        ended_at: row.try_get("ended_at")?,
        second_factor: row.try_get::<i64, _>("second_factor")? != 0,
        role: role.parse().unwrap_or(Role::Student),
        given_name: row.try_get("given_name")?,
        display_name: row.try_get("display_name")?,
    }))
}

/// Ends a live session (sign-out). Returns false if it had already ended.
pub async fn end_session(db: &Db, s: &SessionView, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = 'sign_out' \
         WHERE token_hash = $2 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(s.token_hash.clone())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n > 0 {
        audit(
            &mut tx,
            &AuditEntry::new(now, "sign_out", "ok")
                .user(&s.user_id)
                .kiosk(&s.kiosk_id)
                .card(&s.card_id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n > 0)
}

/// Stores a one-time launch token for an app and audits it.
pub async fn create_launch(
    db: &Db,
    s: &SessionView,
    app_id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO launches (token_hash, session_hash, user_id, kiosk_id, app_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_hash.to_string())
    .bind(s.token_hash.clone())
    .bind(s.user_id.clone())
    .bind(s.kiosk_id.clone())
    .bind(app_id.to_string())
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, "launch", "ok")
            .user(&s.user_id)
            .kiosk(&s.kiosk_id)
            .detail(format!("app {app_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Redeems a launch token once. Returns the app id when the token was unused, unexpired, and
/// its session is still live.
///
/// Anyone can present a token, so a plain read comes first: only a token that exists, unused
/// and unexpired, takes the writer (SQLite has one); made-up tokens never queue there.
pub async fn redeem_launch(db: &Db, token_hash: &str, now: i64) -> Result<Option<String>> {
    let open = sqlx::query(
        "SELECT COUNT(*) AS n FROM launches WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash.to_string())
    .bind(now)
    .fetch_one(&db.pool)
    .await?
    .try_get::<i64, _>("n")?
        > 0;
    if !open {
        return Ok(None);
    }
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "UPDATE launches SET used_at = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING app_id, session_hash, user_id, kiosk_id",
    )
    .bind(now)
    .bind(token_hash.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let app_id: String = row.try_get("app_id")?;
    let session_hash: String = row.try_get("session_hash")?;
    let user_id: String = row.try_get("user_id")?;
    let kiosk_id: String = row.try_get("kiosk_id")?;
    let live = sqlx::query(
        "SELECT COUNT(*) AS n FROM sessions WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2",
    )
    .bind(session_hash)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .try_get::<i64, _>("n")?
        > 0;
    let result = if live { "ok" } else { "session_expired" };
    audit(
        &mut tx,
        &AuditEntry::new(now, "launch_open", result)
            .user(&user_id)
            .kiosk(&kiosk_id)
            .detail(format!("app {app_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(live.then_some(app_id))
}

/// Revokes every card of `user_id` issued before `now` and ends the user's live sessions.
/// Returns the number of sessions ended, or `None` when the user was never on the roster.
pub async fn revoke(
    db: &Db,
    user_id: &str,
    now: i64,
    reason: &str,
    by: &str,
) -> Result<Option<u64>> {
    let mut tx = db.begin_write().await?;
    // A user removed from the roster may be revoked too: a card lost while they are off the
    // roster must stay refused should they come back.
    let exists = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE id = $1")
        .bind(user_id.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>("n")?
        > 0;
    if !exists {
        tx.rollback().await?;
        return Ok(None);
    }
    sqlx::query(
        "INSERT INTO revocations (user_id, issued_before, revoked_at, reason) VALUES ($1, $2, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET issued_before = excluded.issued_before, \
           revoked_at = excluded.revoked_at, reason = excluded.reason",
    )
    .bind(user_id.to_string())
    .bind(now)
    .bind(reason.to_string())
    .execute(&mut *tx)
    .await?;
    let ended = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = 'revoked' \
         WHERE user_id = $2 AND ended_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(user_id.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Whoever holds the lost card may have the ChromeOS password too: it changes with it.
    crate::chromeos_password::bump(&mut tx, user_id, now).await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, "revocation", "ok")
            .user(user_id)
            .detail(format!(
                "cards issued before {} revoked by {by}: {reason}; {ended} live sessions ended",
                quickcard::time::format_utc(now as u64)
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(ended))
}

/// Revocations that concern users of a school (for the kiosk's offline check).
pub async fn revocations_for_school(db: &Db, school_id: &str) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT r.user_id, r.issued_before FROM revocations r \
         JOIN user_schools s ON s.user_id = r.user_id WHERE s.school_id = $1 ORDER BY r.user_id",
    )
    .bind(school_id.to_string())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("issued_before")?)))
        .collect()
}

/// Sets (or replaces) a user's PIN hash. Returns false when the user is not on the roster
/// (never imported, or removed).
pub async fn set_pin(db: &Db, user_id: &str, hash: &str, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let exists =
        sqlx::query("SELECT COUNT(*) AS n FROM users WHERE id = $1 AND removed_at IS NULL")
            .bind(user_id.to_string())
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>("n")?
            > 0;
    if !exists {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO pins (user_id, hash, set_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
    )
    .bind(user_id.to_string())
    .bind(hash.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // A new PIN also lifts a lockout.
    sqlx::query("DELETE FROM lockouts WHERE user_id = $1")
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    audit(
        &mut tx,
        &AuditEntry::new(now, "pin_set", "ok").user(user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub kind: &'static str,
    pub result: String,
    pub user_id: Option<String>,
    pub kiosk_id: Option<String>,
    pub card_id: Option<String>,
    pub flagged: bool,
    pub detail: String,
}

impl AuditEntry {
    pub fn new(at: i64, kind: &'static str, result: &str) -> AuditEntry {
        AuditEntry {
            at,
            kind,
            result: result.to_string(),
            user_id: None,
            kiosk_id: None,
            card_id: None,
            flagged: false,
            detail: String::new(),
        }
    }
    pub fn user(mut self, id: &str) -> Self {
        self.user_id = Some(id.to_string());
        self
    }
    pub fn kiosk(mut self, id: &str) -> Self {
        self.kiosk_id = Some(id.to_string());
        self
    }
    pub fn card(mut self, id: &str) -> Self {
        self.card_id = Some(id.to_string());
        self
    }
    pub fn flagged(mut self) -> Self {
        self.flagged = true;
        self
    }
    pub fn detail(mut self, d: String) -> Self {
        self.detail = d;
        self
    }
}

/// Writes an audit row on a connection (usually inside the transaction it describes).
pub async fn audit(conn: &mut AnyConnection, e: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, kind, result, user_id, kiosk_id, card_id, flagged, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.at)
    .bind(e.kind.to_string())
    .bind(e.result.clone())
    .bind(e.user_id.clone())
    .bind(e.kiosk_id.clone())
    .bind(e.card_id.clone())
    .bind(i64::from(e.flagged))
    .bind(e.detail.clone())
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes an audit row on its own.
pub async fn audit_now(db: &Db, e: &AuditEntry) -> Result<()> {
    let _turn = db.write_turn().await;
    let mut conn = db.pool.acquire().await?;
    audit(&mut conn, e).await
}

/// A stored audit row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub result: String,
    pub user_id: Option<String>,
    pub kiosk_id: Option<String>,
    pub card_id: Option<String>,
    pub flagged: bool,
    pub detail: String,
}

/// Audit rows since `since` (Unix seconds), optionally of one user, oldest first.
pub async fn audit_rows(
    db: &Db,
    user: Option<&str>,
    since: i64,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let rows = match user {
        Some(u) => sqlx::query(
            "SELECT id, at, kind, result, user_id, kiosk_id, card_id, flagged, detail FROM audit \
                 WHERE user_id = $1 AND at >= $2 ORDER BY id LIMIT $3",
        )
        .bind(u.to_string())
        .bind(since)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?,
        None => sqlx::query(
            "SELECT id, at, kind, result, user_id, kiosk_id, card_id, flagged, detail FROM audit \
                 WHERE at >= $1 ORDER BY id LIMIT $2",
        )
        .bind(since)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?,
    };
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                kind: r.try_get("kind")?,
                result: r.try_get("result")?,
                user_id: r.try_get("user_id")?,
                kiosk_id: r.try_get("kiosk_id")?,
                card_id: r.try_get("card_id")?,
                flagged: r.try_get::<i64, _>("flagged")? != 0,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// Everything the roster import writes, already checked and normalised.
#[derive(Debug, Clone, Default)]
pub struct RosterSnapshot {
    pub schools: Vec<(String, String)>,
    pub users: Vec<RosterUser>,
    /// (id, school id, name)
    pub classes: Vec<(String, String, String)>,
    /// (class id, user id, role)
    pub enrollments: Vec<(String, String, Role)>,
    /// (parent id, child id)
    pub guardians: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct RosterUser {
    pub id: String,
    pub role: Role,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub grades: Vec<String>,
    pub school_ids: Vec<String>,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub schools: u64,
    /// New to the portal.
    pub users_added: u64,
    /// Back on the roster after an import removed them; their revocation, lockout and PIN
    /// were kept and hold again.
    pub users_restored: u64,
    pub users_updated: u64,
    /// On the roster before, missing (or disabled) now.
    pub users_removed: u64,
    pub sessions_ended: u64,
    pub classes: u64,
    pub enrollments: u64,
    pub guardian_links: u64,
    pub skipped: Vec<String>,
    /// On the roster but erased at the district's request (`person erase`): not imported.
    pub erased: Vec<String>,
}

/// Replaces the roster with `snap` in one transaction: users are updated in place; users no
/// longer present are marked removed (never deleted), lose their school links and their live
/// sessions end; users who come back are restored.
pub async fn import_roster(
    db: &Db,
    snap: &RosterSnapshot,
    now: i64,
    source: &str,
) -> Result<ImportReport> {
    use std::collections::HashSet;
    let mut report = ImportReport::default();
    let mut tx = db.begin_write().await?;
    let mut on_roster: HashSet<String> = HashSet::new();
    let mut removed: HashSet<String> = HashSet::new();
    for r in sqlx::query("SELECT id, removed_at FROM users")
        .fetch_all(&mut *tx)
        .await?
    {
        let id: String = r.try_get("id")?;
        if r.try_get::<Option<i64>, _>("removed_at")?.is_some() {
            removed.insert(id);
        } else {
            on_roster.insert(id);
        }
    }
    // An erased person stays erased: the import reports them instead of bringing them back.
    let erased: HashSet<String> = crate::person::erased_ids(&mut tx).await?;
    let incoming: HashSet<&str> = snap
        .users
        .iter()
        .map(|u| u.id.as_str())
        .filter(|id| !erased.contains(*id))
        .collect();

    for (id, name) in &snap.schools {
        sqlx::query(
            "INSERT INTO schools (id, name) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        )
        .bind(id.clone())
        .bind(name.clone())
        .execute(&mut *tx)
        .await?;
        report.schools += 1;
    }
    // Links are replaced wholesale; users are upserted, and never deleted, so their PINs,
    // lockouts and revocations stay, also across a spell off the roster.
    for table in ["guardians", "enrollments", "classes", "user_schools"] {
        let sql: &'static str = match table {
            "guardians" => "DELETE FROM guardians",
            "enrollments" => "DELETE FROM enrollments",
            "classes" => "DELETE FROM classes",
            _ => "DELETE FROM user_schools",
        };
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    for gone in on_roster
        .iter()
        .filter(|id| !incoming.contains(id.as_str()))
    {
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = 'removed_from_roster' \
             WHERE user_id = $2 AND ended_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(gone.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        report.sessions_ended += ended;
        // Deleting the user would take their revocation, lockout and PIN along: a child
        // dropped from one export and re-added in the next would get a lost card back.
        sqlx::query("UPDATE users SET removed_at = $1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(gone.clone())
            .execute(&mut *tx)
            .await?;
        report.users_removed += 1;
    }
    for u in &snap.users {
        if erased.contains(&u.id) {
            report.erased.push(u.id.clone());
            continue;
        }
        sqlx::query(
            "INSERT INTO users (id, role, given_name, family_name, display_name, email, username, grades, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET role = excluded.role, given_name = excluded.given_name, \
               family_name = excluded.family_name, display_name = excluded.display_name, \
               email = excluded.email, username = excluded.username, grades = excluded.grades, \
               updated_at = excluded.updated_at, removed_at = NULL",
        )
        .bind(u.id.clone())
        .bind(u.role.as_str().to_string())
        .bind(u.given_name.clone())
        .bind(u.family_name.clone())
        .bind(u.display_name.clone())
        .bind(u.email.clone())
        .bind(u.username.clone())
        .bind(u.grades.join(","))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if on_roster.contains(&u.id) {
            report.users_updated += 1;
        } else if removed.contains(&u.id) {
            report.users_restored += 1;
        } else {
            report.users_added += 1;
        }
        for school in &u.school_ids {
            sqlx::query(
                "INSERT INTO user_schools (user_id, school_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(u.id.clone())
            .bind(school.clone())
            .execute(&mut *tx)
            .await?;
        }
    }
    let mut class_ids = HashSet::new();
    for (id, school, name) in &snap.classes {
        sqlx::query(
            "INSERT INTO classes (id, school_id, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.clone())
        .bind(school.clone())
        .bind(name.clone())
        .execute(&mut *tx)
        .await?;
        class_ids.insert(id.as_str());
        report.classes += 1;
    }
    for (class, user, role) in &snap.enrollments {
        if !class_ids.contains(class.as_str()) || !incoming.contains(user.as_str()) {
            report.skipped.push(format!(
                "enrolment of {user} in {class}: unknown class or user"
            ));
            continue;
        }
        sqlx::query(
            "INSERT INTO enrollments (class_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(class.clone())
        .bind(user.clone())
        .bind(role.as_str().to_string())
        .execute(&mut *tx)
        .await?;
        report.enrollments += 1;
    }
    for (parent, child) in &snap.guardians {
        if !incoming.contains(parent.as_str()) || !incoming.contains(child.as_str()) {
            report
                .skipped
                .push(format!("parent link {parent} -> {child}: unknown user"));
            continue;
        }
        sqlx::query(
            "INSERT INTO guardians (parent_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(parent.clone())
        .bind(child.clone())
        .execute(&mut *tx)
        .await?;
        report.guardian_links += 1;
    }
    audit(
        &mut tx,
        &AuditEntry::new(now, "roster_import", "ok").detail(format!(
            "{source}: {} added, {} restored, {} updated, {} removed ({} sessions ended), {} erased not imported",
            report.users_added,
            report.users_restored,
            report.users_updated,
            report.users_removed,
            report.sessions_ended,
            report.erased.len()
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// How many live sessions a user has.
pub async fn live_sessions_of(db: &Db, user_id: &str, now: i64) -> Result<i64> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2",
    )
    .bind(user_id.to_string())
    .bind(now)
    .fetch_one(&db.pool)
    .await?
    .try_get("n")
}

/// Every school id on the roster.
pub async fn school_ids(db: &Db) -> Result<Vec<String>> {
    sqlx::query("SELECT id FROM schools ORDER BY id")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect()
}

/// Revocations of users of any of `schools` (of every user when `schools` is empty), for the
/// sign-in page's offline pre-check.
pub async fn revocations_for_schools(db: &Db, schools: &[String]) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT r.user_id, r.issued_before, s.school_id FROM revocations r \
         LEFT JOIN user_schools s ON s.user_id = r.user_id ORDER BY r.user_id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out: Vec<(String, i64)> = Vec::new();
    for r in rows {
        let user: String = r.try_get("user_id")?;
        let before: i64 = r.try_get("issued_before")?;
        let school: Option<String> = r.try_get("school_id")?;
        let wanted = schools.is_empty() || school.is_some_and(|s| schools.contains(&s));
        if wanted && out.last().is_none_or(|(u, _)| *u != user) {
            out.push((user, before));
        }
    }
    Ok(out)
}

/// A user's roster e-mail and login name (what a Google account is mapped from); none for a
/// user removed from the roster.
pub async fn user_identity(db: &Db, user_id: &str) -> Result<(Option<String>, Option<String>)> {
    let row = sqlx::query("SELECT email, username FROM users WHERE id = $1 AND removed_at IS NULL")
        .bind(user_id.to_string())
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(r) => Ok((r.try_get("email")?, r.try_get("username")?)),
        None => Ok((None, None)),
    }
}

/// A Chromebook sign-in waiting for its card (one accepted SAML `AuthnRequest`).
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    pub id_hash: String,
    /// The service provider's entity id (the request's `Issuer`).
    pub issuer: String,
    /// The `AuthnRequest` ID.
    pub request_id: String,
    pub acs_url: String,
    pub relay_state: Option<String>,
    /// The raw `SAMLRequest` value, parsed again when the request is answered.
    pub saml_request: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub answered_at: Option<i64>,
    pub user_id: Option<String>,
    /// The Chromebook that started it, as Chrome Verified Access attested it.
    pub device_id: Option<String>,
}

fn pending_from(r: &sqlx::any::AnyRow) -> Result<PendingSignIn> {
    Ok(PendingSignIn {
        id_hash: r.try_get("id_hash")?,
        issuer: r.try_get("issuer")?,
        request_id: r.try_get("request_id")?,
        acs_url: r.try_get("acs_url")?,
        relay_state: r.try_get("relay_state")?,
        saml_request: r.try_get("saml_request")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        answered_at: r.try_get("answered_at")?,
        user_id: r.try_get("user_id")?,
        device_id: r.try_get("device_id")?,
    })
}

/// Stores a pending sign-in, and forgets pending sign-ins that expired before `now`. Returns
/// false (and stores nothing) when the same `AuthnRequest` (issuer and ID) was already
/// accepted: each request id is answered at most once.
pub async fn insert_pending_sign_in(db: &Db, p: &PendingSignIn, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM saml_pending WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let n = sqlx::query(
        "INSERT INTO saml_pending (id_hash, issuer, request_id, acs_url, relay_state, saml_request, \
           created_at, expires_at, device_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (issuer, request_id) DO NOTHING",
    )
    .bind(p.id_hash.clone())
    .bind(p.issuer.clone())
    .bind(p.request_id.clone())
    .bind(p.acs_url.clone())
    .bind(p.relay_state.clone())
    .bind(p.saml_request.clone())
    .bind(p.created_at)
    .bind(p.expires_at)
    .bind(p.device_id.clone())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n == 1)
}

/// The pending sign-in with this id hash (compared again in constant time).
pub async fn pending_sign_in(db: &Db, id_hash: &str) -> Result<Option<PendingSignIn>> {
    let row = sqlx::query(
        "SELECT id_hash, issuer, request_id, acs_url, relay_state, saml_request, created_at, \
           expires_at, answered_at, user_id, device_id FROM saml_pending WHERE id_hash = $1",
    )
    .bind(id_hash.to_string())
    .fetch_optional(&db.pool)
    .await?;
    let p = row.as_ref().map(pending_from).transpose()?;
    Ok(p.filter(|p| secrets::ct_eq(&p.id_hash, id_hash)))
}

/// Answers a pending sign-in, once: marks it answered by `user_id` (only if it is unanswered
/// and unexpired at `now`), reads the user's ChromeOS password generation, and writes `audit`,
/// in one transaction. `None` when the request was already answered or has expired: then
/// nothing is written.
pub async fn answer_sign_in(
    db: &Db,
    id_hash: &str,
    user_id: &str,
    now: i64,
    entry: &AuditEntry,
) -> Result<Option<i64>> {
    let mut tx = db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE saml_pending SET answered_at = $1, user_id = $2 \
         WHERE id_hash = $3 AND answered_at IS NULL AND expires_at >= $1",
    )
    .bind(now)
    .bind(user_id.to_string())
    .bind(id_hash.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    let generation = crate::chromeos_password::generation(&mut tx, user_id).await?;
    audit(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(Some(generation))
}
