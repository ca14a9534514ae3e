//! The command line: `quickcard-kiosk` with no subcommand runs the kiosk; subcommands are
//! headless tools. Each subcommand is one variant of [`Command`] and one function here, so
//! more can be added without touching the others.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::scanner::report::scan_and_report;
use crate::scanner::{FrameSource, ReplaySource, ScanConfig, Scanner, SourceError};

#[derive(Debug, Parser)]
#[command(
    name = "quickcard-kiosk",
    version,
    about = "QuickCard kiosk: scan a signed QR card, get a session, see your apps"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The kiosk's own options (no subcommand).
    #[command(flatten)]
    pub run: crate::platform::start::RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read QR codes from image files and print one JSON object per image.
    Decode(DecodeArgs),
    /// Scan frames from a camera (or replayed files) and print one JSON line per result.
    Scan(ScanArgs),
    /// Enrol this kiosk with a portal: trade an enrolment code for the kiosk credential.
    Enroll(EnrollArgs),
    /// Print an admin PIN hash for the config's `admin_pin_hash` (reads the PIN from stdin).
    HashPin,
    /// Check a config file with the kiosk's own loader and exit (0: the kiosk can start with it).
    CheckConfig(CheckConfigArgs),
    /// One child's apps, as the apps user: started by systemd for each connection to
    /// quickcard-apps.socket, with the connection on stdin and stdout (not for people).
    #[command(hide = true)]
    AppSession,
}

fn parse_budget(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(ms) if ms.is_finite() && (1.0..=60_000.0).contains(&ms) => Ok(ms),
        _ => Err(format!(
            "{s:?} is not a budget: give milliseconds from 1 to 60000 (the kiosk uses 25)"
        )),
    }
}

/// `decode` and `scan` print JSON on stdout; with `RUST_LOG` set (for example
/// `RUST_LOG=quickcard_kiosk::scanner=trace`) each scan attempt is also traced on stderr, so
/// a technician can see where a frame's time went.
fn log_to_stderr_if_asked() {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .try_init();
    }
}

