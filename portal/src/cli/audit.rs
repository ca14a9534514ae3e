//! `audit`: prints the audit log, as text or one JSON object per line. Its own module because
//! it is the one command that only reads, and its output format is what other tools parse.

use std::io::Write;

use anyhow::Result;

use crate::db::store;

use super::{Cli, load_config, open_db, user_id};

/// `audit [--user ID] [--since DATE] [--limit N] [--json]`.
pub(super) async fn audit(
    cli: &Cli,
    user: Option<&str>,
    since: Option<&str>,
    limit: i64,
    json: bool,
) -> Result<()> {
    let config = load_config(cli)?;
    let db = open_db(&config).await?;
    let user = user.map(user_id).transpose()?;
    let since = match since {
        Some(s) => quickcard::time::parse(s)? as i64,
        None => 0,
    };
    let rows = store::audit_rows(&db, user.as_deref(), since, limit).await?;
    let mut out = std::io::stdout().lock();
    for r in rows {
        if json {
            writeln!(out, "{}", serde_json::to_string(&r)?)?;
        } else {
            writeln!(
                out,
                "{} {:<14} {:<22} user={} kiosk={} card={}{} {}",
                quickcard::time::format_utc(r.at.max(0) as u64),
                r.kind,
                r.result,
                r.user_id.as_deref().unwrap_or("-"),
                r.kiosk_id.as_deref().unwrap_or("-"),
                r.card_id.as_deref().unwrap_or("-"),
                if r.flagged { " FLAGGED" } else { "" },
                r.detail
            )?;
        }
    }
    Ok(())
}
