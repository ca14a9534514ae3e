//! The roster and the people on it: `import`, `revoke`, `pin set|unlock`, and a person's data
//! (`person export|erase`) and ChromeOS password (`chromeos-password reset`). Grouped because
//! each of them acts on the people of the roster, one user or all of them, and none is needed
//! to run the portal itself.

use std::io::BufRead;
use std::path::Path;

use anyhow::Result;

use crate::clock::Clock;
use crate::db::store;
use crate::domain::roster_import;
use crate::domain::secrets::hash_pin;

use super::{Cli, PinCommand, load_config, open_db, outln, user_id};

/// `import --roster DIR`.
pub(super) async fn import(cli: &Cli, roster: &Path, clock: &dyn Clock) -> Result<()> {
    let config = load_config(cli)?;
    let db = open_db(&config).await?;
    let r = roster_import::import(&db, roster, clock.now() as i64).await?;
    outln!(
        // "restored": back on the roster after an import removed them, with the
        // revocation, lockout and PIN they had.
        "imported {}: {} schools, {} users added, {} restored, {} updated, {} removed ({} sessions ended), {} classes, {} enrolments, {} parent links",
        roster.display(),
        r.schools,
        r.users_added,
        r.users_restored,
        r.users_updated,
        r.users_removed,
        r.sessions_ended,
        r.classes,
        r.enrollments,
        r.guardian_links
    )?;
    for s in &r.skipped {
        outln!("  skipped: {s}")?;
    }
    for id in &r.erased {
        outln!(
            "  not imported: {id} was erased at the district's request (`person erase`); \
             to bring them back, give them a new id in the SIS"
        )?;
    }
    Ok(())
}

/// `revoke --user ID [--reason TEXT]`.
pub(super) async fn revoke(cli: &Cli, user: &str, reason: &str, clock: &dyn Clock) -> Result<()> {
    let config = load_config(cli)?;
    let db = open_db(&config).await?;
    let user = user_id(user)?;
    let now = clock.now() as i64;
    match store::revoke(&db, &user, now, reason, "command line").await? {
        Some(ended) => {
            outln!(
                "cards of {user} issued before {} are revoked; {ended} live sessions ended",
                quickcard::time::format_utc(now as u64)
            )?;
        }
        None => return Err(crate::PortalError::UnknownUser(user).into()),
    }
    Ok(())
}

/// `pin set|unlock --user ID`.
pub(super) async fn pin(cli: &Cli, command: &PinCommand, clock: &dyn Clock) -> Result<()> {
    match command {
        PinCommand::Set { user } => {
            let config = load_config(cli)?;
            let user = user_id(user)?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let pin = line.trim().to_string();
            let db = open_db(&config).await?;
            let Some(holder) = store::holder(&db, &user, "").await? else {
                return Err(crate::PortalError::UnknownUser(user).into());
            };
            let min = config.policy.min_pin_length(holder.role);
            if pin.len() < min || !pin.bytes().all(|b| b.is_ascii_digit()) {
                anyhow::bail!(
                    "a PIN for a {} is {min} or more digits (policy.min_pin_length{}); nothing was changed",
                    holder.role,
                    if holder.role == quickcard::Role::Student {
                        "_students"
                    } else {
                        ""
                    }
                );
            }
            let hash = tokio::task::spawn_blocking(move || hash_pin(&pin)).await??;
            if !store::set_pin(&db, &user, &hash, clock.now() as i64).await? {
                return Err(crate::PortalError::UnknownUser(user).into());
            }
            crate::domain::pin_attempts::unlock(&db, &user).await?;
            outln!("PIN set for {user}")?;
        }
        PinCommand::Unlock { user } => {
            let config = load_config(cli)?;
            let user = user_id(user)?;
            let db = open_db(&config).await?;
            let lifted = crate::domain::pin_attempts::unlock(&db, &user).await?;
            let now = clock.now() as i64;
            store::audit_now(
                &db,
                &store::AuditEntry::new(now, store::AuditKind::PinUnlock, store::AuditResult::Ok)
                    .user(&user)
                    .detail(format!("{lifted} lockouts lifted from the command line")),
            )
            .await?;
            outln!("{lifted} PIN lockouts lifted for {user}")?;
        }
    }
    Ok(())
}

/// `person export|erase`.
pub(super) async fn person(
    cli: &Cli,
    command: &crate::domain::person::Command,
    clock: &dyn Clock,
) -> Result<()> {
    let config = load_config(cli)?;
    let db = open_db(&config).await?;
    crate::domain::person::command(&db, command, clock.now() as i64).await?;
    Ok(())
}

/// `chromeos-password reset --user ID`.
pub(super) async fn chromeos_password_reset(
    cli: &Cli,
    user: &str,
    clock: &dyn Clock,
) -> Result<()> {
    let config = load_config(cli)?;
    let db = open_db(&config).await?;
    crate::domain::chromeos_password::reset_command(&db, &user_id(user)?, clock.now() as i64)
        .await?;
    Ok(())
}
