//! Roster import: reads a roster with the shared `quickcard-roster` parser (the same one the
//! card printer uses) and replaces the portal's copy in one transaction.
//!
//! Users whose roster entry is disabled (`enabledUser = false`) are treated as absent: they
//! are marked removed, cannot sign in, and their live sessions end; their revocation, lockout
//! and PIN are kept for when they are enabled again. Parent–child links come from the
//! roster's agents where present.

use std::path::Path;

use quickcard_roster::Roster;

use crate::db::Db;
use crate::db::store::{self, ImportReport, RosterSnapshot, RosterUser};
use crate::error::PortalError;

/// The portal's view of a parsed roster.
pub fn snapshot(roster: &Roster) -> RosterSnapshot {
    let users: Vec<RosterUser> = roster
        .users()
        .iter()
        .filter(|u| u.enabled)
        .map(|u| RosterUser {
            id: u.id.clone(),
            role: u.role,
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            display_name: u.full_name(),
            email: u.email.clone(),
            username: u.username.clone(),
            grades: u.grades.clone(),
            school_ids: u.school_ids.clone(),
        })
        .collect();
    let mut guardians = Vec::new();
    for u in roster.users().iter().filter(|u| u.enabled) {
        for p in &u.parent_ids {
            guardians.push((p.clone(), u.id.clone()));
        }
        for c in &u.child_ids {
            guardians.push((u.id.clone(), c.clone()));
        }
    }
    guardians.sort();
    guardians.dedup();
    RosterSnapshot {
        schools: roster
            .schools()
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect(),
        users,
        classes: roster
            .classes()
            .iter()
            .map(|c| (c.id.clone(), c.school_id.clone(), c.name.clone()))
            .collect(),
        enrollments: roster
            .enrollments()
            .iter()
            .map(|e| (e.class_id.clone(), e.user_id.clone(), e.role))
            .collect(),
        guardians,
    }
}

/// Reads the roster at `path` (a OneRoster 1.1 CSV folder or a simple CSV file) and imports
/// it. Nothing is written when the roster has any error.
pub async fn import(db: &Db, path: &Path, now: i64) -> Result<ImportReport, PortalError> {
    let owned = path.to_path_buf();
    let roster = tokio::task::spawn_blocking(move || Roster::load(&owned))
        .await
        .map_err(|e| PortalError::Invalid(format!("roster reader stopped: {e}")))??;
    let snap = snapshot(&roster);
    Ok(store::import_roster(db, &snap, now, &path.display().to_string()).await?)
}
