//! `kiosk add|disable|list`: a kiosk's enrolment code, disabling a lost kiosk, and the list of
//! kiosks with when each was last seen. One module per command group, so that a command's
//! implementation is found next to its siblings and not in one long `match`.

use anyhow::{Result, bail};

use crate::clock::Clock;
use crate::db::store;

use super::{Cli, KioskCommand, load_config, open_db, outln};

/// Runs one `kiosk` subcommand.
pub(super) async fn run(cli: &Cli, command: &KioskCommand, clock: &dyn Clock) -> Result<()> {
    match command {
        KioskCommand::Add { name, school } => {
            let config = load_config(cli)?;
            let db = open_db(&config).await?;
            let ttl = config.kiosk.enrolment_code_ttl_secs as i64;
            let now = clock.now() as i64;
            let (id, code) = store::add_kiosk(&db, name, school, now, ttl).await?;
            eprintln!(
                "kiosk {id} ({name}, school {school}) added; enrol it before {} with:\n  quickcard-kiosk enroll --portal {} --code {}",
                quickcard::time::format_utc((now + ttl) as u64),
                config.public_base(),
                code.expose()
            );
            outln!("{}", code.expose())?;
        }
        KioskCommand::Disable { kiosk } => {
            let config = load_config(cli)?;
            let db = open_db(&config).await?;
            let found = store::find_kiosk(&db, kiosk).await?;
            let k = match found.as_slice() {
                [k] => k,
                [] => return Err(crate::PortalError::UnknownKiosk(kiosk.clone()).into()),
                _ => bail!("several kiosks are named {kiosk:?}; give the id"),
            };
            let ended = store::disable_kiosk(&db, &k.id, clock.now() as i64).await?;
            outln!(
                "kiosk {} ({}) disabled; {ended} live sessions ended",
                k.id,
                k.name
            )?;
        }
        KioskCommand::List => {
            let config = load_config(cli)?;
            let db = open_db(&config).await?;
            let t = |v: Option<i64>| {
                v.map(|s| quickcard::time::format_utc(s.max(0) as u64))
                    .unwrap_or_else(|| "-".into())
            };
            outln!(
                "{:<18} {:<16} {:<16} {:<9} last seen",
                "id",
                "name",
                "school",
                "state"
            )?;
            for k in store::list_kiosks(&db).await? {
                let st = if k.disabled_at.is_some() {
                    "disabled"
                } else if k.enrolled_at.is_some() {
                    "enrolled"
                } else {
                    "pending"
                };
                outln!(
                    "{:<18} {:<16} {:<16} {:<9} {}",
                    k.id,
                    k.name,
                    k.school_id,
                    st,
                    t(k.last_seen_at)
                )?;
            }
        }
    }
    Ok(())
}
