//! The roster: the import that replaces it in one transaction (users are never deleted, so
//! their PINs, lockouts and revocations survive a spell off the roster), and the user facts
//! other modules look up.

use quickcard::Role;
use sqlx::Row;

use super::{AuditEntry, AuditKind, AuditResult, Ended, Result, audit, end_live_sessions};
use crate::db::Db;

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
    let erased: HashSet<String> = crate::domain::person::erased_ids(&mut tx).await?;
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
        let ended = end_live_sessions(&mut tx, Ended::RemovedFromRoster(gone), now).await?;
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
        &AuditEntry::new(now, AuditKind::RosterImport, AuditResult::Ok).detail(format!(
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

/// Every school id on the roster.
pub async fn school_ids(db: &Db) -> Result<Vec<String>> {
    sqlx::query("SELECT id FROM schools ORDER BY id")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect()
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
