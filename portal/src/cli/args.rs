//! The command line's shape: every command, subcommand and flag, as clap reads them (and
//! `--help` prints them). Kept apart from what the commands do, so that the whole command
//! line can be read in one place, and the implementations ([`super::run`] and its modules)
//! stay free of argument plumbing.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "quickcard-portal",
    version,
    about = "QuickCard portal: cards in, sessions out"
)]
pub struct Cli {
    /// The TOML config file (settings can be overridden by QUICKCARD_PORTAL_* variables).
    #[arg(long, short, global = true, env = "QUICKCARD_PORTAL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Trust the published demo key. Only for demos: anyone can print cards with it. Refused
    /// together with a config file: use `serve --demo` alone.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Check the config (syntax, values, trust list) and exit.
    #[arg(long)]
    pub check_config: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the portal. With --demo and no --config: an in-memory demo with the sample roster.
    Serve(ServeArgs),
    /// Import a roster (OneRoster 1.1 CSV folder or simple CSV); removed users' sessions end.
    Import {
        #[arg(long)]
        roster: PathBuf,
    },
    /// Kiosk enrolment.
    #[command(subcommand)]
    Kiosk(KioskCommand),
    /// Revoke every card of a user issued before now (a reprinted card keeps working).
    Revoke {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "card replaced")]
        reason: String,
    },
    /// Print the audit log.
    Audit {
        #[arg(long)]
        user: Option<String>,
        /// YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Staff PINs for second-factor cards.
    #[command(subcommand)]
    Pin(PinCommand),
    /// Make an admin API token: the token on stdout, the config line on stderr.
    AdminToken,
    /// Chromebook sign-in: the SAML identity provider's key, certificate and metadata.
    #[cfg(feature = "saml")]
    #[command(subcommand)]
    Saml(SamlCommand),
    /// Chromebook sign-in: the key ChromeOS passwords are derived from, and new passwords.
    #[command(subcommand)]
    ChromeosPassword(crate::domain::chromeos_password::Command),
    /// A person's data on request: export it as JSON, or erase it.
    #[command(subcommand)]
    Person(crate::domain::person::Command),
}

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Demo only: act as the SAML IdP (Chromebook sign-in) of the service provider with this
    /// entity id, with a key made in memory (needs --saml-acs).
    #[arg(long, requires = "saml_acs")]
    pub saml_sp_entity: Option<String>,
    /// Demo only: that service provider's ACS URL.
    #[arg(long, requires = "saml_sp_entity")]
    pub saml_acs: Option<String>,
}

#[cfg(feature = "saml")]
#[derive(Debug, Subcommand)]
pub enum SamlCommand {
    /// Make the IdP's RSA-2048 key (mode 0600) and self-signed certificate (the one to upload
    /// to Google). Refuses to overwrite; never prints the key.
    Keygen {
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        cert: PathBuf,
        /// The certificate's common name.
        #[arg(long, default_value = "QuickCard SAML IdP")]
        cn: String,
    },
    /// Print the IdP metadata XML of the configured `[saml]` section.
    Metadata,
}

#[derive(Debug, Subcommand)]
pub enum KioskCommand {
    /// Add a kiosk and print its one-time enrolment code.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        school: String,
    },
    /// Disable a kiosk (by id or name); its live sessions end.
    Disable {
        #[arg(long)]
        kiosk: String,
    },
    /// List kiosks with their last-seen time.
    List,
}

#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Set a user's PIN, read from the first line of standard input (never an argument):
    /// digits only, at least the policy's minimum length for the user's role (6 for staff by
    /// default). A new PIN also lifts the user's lockouts.
    Set {
        #[arg(long)]
        user: String,
    },
    /// Lift every PIN lockout of a user (after too many wrong PINs from one kiosk or network,
    /// the third lockout there lasts until a person lifts it).
    Unlock {
        #[arg(long)]
        user: String,
    },
}
