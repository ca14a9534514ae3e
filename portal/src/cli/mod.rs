//! The `quickcard-portal` command line. `main.rs` only parses arguments and calls [`run`].
//!
//! [`run`] checks the global flags and hands each command to the module of its group:
//!
//! - `args`: the commands and flags (clap); [`Cli`] and its subcommands are re-exported here;
//! - `check`: `--check-config`;
//! - `serve`: `serve`, from the config or as an in-memory demo;
//! - `kiosk`: `kiosk add|disable|list`;
//! - `roster`: `import`, `revoke`, `pin`, `person` and `chromeos-password reset`;
//! - `audit`: `audit`;
//! - `keys`: `admin-token`, `saml keygen|metadata`, `chromeos-password keygen`.
//!
//! Output goes through `outln!`, so that `quickcard-portal … | head` ends quietly.

mod args;
mod audit;
mod check;
mod keys;
mod kiosk;
mod roster;
mod serve;

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

#[cfg(feature = "saml")]
pub use args::SamlCommand;
pub use args::{Cli, Command, KioskCommand, PinCommand, ServeArgs};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::{Db, redact_url};

/// Prints one line of a command's output, as `println!` does, but a closed standard output
/// (`quickcard-portal kiosk list | head`) becomes an error the binary ends on quietly, instead
/// of a panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line to standard output (see [`outln!`]).
pub(crate) fn write_line(line: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
}

/// Whether `e` is standard output closed by its reader: a normal end for a command whose
/// output was piped into `head`, not a failure to report.
pub fn is_closed_stdout(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn load_config(cli: &Cli) -> Result<Config> {
    Ok(match &cli.config {
        Some(p) => Config::load(p)?,
        None => Config::from_env()?,
    })
}

async fn open_db(config: &Config) -> Result<Db> {
    let db = Db::connect(&config.database_url, config.database_max_connections)
        .await
        .with_context(|| format!("opening {}", redact_url(&config.database_url)))?;
    db.migrate().await?;
    Ok(db)
}

fn user_id(id: &str) -> Result<String> {
    Ok(quickcard::Subject::parse(id.trim())
        .map_err(|e| anyhow::anyhow!("--user: {e}"))?
        .to_string())
}

/// Runs one command line.
pub async fn run(cli: Cli) -> Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if cli.demo
        && let Some(path) = &cli.config
    {
        bail!(
            "--demo cannot be used with a config file ({}, from --config or \
             QUICKCARD_PORTAL_CONFIG): demo mode trusts the published demo key, which anyone can \
             print cards with, so this portal's roster would accept cards anyone can make. For a \
             demo run `quickcard-portal serve --demo` with no config (unset \
             QUICKCARD_PORTAL_CONFIG); for a school, drop --demo",
            path.display()
        );
    }
    if cli.check_config {
        return check::check_config(&cli);
    }
    let Some(command) = &cli.command else {
        bail!("no command given; try `quickcard-portal --help`");
    };
    let now: &dyn Clock = &*clock;
    match command {
        Command::Serve(args) => serve::serve(&cli, args, clock.clone()).await,
        Command::Import { roster } => roster::import(&cli, roster, now).await,
        Command::Kiosk(command) => kiosk::run(&cli, command, now).await,
        Command::Revoke { user, reason } => roster::revoke(&cli, user, reason, now).await,
        Command::Audit {
            user,
            since,
            limit,
            json,
        } => audit::audit(&cli, user.as_deref(), since.as_deref(), *limit, *json).await,
        Command::Pin(command) => roster::pin(&cli, command, now).await,
        #[cfg(feature = "saml")]
        Command::Saml(command) => keys::saml(&cli, command, now),
        Command::Person(command) => roster::person(&cli, command, now).await,
        Command::ChromeosPassword(crate::domain::chromeos_password::Command::Keygen { key }) => {
            crate::domain::chromeos_password::keygen_command(key)
        }
        Command::ChromeosPassword(crate::domain::chromeos_password::Command::Reset { user }) => {
            roster::chromeos_password_reset(&cli, user, now).await
        }
        Command::AdminToken => keys::admin_token(),
    }
}
