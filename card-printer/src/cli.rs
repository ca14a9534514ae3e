//! The `card-printer` command line: argument parsing (clap) and the four commands.
//!
//! Kept in the library so `main.rs` is a thin shell and the tests can run commands with a
//! fixed clock ([`Context::now`]) and capture their output.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use quickcard::{IssuerKey, PublicKey, Role, TrustList, TrustedKey, VerifyOptions};
use quickcard_roster::Roster;

use crate::cards::{self, Selection, Validity};
use crate::layout::LayoutKind;
use crate::output::write_atomic;

/// Print QuickCards: signed QR login cards for the people on a school roster.
#[derive(Debug, Parser)]
#[command(name = "card-printer", version, about, long_about = None,
    after_help = "Examples:\n  card-printer keygen --out keys/ --name \"Lincoln Elementary 2026-27\"\n  card-printer print --key keys/issuer.secret --roster oneroster/ --class cls-3a --out room12.pdf\n  card-printer png --key keys/issuer.secret --roster roster.csv --user stu-0042 --out zoe.png\n  card-printer inspect zoe.png --trust keys/issuer.pub")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new issuer key pair (the secret file is written with mode 0600).
    #[command(
        after_help = "Writes DIR/issuer.secret (keep it offline: it prints cards) and \
DIR/issuer.pub (give it to the portal and kiosks). Refuses to overwrite existing keys.\n\n\
Example:\n  card-printer keygen --out /secure/quickcard --name \"Lincoln Elementary 2026-27\""
    )]
    Keygen {
        /// Folder for issuer.secret and issuer.pub (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A name for people, shown by kiosks and the portal.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Sign one card per selected user and write them as one print-ready PDF.
    #[command(
        after_help = "Cards are grouped by class (each class starts on a new page with a \
header line: class, teacher, count) and sorted by family name. Users in several classes get \
one card, under their first class. Selections combine: --class A --class B --role student \
prints the students of A and B.\n\n\
--roster takes a OneRoster 1.1 CSV folder (users.csv, orgs.csv, classes.csv, enrollments.csv) \
or a simple CSV file with the header\n  sourced_id,given_name,family_name,role,school_id,class_id,class_name,teacher\n\
(optional columns: email, school_name, grade).\n\n\
Examples:\n  card-printer print --key issuer.secret --roster export/ --out lincoln.pdf --school sch-lincoln-elementary\n  card-printer print --key issuer.secret --roster roster.csv --class cls-3a --layout avery-5371 --out room12.pdf\n  card-printer print --key issuer.secret --roster roster.csv --role teacher --second-factor --expires 2027-06-30 --out staff.pdf"
    )]
    Print {
        #[command(flatten)]
        cards: CardArgs,
        /// Only these classes (repeatable).
        #[arg(long = "class", value_name = "ID")]
        classes: Vec<String>,
        /// Only these users (repeatable).
        #[arg(long = "user", value_name = "ID")]
        users: Vec<String>,
        /// Only users with this role: student, teacher, staff, parent, administrator.
        #[arg(long, value_name = "ROLE")]
        role: Option<Role>,
        /// Sheet layout: letter-8, a4-8 (plain paper, cut marks), avery-5371, avery-8371.
        #[arg(long, default_value = "letter-8", value_name = "LAYOUT")]
        layout: LayoutKind,
        /// The PDF to write (replaced atomically when complete).
        #[arg(long, value_name = "FILE.pdf")]
        out: PathBuf,
    },
    /// One card as a PNG image (for a lost card, or to show on a screen).
    #[command(
        after_help = "The image is a 3.5 × 2 in card (1050 × 600 pixels at 300 dpi).\n\n\
Example:\n  card-printer png --key issuer.secret --roster roster.csv --user stu-0042 --out zoe.png --dpi 300"
    )]
    Png {
        #[command(flatten)]
        cards: CardArgs,
        /// The user.
        #[arg(long, value_name = "ID")]
        user: String,
        /// Print the card for this class (default: the user's first class).
        #[arg(long = "class", value_name = "ID")]
        class: Option<String>,
        /// Resolution in dots per inch (72 to 1200).
        #[arg(long, default_value_t = 300)]
        dpi: u32,
        /// The PNG to write.
        #[arg(long, value_name = "FILE.png")]
        out: PathBuf,
    },
    /// Decode a card from its text or a PNG/JPEG image and show its claims and validity.
    #[command(
        after_help = "Exit status: 0 valid (or not checked), 1 refused by verification, \
2 no card could be read.\n\n\
Examples:\n  card-printer inspect card.png --trust issuer.pub\n  card-printer inspect 'QC:6BF…' --trust qcpk1:…\n  card-printer inspect sample.png --trust sample-cards/keys/demo-issuer.pub --demo"
    )]
    Inspect {
        /// An image file (PNG/JPEG) or the card text (QC:…).
        #[arg(value_name = "FILE_OR_TEXT")]
        input: String,
        /// Trusted issuer public keys: qcpk1:… text or a .pub file (repeatable).
        #[arg(long, value_name = "PUBKEY")]
        trust: Vec<String>,
        /// Allow the published demo key in --trust (demos only).
        #[arg(long)]
        demo: bool,
        /// Also check the card is for this school id.
        #[arg(long, value_name = "ID")]
        school: Option<String>,
    },
}