/// `check-config`: which file to check.
#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// Config file (default: the top-level --config, $QUICKCARD_KIOSK_CONFIG or
    /// ~/.config/quickcard/kiosk.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `enroll`: the portal and the one-time code from its admin page.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The portal's base URL, e.g. `https://portal.school.example` (http:// only to this machine)
    #[arg(long)]
    pub portal: String,
    /// The enrolment code shown by the portal.
    #[arg(long)]
    pub code: String,
    /// This kiosk's name in the portal.
    #[arg(long, default_value = "kiosk")]
    pub name: String,
    /// Config file to write (default: $QUICKCARD_KIOSK_CONFIG or ~/.config/quickcard/kiosk.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Trust options shared by the commands that verify cards.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// A trusted issuer public key (`qcpk1:…`) or a file holding one; repeatable.
    #[arg(long = "trust", value_name = "PUBKEY")]
    pub trust: Vec<String>,
    /// Also trust the published demo key (anyone can print cards with it: demos only).
    #[arg(long)]
    pub demo: bool,
    /// Refuse cards for other schools than this school id.
    #[arg(long)]
    pub school: Option<String>,
    /// Verify as of this time (RFC 3339 or YYYY-MM-DD) instead of now.
    #[arg(long)]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Image files (PNG, JPEG, WebP, GIF or BMP).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Give each image the kiosk's time budget per frame, in milliseconds (as the kiosk
    /// does: 25). Without it every attempt runs, however long it takes.
    #[arg(long, value_name = "MS", value_parser = parse_budget)]
    pub budget: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Camera index or (part of its) name.
    #[arg(long, default_value = "0", conflicts_with = "replay")]
    pub camera: String,
    /// Requested camera resolution, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720")]
    pub resolution: String,
    /// Requested frame rate (camera) or replay rate (files).
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Replay these image files or folders instead of a camera.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub replay: Vec<PathBuf>,
    /// Loop the replay.
    #[arg(long = "loop")]
    pub looping: bool,
    /// Stop after this many frames.
    #[arg(long)]
    pub frames: Option<u64>,
    /// List the cameras and exit.
    #[arg(long)]
    pub list: bool,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => {
            crate::platform::start::run(cli.run)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Enroll(a)) => {
            let path = a.config.clone().unwrap_or_else(crate::config::default_path);
            let cfg = crate::platform::start::enroll_command(&a.portal, &a.code, &a.name, &path)?;
            let kiosk = cfg
                .enrolment
                .as_ref()
                .map(|e| e.kiosk_id.as_str())
                .unwrap_or("?");
            println!(
                "enrolled as kiosk {kiosk}; config written to {}",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::HashPin) => {
            let mut pin = String::new();
            std::io::stdin().read_line(&mut pin)?;
            println!("{}", crate::platform::start::hash_pin_command(pin.trim())?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::CheckConfig(a)) => {
            let path = a
                .config
                .or(cli.run.config)
                .unwrap_or_else(crate::config::default_path);
            check_config(&path)
        }
        Some(Command::AppSession) => {
            // The journal takes stderr; the connection is stdin/stdout.
            let _ = tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .without_time()
                .try_init();
            crate::platform::apps::serve(std::io::stdin().lock(), std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Decode(args)) => {
            log_to_stderr_if_asked();
            decode(args)
        }
        Some(Command::Scan(args)) => {
            log_to_stderr_if_asked();
            scan(args)
        }
    }
}

/// `check-config`: loads the file exactly as the kiosk does at start-up (syntax, values, trust
/// keys) and reports what it found; problems that do not stop the kiosk are warnings.
fn check_config(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let cfg = crate::config::Config::load(path)?;
    println!("config ok: {}", path.display());
    println!("  portal        {}", cfg.portal_url);
    println!(
        "  school        {}",
        cfg.school_id
            .as_deref()
            .unwrap_or("(from the portal at enrolment)")
    );
    println!("  language      {}", cfg.language.code());
    println!("  camera        {}", cfg.camera);
    println!("  idle timeout  {} s", cfg.idle_timeout_secs);
    println!("  launcher      {}", cfg.launcher.describe());
    println!(
        "  trusted keys  {}",
        if cfg.trust.is_empty() {
            "(the portal's)".to_string()
        } else {
            cfg.trust.len().to_string()
        }
    );
    match &cfg.enrolment {
        None => println!(
            "  warning: not enrolled yet: run `quickcard-kiosk enroll --config {} --portal URL --code CODE`",
            path.display()
        ),
        Some(e) => {
            let creds = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
            match cfg.load_credential_from(creds.as_deref(), path) {
                Ok((_, from)) => {
                    println!("  enrolled as   {}", e.kiosk_id);
                    let systemd = creds.as_deref().is_some_and(|d| from.starts_with(d));
                    println!(
                        "  credential    {}{}",
                        from.display(),
                        if systemd {
                            " (from systemd, LoadCredential=)"
                        } else {
                            ""
                        }
                    );
                }
                Err(err) => println!("  warning: kiosk {}: {err}", e.kiosk_id),
            }
        }
    }
    if let crate::config::LauncherConfig::Command(_) = cfg.launcher {
        println!(
            "  warning: launcher: apps run as the kiosk user, can read what it reads, and keep one \
             child's logins for the next; use a [launcher] table with run_as (lab-technicians.md)"
        );
    }
    for warning in private_file_warnings(path, cfg.credential_path(path).as_deref()) {
        println!("  warning: {warning}");
    }
    if cfg.admin_pin_hash.is_none() {
        println!(
            "  warning: no admin_pin_hash: nobody can leave kiosk mode (`quickcard-kiosk hash-pin`)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The config and the credential must be closed to everyone but their owner (the kiosk user):
/// the admin PIN hash and the kiosk's credential are in them.
fn private_file_warnings(
    config: &std::path::Path,
    credential: Option<&std::path::Path>,
) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for p in [Some(config), credential].into_iter().flatten() {
        if let Ok(meta) = std::fs::metadata(p)
            && meta.permissions().mode() & 0o077 != 0
        {
            out.push(format!(
                "{} is open to other users (mode {:o}): chmod go-rwx {}",
                p.display(),
                meta.permissions().mode() & 0o777,
                p.display()
            ));
        }
    }
    out
}

/// Builds the trust list and verification options; `None` when no key is trusted.
pub fn trust_from(
    args: &TrustArgs,
) -> anyhow::Result<Option<(quickcard::TrustList, quickcard::VerifyOptions)>> {
    let mut keys = Vec::new();
    for t in &args.trust {
        let k =
            quickcard::PublicKey::from_text_or_file(t).with_context(|| format!("--trust {t}"))?;
        keys.push(quickcard::TrustedKey::new(k, t));
    }
    if args.demo && !keys.iter().any(|k| k.public.is_demo()) {
        keys.push(quickcard::TrustedKey::new(
            quickcard::IssuerKey::demo().public(),
            "QuickCard demo key",
        ));
    }
    if keys.is_empty() {
        return Ok(None);
    }
    let list = quickcard::TrustList::new(keys, args.demo)?;
    let now = match &args.now {
        Some(s) => quickcard::time::parse(s).map_err(|e| anyhow::anyhow!("--now {s}: {e}"))?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    let opts = quickcard::VerifyOptions {
        now,
        skew_secs: 300,
        school: args.school.clone(),
        ..quickcard::VerifyOptions::default()
    };
    Ok(Some((list, opts)))
}

fn decode(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let trust = trust_from(&args.trust)?;
    let trust = trust.as_ref().map(|(l, o)| (l, o));
    let mut scanner = Scanner::new(ScanConfig {
        budget_ms: args.budget,
        ..ScanConfig::default()
    });
    let mut stdout = std::io::stdout().lock();
    let mut unreadable = 0;
    for path in &args.images {
        let file = path.display().to_string();
        match crate::scanner::replay::load_frame(path) {
            Ok(frame) => {
                // Each image is its own scene: no memory carried over from the previous one.
                scanner.forget();
                let report = scan_and_report(&mut scanner, &file, &frame, trust);
                writeln!(stdout, "{}", serde_json::to_string(&report)?)?;
            }
            Err(e) => {
                unreadable += 1;
                let obj = serde_json::json!({ "file": file, "error": e.to_string() });
                writeln!(stdout, "{obj}")?;
                eprintln!("error: {e}");
            }
        }
    }
    Ok(if unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_resolution(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .context("resolution must look like 1280x720")?;
    Ok((w.trim().parse()?, h.trim().parse()?))
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let trust = trust_from(&args.trust)?;
    let trust = trust.as_ref().map(|(l, o)| (l, o));
    let mut source: Box<dyn FrameSource> = if !args.replay.is_empty() {
        Box::new(
            ReplaySource::from_paths(&args.replay)?
                .looping(args.looping)
                .rate(Some(args.fps as f64)),
        )
    } else {
        open_camera(&args)?
    };
    eprintln!("scanning from {}", source.describe());
    let mut scanner = Scanner::new(ScanConfig::default());
    let mut stdout = std::io::stdout().lock();
    let mut n = 0u64;
    let mut last_error: Option<SourceError> = None;
    while args.frames.is_none_or(|max| n < max) {
        match source.next_frame() {
            Ok(Some(frame)) => {
                last_error = None;
                n += 1;
                let report = scan_and_report(&mut scanner, &format!("frame {n}"), &frame, trust);
                writeln!(stdout, "{}", serde_json::to_string(&report)?)?;
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(SourceError::Finished) => break,
            Err(e) if e.is_transient() => {
                if last_error.as_ref() != Some(&e) {
                    eprintln!("{e}");
                    last_error = Some(e);
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(e) => bail!(e),
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "camera")]
fn open_camera(args: &ScanArgs) -> anyhow::Result<Box<dyn FrameSource>> {
    use crate::scanner::camera::{CameraConfig, CameraSource, DeviceChoice};
    if args.list {
        for c in crate::scanner::camera::list_cameras()? {
            println!("{}\t{}", c.index, c.name);
        }
        std::process::exit(0);
    }
    let (width, height) = parse_resolution(&args.resolution)?;
    let config = CameraConfig {
        device: DeviceChoice::parse(&args.camera),
        width,
        height,
        fps: args.fps,
    };
    Ok(Box::new(CameraSource::start(config)))
}

#[cfg(not(feature = "camera"))]
fn open_camera(args: &ScanArgs) -> anyhow::Result<Box<dyn FrameSource>> {
    let _ = parse_resolution(&args.resolution)?;
    bail!("this build has no camera support (built without the `camera` feature); use --replay")
}
