//! Retention: the portal deletes what it no longer needs, by itself.
//!
//! A background task (started by [`crate::serve`]) sweeps at start-up and then every hour. It
//! deletes old rows a small batch at a time — one short statement per batch, in this process's
//! SQLite write turn, with a pause between batches — so exchanges waiting to write are never
//! held up behind one long delete. Time comes from the state's clock, so tests move it.
//!
//! What is deleted (periods from `[retention]`, counted back from now):
//! - `audit` rows older than `audit_days` (default one school year plus 60 days);
//! - `sessions` ended (or, never ended, expired) longer than `sessions_days` ago;
//! - `launches` (one-time launch codes) expired longer than `launch_codes_days` ago;
//! - `rate_buckets` windows, and `pin_attempts` counters whose window and lock both ended,
//!   older than `rate_limit_days` (a lock that lasts until a person lifts it is kept);
//! - `saml_pending` sign-in requests expired longer than `pending_signins_days` ago.
//!
//! Revocations, lockouts' user-wide caps, PINs and the roster are not retention's business:
//! they are what keeps an old card from working, or the roster itself.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::db::Db;

type Result<T> = std::result::Result<T, sqlx::Error>;

const DAY: i64 = 86_400;

/// `[retention]`: how long each kind of row is kept, in days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Audit rows. The default covers a school year plus 60 days, so last year's questions
    /// can still be answered at the start of the next.
    pub audit_days: u64,
    /// Sessions, counted from when they ended (or expired).
    pub sessions_days: u64,
    /// One-time launch codes, counted from their expiry.
    pub launch_codes_days: u64,
    /// Rate-limit windows and per-source PIN attempt counters.
    pub rate_limit_days: u64,
    /// Chromebook sign-in requests (`saml_pending`), counted from their expiry.
    pub pending_signins_days: u64,
    /// Rows deleted per statement.
    pub batch_rows: u32,
    /// Pause between two batches, in milliseconds.
    pub batch_pause_ms: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            audit_days: 425,
            sessions_days: 30,
            launch_codes_days: 30,
            rate_limit_days: 30,
            pending_signins_days: 30,
            batch_rows: 500,
            batch_pause_ms: 20,
        }
    }
}

impl RetentionConfig {
    /// Checks the values (called from `Config::validate`).
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.batch_rows == 0 {
            return Err("retention.batch_rows must be at least 1".into());
        }
        for (name, days) in self.periods() {
            if days == 0 {
                return Err(format!(
                    "retention.{name} must be at least 1 (a row is needed while it is in use)"
                ));
            }
        }
        Ok(())
    }

    /// Every period by its config key, for `--check-config`.
    pub fn periods(&self) -> [(&'static str, u64); 5] {
        [
            ("audit_days", self.audit_days),
            ("sessions_days", self.sessions_days),
            ("launch_codes_days", self.launch_codes_days),
            ("rate_limit_days", self.rate_limit_days),
            ("pending_signins_days", self.pending_signins_days),
        ]
    }
}

/// Rows deleted by one sweep, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub counts: Vec<(&'static str, u64)>,
}

impl Swept {
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    pub fn get(&self, table: &str) -> u64 {
        self.counts
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, n)| n)
            .sum()
    }
}

/// One table's rule: the key that names a row, and the condition (with `$1` the cutoff) that
/// makes it old. Table and column names are constants, never input.
struct Rule {
    table: &'static str,
    key: &'static str,
    old: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        table: "audit",
        key: "id",
        old: "at < $1",
    },
    // Over (ended, or expired) before the cutoff. A session ends before it expires, and
    // expires one lifetime after it began, so every such row also expired before the cutoff
    // plus a lifetime: that bound (added in `sweep`) lets the expiry index find them.
    Rule {
        table: "sessions",
        key: "token_hash",
        old: "expires_at < $1 + {lifetime} AND (ended_at < $1 OR expires_at < $1)",
    },
    Rule {
        table: "launches",
        key: "token_hash",
        old: "expires_at < $1",
    },
    Rule {
        table: "rate_buckets",
        key: "bucket",
        old: "window_start < $1",
    },
    Rule {
        table: "pin_attempts",
        key: "user_id, source",
        old: "window_start < $1 AND locked_until < $1",
    },
    Rule {
        table: "saml_pending",
        key: "id_hash",
        old: "expires_at < $1",
    },
];

fn days(config: &RetentionConfig, table: &str) -> u64 {
    match table {
        "audit" => config.audit_days,
        "sessions" => config.sessions_days,
        "launches" => config.launch_codes_days,
        "rate_buckets" | "pin_attempts" => config.rate_limit_days,
        _ => config.pending_signins_days,
    }
}

/// Deletes every row older than its period as of `now`, batch by batch. `session_lifetime_secs`
/// is `session.lifetime_secs` (a session signed out early is found by its expiry; one made
/// when the lifetime was longer goes late, never early).
pub async fn sweep(
    db: &Db,
    config: &RetentionConfig,
    session_lifetime_secs: u64,
    now: i64,
) -> Result<Swept> {
    let mut swept = Swept::default();
    let pause = Duration::from_millis(config.batch_pause_ms);
    for rule in RULES {
        let cutoff = now.saturating_sub((days(config, rule.table) as i64).saturating_mul(DAY));
        // Neither database has DELETE … LIMIT in the SQL both accept; a keyed sub-select does
        // the same and keeps each statement short.
        let sql = format!(
            "DELETE FROM {t} WHERE ({k}) IN (SELECT {k} FROM {t} WHERE {old} LIMIT {n})",
            t = rule.table,
            k = rule.key,
            old = rule
                .old
                .replace("{lifetime}", &session_lifetime_secs.to_string()),
            n = config.batch_rows,
        );
        let mut total = 0;
        loop {
            let deleted = {
                let _turn = db.write_turn().await;
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(cutoff)
                    .execute(&db.pool)
                    .await?
                    .rows_affected()
            };
            total += deleted;
            if deleted < u64::from(config.batch_rows) {
                break;
            }
            tokio::time::sleep(pause).await;
        }
        swept.counts.push((rule.table, total));
    }
    Ok(swept)
}

/// How often the background task sweeps.
pub const INTERVAL: Duration = Duration::from_secs(3600);

/// The background task: a sweep now, then every [`INTERVAL`]. Failures are logged and tried
/// again at the next tick.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(INTERVAL);
    loop {
        tick.tick().await;
        let config = &state.config;
        match sweep(
            &state.db,
            &config.retention,
            config.session.lifetime_secs,
            state.now(),
        )
        .await
        {
            Ok(swept) => {
                state.metrics.retention_deleted(&swept);
                if swept.total() > 0 {
                    tracing::info!(rows = ?swept.counts, "retention: old rows deleted");
                }
            }
            Err(e) => tracing::warn!(
                error = %e,
                "retention sweep failed; it is tried again within the hour"
            ),
        }
    }
}