/// Options shared by `print` and `png`.
#[derive(Debug, clap::Args)]
pub struct CardArgs {
    /// The issuer secret key file (from `card-printer keygen`).
    #[arg(long, value_name = "SECRET")]
    pub key: PathBuf,
    /// A OneRoster 1.1 CSV folder or a simple roster CSV file.
    #[arg(long, value_name = "PATH")]
    pub roster: PathBuf,
    /// Only users of this school; cards are issued for it.
    #[arg(long, value_name = "ID")]
    pub school: Option<String>,
    /// Last day the cards work, YYYY-MM-DD (default: the next June 30, the end of the school
    /// year; cards stop at 23:59:59 UTC that day).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub expires: Option<String>,
    /// Cards also need a PIN at sign-in (for staff and teachers).
    #[arg(long)]
    pub second_factor: bool,
}

/// What the commands need from the outside world.
#[derive(Debug, Clone)]
pub struct Context {
    /// The current time, Unix seconds.
    pub now: u64,
    /// Whether to draw a progress bar (stderr is a terminal).
    pub progress: bool,
}

impl Context {
    /// The real clock and terminal. When `SOURCE_DATE_EPOCH` is set (the reproducible-builds
    /// convention, Unix seconds), it is used as "now", so re-generated sample files are
    /// identical.
    pub fn from_env() -> Context {
        let epoch = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        Context {
            now: epoch.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            }),
            progress: std::io::stderr().is_terminal(),
        }
    }
}

/// Exit status for `inspect` when a card was read but refused.
pub const EXIT_REFUSED: i32 = 1;
/// Exit status when nothing could be read, or any other error.
pub const EXIT_ERROR: i32 = 2;

/// Runs a command; returns the process exit status.
pub fn run(cli: Cli, ctx: &Context, out: &mut dyn Write) -> Result<i32> {
    match cli.command {
        Command::Keygen { out: dir, name } => keygen(&dir, name, ctx, out).map(|()| 0),
        Command::Print {
            cards,
            classes,
            users,
            role,
            layout,
            out: file,
        } => {
            let sel = Selection {
                school: cards.school.clone(),
                classes,
                users,
                role,
            };
            print(&cards, &sel, layout, &file, ctx, out).map(|()| 0)
        }
        Command::Png {
            cards,
            user,
            class,
            dpi,
            out: file,
        } => png(&cards, &user, class.as_deref(), dpi, &file, ctx, out).map(|()| 0),
        Command::Inspect {
            input,
            trust,
            demo,
            school,
        } => inspect(&input, &trust, demo, school, ctx, out),
    }
}

fn keygen(dir: &Path, name: Option<String>, ctx: &Context, out: &mut dyn Write) -> Result<()> {
    let name = name
        .unwrap_or_else(|| format!("QuickCard issuer {}", quickcard::time::format_date(ctx.now)));
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let secret = dir.join("issuer.secret");
    let public = dir.join("issuer.pub");
    let key = IssuerKey::generate(&name).map_err(|e| anyhow!("no randomness for a key: {e}"))?;
    key.save(&secret, &public)?;
    let p = key.public();
    writeln!(out, "New issuer key \"{name}\"")?;
    writeln!(out, "  key id:      {}", p.key_id())?;
    writeln!(out, "  fingerprint: {}", p.fingerprint())?;
    writeln!(out, "  public key:  {p}")?;
    writeln!(
        out,
        "  secret:      {} (mode 0600; keep it offline)",
        secret.display()
    )?;
    writeln!(out, "  public file: {}", public.display())?;
    Ok(())
}

fn load_inputs(args: &CardArgs, ctx: &Context) -> Result<(IssuerKey, Roster, Validity)> {
    let key = IssuerKey::load(&args.key)?;
    if key.public().is_demo() {
        tracing::warn!(
            "signing with the published DEMO key: these cards only work on kiosks and portals started in demo mode"
        );
    }
    let roster = Roster::load(&args.roster)?;
    let expires_at = match &args.expires {
        Some(d) => cards::end_of_day(d, ctx.now)?,
        None => cards::default_expiry(ctx.now),
    };
    // Verifiers refuse cards valid for longer than this (FORMAT.md); the default expiry, the
    // next June 30, is always within it.
    let max = quickcard::DEFAULT_MAX_CARD_LIFETIME_SECS;
    if expires_at.saturating_sub(ctx.now) > max {
        bail!(
            "--expires {}: cards may be valid for at most {} days from today ({}); \
             kiosks and portals refuse longer ones",
            quickcard::time::format_date(expires_at),
            max / 86_400,
            quickcard::time::format_date(ctx.now + max)
        );
    }
    Ok((
        key,
        roster,
        Validity {
            issued_at: ctx.now,
            expires_at,
            second_factor: args.second_factor,
        },
    ))
}

