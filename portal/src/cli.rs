//! The `quickcard-portal` command line. `main.rs` only parses arguments and calls [`run`].

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::{Db, redact_url};
use crate::secrets::{Secret, hash_pin};
use crate::{AppState, demo, roster_import, serve, store};

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
    ChromeosPassword(crate::chromeos_password::Command),
    /// A person's data on request: export it as JSON, or erase it.
    #[command(subcommand)]
    Person(crate::person::Command),
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

async fn shutdown_signal() {
    {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
        tracing::info!("shutting down");
    }
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
        let config = load_config(&cli)?;
        let trust = config.trust_list(cli.demo)?;
        outln!("config ok")?;
        outln!("  listen        {}", config.listen)?;
        outln!("  database      {}", redact_url(&config.database_url))?;
        outln!("  trusted keys  {}", trust.keys().len())?;
        for k in trust.keys() {
            outln!(
                "    {} {} {}",
                k.public.key_id(),
                k.name,
                if k.public.is_demo() { "(DEMO KEY)" } else { "" }
            )?;
        }
        outln!("  apps          {}", config.catalogue().len())?;
        outln!("  retention     (days; older rows are deleted hourly)")?;
        for (key, days) in config.retention.periods() {
            outln!("    {key:<22} {days}")?;
        }
        match config.metrics.listen {
            Some(addr) => {
                outln!("  metrics       /metrics with the admin token; on {addr} without")?
            }
            None => {
                outln!("  metrics       /metrics with the admin token")?;
            }
        }
        check_saml(&config)?;
        if let Some(dir) = &config.web_dir {
            crate::web::WebBundle::load(dir)?;
            outln!("  web kiosk     {} (served at /kiosk/)", dir.display())?;
        }
        if trust.is_empty() {
            outln!("  warning: no trusted keys: every card will be refused")?;
        }
        return Ok(());
    }
    let Some(command) = &cli.command else {
        bail!("no command given; try `quickcard-portal --help`");
    };
    match command {
        Command::Serve(args) => {
            let demo_saml = match (&args.saml_sp_entity, &args.saml_acs) {
                (Some(entity), Some(acs)) => Some(crate::idp::DemoSaml {
                    sp_entity_id: entity.clone(),
                    acs_url: acs.clone(),
                }),
                _ => None,
            };
            if demo_saml.is_some() && !(cli.demo && cli.config.is_none()) {
                bail!(
                    "--saml-sp-entity/--saml-acs are for `serve --demo` without --config; \
                     configure Chromebook sign-in in the [saml] section of the config"
                );
            }
            if cli.demo && cli.config.is_none() {
                let mut config = Config::from_env()?;
                config.database_url = "sqlite::memory:".into();
                crate::idp::apply_demo(&mut config, demo_saml.as_ref(), clock.now())?;
                let listener = tokio::net::TcpListener::bind(config.listen)
                    .await
                    .with_context(|| format!("listening on {}", config.listen))?;
                let p = demo::prepare(config, None, "DEMO-KIOSK", None, clock).await?;
                eprintln!(
                    "DEMO MODE: the published demo key is trusted; never use this for a school.\n\
                     demo kiosk {} (school {}) credential: {}\n\
                     enrolment code for another kiosk: {}\n\
                     admin token: {}\n\
                     demo PIN for staff cards: {}",
                    p.kiosk_id,
                    p.school_id,
                    p.kiosk_credential,
                    p.enrolment_code,
                    p.admin_token,
                    demo::DEMO_PIN
                );
                if p.state.web.is_some() {
                    eprintln!(
                        "browser kiosk: http://{}{}?demo=1#credential={}",
                        listener.local_addr()?,
                        crate::web::MOUNT,
                        p.kiosk_credential
                    );
                }
                #[cfg(feature = "saml")]
                if let Some(idp) = &p.state.saml {
                    eprintln!(
                        "Chromebook sign-in (SAML IdP, key made in memory) for {}: metadata \
                         http://{}/saml/metadata",
                        idp.idp
                            .allow_list()
                            .providers()
                            .iter()
                            .map(|sp| sp.entity_id())
                            .collect::<Vec<_>>()
                            .join(", "),
                        listener.local_addr()?
                    );
                }
                tracing::info!(addr = %listener.local_addr()?, "portal listening (demo)");
                serve(p.state, listener, shutdown_signal()).await?;
                return Ok(());
            }
            let config = load_config(&cli)?;
            let listen = config.listen;
            let state = AppState::connect(config, clock, cli.demo).await?;
            if cli.demo {
                tracing::warn!("DEMO MODE: the published demo key is trusted");
            }
            if state.trust.is_empty() {
                tracing::warn!("no trusted issuer keys: every card will be refused");
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            tracing::info!(addr = %listener.local_addr()?, db = ?state.db.kind, "portal listening");
            serve(state, listener, shutdown_signal()).await?;
        }
        Command::Import { roster } => {
            let config = load_config(&cli)?;
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
        }
        Command::Kiosk(KioskCommand::Add { name, school }) => {
            let config = load_config(&cli)?;
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
        Command::Kiosk(KioskCommand::Disable { kiosk }) => {
            let config = load_config(&cli)?;
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
        Command::Kiosk(KioskCommand::List) => {
            let config = load_config(&cli)?;
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
        Command::Revoke { user, reason } => {
            let config = load_config(&cli)?;
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
        }
        Command::Audit {
            user,
            since,
            limit,
            json,
        } => {
            let config = load_config(&cli)?;
            let db = open_db(&config).await?;
            let user = user.as_deref().map(user_id).transpose()?;
            let since = match since {
                Some(s) => quickcard::time::parse(s)? as i64,
                None => 0,
            };
            let rows = store::audit_rows(&db, user.as_deref(), since, *limit).await?;
            let mut out = std::io::stdout().lock();
            for r in rows {
                if *json {
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
        }
        Command::Pin(PinCommand::Set { user }) => {
            let config = load_config(&cli)?;
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
            crate::pin_attempts::unlock(&db, &user).await?;
            outln!("PIN set for {user}")?;
        }
        Command::Pin(PinCommand::Unlock { user }) => {
            let config = load_config(&cli)?;
            let user = user_id(user)?;
            let db = open_db(&config).await?;
            let lifted = crate::pin_attempts::unlock(&db, &user).await?;
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
        #[cfg(feature = "saml")]
        Command::Saml(SamlCommand::Keygen { key, cert, cn }) => {
            let k = quickcard_saml::IdpKey::generate(cn, clock.now())?;
            k.save(key, cert)?;
            let c = k.certificate();
            outln!(
                "wrote the private key {} (mode 0600; never share it) and the certificate {}\n\
                 certificate SHA-256 {}, valid until {}\n\
                 config:\n  [saml]\n  key_file = {:?}\n  cert_file = {:?}",
                key.display(),
                cert.display(),
                c.sha256_fingerprint(),
                quickcard::time::format_utc(c.not_after()),
                key.display().to_string(),
                cert.display().to_string(),
            )?;
        }
        #[cfg(feature = "saml")]
        Command::Saml(SamlCommand::Metadata) => {
            let config = load_config(&cli)?;
            let Some(idp) = crate::idp::Idp::load(&config)? else {
                bail!("the config has no [saml] section: Chromebook sign-in is not set up");
            };
            print!(
                "{}",
                quickcard_saml::idp_metadata(&idp.idp, idp.key.certificate())
            );
        }
        Command::Person(cmd) => {
            let config = load_config(&cli)?;
            let db = open_db(&config).await?;
            crate::person::command(&db, cmd, clock.now() as i64).await?;
        }
        Command::ChromeosPassword(crate::chromeos_password::Command::Keygen { key }) => {
            crate::chromeos_password::keygen_command(key)?;
        }
        Command::ChromeosPassword(crate::chromeos_password::Command::Reset { user }) => {
            let config = load_config(&cli)?;
            let db = open_db(&config).await?;
            crate::chromeos_password::reset_command(&db, &user_id(user)?, clock.now() as i64)
                .await?;
        }
        Command::AdminToken => {
            let token = Secret::token("qca_");
            eprintln!(
                "put this in the config ([admin] section) and keep the token itself secret:\n  token_sha256 = \"{}\"",
                token.hash()
            );
            outln!("{}", token.expose())?;
        }
    }
    Ok(())
}

/// `--check-config`: the `[saml]` section, with its key and certificate loaded.
fn check_saml(config: &Config) -> Result<()> {
    if config.saml.is_none() {
        outln!("  chromebook sign-in  off (no [saml] section)")?;
        return Ok(());
    }
    #[cfg(feature = "saml")]
    {
        let idp = crate::idp::Idp::load(config)?
            .ok_or_else(|| anyhow::anyhow!("the [saml] section did not load"))?;
        let cert = idp.key.certificate();
        outln!("  chromebook sign-in  SAML IdP")?;
        outln!("    entity id   {}", idp.idp.entity_id())?;
        outln!("    sign-in URL {}", idp.idp.sso_url())?;
        for sp in idp.idp.allow_list().providers() {
            outln!("    allows      {} -> {}", sp.entity_id(), sp.acs_url())?;
        }
        outln!("    {}", idp.binding.describe())?;
        for (school, ranges) in &idp.settings.networks {
            outln!("    network     {school}: {}", ranges.join(", "))?;
        }
        outln!(
            "    certificate SHA-256 {}, valid until {}",
            cert.sha256_fingerprint(),
            quickcard::time::format_utc(cert.not_after())
        )?;
        if cert.not_after() < SystemClock.now() + 90 * 86_400 {
            outln!(
                "    warning: the certificate expires within 90 days: make a new one and add it to Google first"
            )?;
        }
        if let Some(p) = &idp.settings.chromeos_password_key_file {
            outln!(
                "    ChromeOS passwords derived from the key {}",
                p.display()
            )?;
        }
        if !idp.settings.name_id_domains.is_set() {
            outln!(
                "    warning: saml.name_id_domains is not set: a NameID (roster e-mail) in any domain is accepted"
            )?;
        }
        Ok(())
    }
    #[cfg(not(feature = "saml"))]
    {
        bail!(
            "the config has a [saml] section, but this portal was built without the `saml` feature"
        )
    }
}