fn print(
    args: &CardArgs,
    sel: &Selection,
    layout: LayoutKind,
    file: &Path,
    ctx: &Context,
    out: &mut dyn Write,
) -> Result<()> {
    let (key, roster, validity) = load_inputs(args, ctx)?;
    let groups = cards::plan(&roster, sel)?;
    let issued = cards::issue(&groups, &key, &validity)?;
    let total: usize = issued.iter().map(|g| g.faces.len()).sum();
    let bar = if ctx.progress && total >= 20 {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cards  {eta} left")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let title = format!(
        "QuickCards — {} ({layout})",
        issued
            .first()
            .map(|g| g.school_name.as_str())
            .unwrap_or("cards")
    );
    let pdf = crate::pdf::render(&issued, &layout.layout(), &title, &bar)?;
    bar.finish_and_clear();
    write_atomic(file, &pdf).with_context(|| format!("cannot write {}", file.display()))?;
    let pages: usize = issued
        .iter()
        .map(|g| g.faces.len().div_ceil(layout.layout().per_page()))
        .sum();
    writeln!(
        out,
        "Wrote {} card{} for {} class group{} on {pages} page{} ({layout}) to {}; valid until {}",
        total,
        if total == 1 { "" } else { "s" },
        issued.len(),
        if issued.len() == 1 { "" } else { "s" },
        if pages == 1 { "" } else { "s" },
        file.display(),
        quickcard::time::format_date(validity.expires_at)
    )?;
    Ok(())
}

fn png(
    args: &CardArgs,
    user: &str,
    class: Option<&str>,
    dpi: u32,
    file: &Path,
    ctx: &Context,
    out: &mut dyn Write,
) -> Result<()> {
    let (key, roster, validity) = load_inputs(args, ctx)?;
    let sel = Selection {
        school: args.school.clone(),
        classes: class.map(|c| vec![c.to_string()]).unwrap_or_default(),
        users: vec![user.to_string()],
        role: None,
    };
    let groups = cards::plan(&roster, &sel)?;
    let (g, p) = groups
        .iter()
        .find_map(|g| g.cards.first().map(|p| (g, p)))
        .ok_or_else(|| anyhow!("no card for user {user}"))?;
    let face = cards::face_for(p, g.class, &key, &validity)?;
    let bytes = crate::png::render(&face, dpi)?;
    write_atomic(file, &bytes).with_context(|| format!("cannot write {}", file.display()))?;
    writeln!(
        out,
        "Wrote the card of {} ({}) to {}; valid until {}",
        face.full_name,
        p.user.id,
        file.display(),
        face.expires
    )?;
    Ok(())
}

fn inspect(
    input: &str,
    trust: &[String],
    demo: bool,
    school: Option<String>,
    ctx: &Context,
    out: &mut dyn Write,
) -> Result<i32> {
    let mut keys = Vec::new();
    for t in trust {
        let p = PublicKey::from_text_or_file(t).with_context(|| format!("--trust {t}"))?;
        keys.push(TrustedKey::new(p, if p.is_demo() { "demo" } else { t }));
    }
    let trust = TrustList::new(keys, demo)?;
    let texts = if input.trim_start().starts_with(quickcard::PREFIX) || !Path::new(input).exists() {
        if !input.trim_start().starts_with(quickcard::PREFIX) && looks_like_path(input) {
            bail!("{input}: no such file");
        }
        vec![input.to_string()]
    } else {
        match crate::inspect::decode_image_file(Path::new(input)) {
            Ok(t) => t,
            Err(e) => {
                writeln!(out, "{e}")?;
                return Ok(EXIT_ERROR);
            }
        }
    };
    let opts = VerifyOptions {
        now: ctx.now,
        skew_secs: 300,
        school,
        ..VerifyOptions::default()
    };
    let mut status = 0;
    for text in texts {
        let report = crate::inspect::inspect_text(&text, &trust, &opts);
        write!(out, "{}", report.describe())?;
        if report.decoded.is_err() {
            status = status.max(EXIT_ERROR);
        } else if matches!(report.verified, Some(Err(_))) {
            status = status.max(EXIT_REFUSED);
        }
    }
    Ok(status)
}

fn looks_like_path(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    s.contains('/')
        || [".png", ".jpg", ".jpeg"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}
