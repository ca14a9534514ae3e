//! Native start-up: read the config (or start the demo), choose the platform parts once, open
//! the full-screen window.
//!
//! With no config file the kiosk starts the **demo**: the portal runs in this process on a
//! loopback port (in-memory SQLite, the sample roster, the demo key, an enrolled demo kiosk),
//! and the camera is used when there is one, otherwise the sample photos are replayed. With a
//! config file the kiosk talks to the configured portal, never trusts the demo key, and runs
//! full screen without decorations; only the admin PIN closes it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use zeroize::Zeroizing;

use crate::app::KioskApp;
use crate::app::driver::{Kiosk, Services};
use crate::app::i18n::Lang;
use crate::app::ports::{Camera, CameraEvent, Launcher, Repaint, Storage};
use crate::app::state::Settings;
use crate::config::{self, Config, LauncherConfig};
#[cfg(feature = "demo")]
use crate::platform::MemoryStorage;
use crate::platform::apps::{AppsLauncher, browser_env_from, grant_own_display};
use crate::platform::native::{
    CommandLauncher, FileStorage, SystemClock, ThreadCamera, TokioRuntime,
};
use crate::portal_client::{HttpPortal, RetryPolicy};
use crate::scanner::{FrameSource, ReplaySource};

/// The admin PIN of the demo (there is no config to hold one).
pub const DEMO_ADMIN_PIN: &str = "0000";

/// Options of the kiosk itself (no subcommand).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Config file (default: $QUICKCARD_KIOSK_CONFIG or ~/.config/quickcard/kiosk.toml). When
    /// there is none, the demo starts.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Start the demo even if a config file exists.
    #[arg(long)]
    pub demo: bool,
    /// Replay image files from this folder instead of the camera.
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,
    /// Replay rate, frames per second.
    #[arg(long, default_value_t = 10.0)]
    pub replay_fps: f64,
    /// Run in a normal window (the demo's default) instead of full screen.
    #[arg(long)]
    pub windowed: bool,
    /// Run full screen even in the demo.
    #[arg(long, conflicts_with = "windowed")]
    pub fullscreen: bool,
    /// Language at start (en or es); default from the config.
    #[arg(long)]
    pub lang: Option<Lang>,
    /// Demo without a camera: whose card the replay shows (a sample-roster id). Students with
    /// a card in `sample-cards/photos/` (stu-1001, stu-2005) are shown in those photos; for
    /// others a card is drawn onto them (`tea-…`, `stf-…` and `adm-…` cards ask for the demo
    /// PIN 1234).
    #[arg(long, value_name = "ROSTER_ID", default_value = "stu-1001")]
    pub demo_card: String,
    /// Window size for --windowed, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x800")]
    pub size: String,
}

/// Where the kiosk caches the portal's trust list and revocations: `$QUICKCARD_KIOSK_STATE_DIR`,
/// `$STATE_DIRECTORY` (systemd), `$XDG_STATE_HOME/quickcard-kiosk` or
/// `~/.local/state/quickcard-kiosk`.
pub fn state_dir() -> PathBuf {
    for var in ["QUICKCARD_KIOSK_STATE_DIR", "STATE_DIRECTORY"] {
        if let Some(p) = std::env::var_os(var) {
            return PathBuf::from(p);
        }
    }
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("quickcard-kiosk")
}

/// The browser kiosk's bundle for the demo: `QUICKCARD_WEB_BUNDLE`, else `target/web` of the
/// source tree (what `scripts/build-web.sh` writes), when it is there. The demo runs from its
/// source tree, so it may name it; the packaged kiosk (no `demo` feature) must not.
#[cfg(feature = "demo")]
pub fn demo_web_bundle() -> Option<PathBuf> {
    let dir = std::env::var_os("QUICKCARD_WEB_BUNDLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target")
                .join("web")
        });
    dir.join("index.html").exists().then_some(dir)
}

/// The demo's port, so the browser kiosk's address is the same every time (another free port
/// when it is taken).
#[cfg(feature = "demo")]
pub const DEMO_PORT: u16 = 8470;

/// Starts the embedded demo portal; it also serves the browser kiosk when the bundle is built,
/// and says where to open it.
#[cfg(feature = "demo")]
fn spawn_demo_portal() -> anyhow::Result<DemoPortal> {
    let web = demo_web_bundle();
    let options = |port| quickcard_portal::demo::DemoOptions {
        port,
        config: quickcard_portal::Config {
            web_dir: web.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let dp = quickcard_portal::demo::spawn(options(DEMO_PORT))
        .or_else(|_| quickcard_portal::demo::spawn(options(0)))
        .map_err(|e| anyhow::anyhow!("cannot start the demo portal: {e}"))?;
    match &web {
        Some(_) => eprintln!(
            "The browser kiosk (as on a Chromebook) is served too: open\n  {}/kiosk/?demo=1#credential={}\nin Chrome or Chromium on this machine and allow the camera.",
            dp.url, dp.kiosk_credential
        ),
        None => eprintln!(
            "(The browser kiosk is not built: scripts/build-web.sh builds it, and the demo then serves it.)"
        ),
    }
    Ok(dp)
}

/// Sample photos shipped with the source tree (the demo's replay).
#[cfg(feature = "demo")]
pub fn sample_photos() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-cards")
        .join("photos")
}

/// Opens the frame source: a replay folder, or the camera (index or name).
pub fn open_source(
    replay: Option<&Path>,
    camera: &str,
    fps: f64,
) -> anyhow::Result<Box<dyn FrameSource + Send>> {
    if let Some(dir) = replay {
        let src = ReplaySource::from_paths(&[dir])
            .with_context(|| format!("replay {}", dir.display()))?
            .looping(true)
            .rate(Some(fps));
        return Ok(Box::new(src));
    }
    open_camera(camera)
}

#[cfg(feature = "camera")]
fn open_camera(camera: &str) -> anyhow::Result<Box<dyn FrameSource + Send>> {
    use crate::scanner::camera::{CameraConfig, CameraSource, DeviceChoice};
    Ok(Box::new(CameraSource::start(CameraConfig {
        device: DeviceChoice::parse(camera),
        ..CameraConfig::default()
    })))
}

#[cfg(not(feature = "camera"))]
fn open_camera(_camera: &str) -> anyhow::Result<Box<dyn FrameSource + Send>> {
    anyhow::bail!("this build has no camera support (feature `camera`); use --replay DIR")
}

/// Whether a camera is plugged in now.
#[cfg(feature = "camera")]
pub fn camera_present() -> bool {
    crate::scanner::camera::list_cameras().is_ok_and(|c| !c.is_empty())
}

#[cfg(not(feature = "camera"))]
pub fn camera_present() -> bool {
    false
}

/// The camera-less demo's frames: classroom photos, then photos of `subject`'s sample card
/// from `sample-cards/photos/`. Staff cards ask for the PIN, and so do users the photo set has
/// no usable card of: for them a card is made now and drawn onto the photos instead.
#[cfg(feature = "demo")]
pub fn demo_source(fps: f64, subject: &str) -> anyhow::Result<Box<dyn FrameSource + Send>> {
    use crate::app::ports::Clock;
    use crate::platform::demo_frames::{DEMO_SCHOOL, demo_card, demo_sequence, photo_sequence};
    use quickcard::Role;
    let now = SystemClock::new().unix_secs();
    let role = match subject.split('-').next() {
        Some("tea") => Role::Teacher,
        Some("stf") => Role::Staff,
        Some("adm") => Role::Administrator,
        Some("par") => Role::Parent,
        _ => Role::Student,
    };
    let pin = !matches!(role, Role::Student | Role::Parent);
    if !pin && let Some((_, frames)) = photo_sequence(&sample_photos(), subject, now, 12, 10) {
        let src = ReplaySource::from_frames(frames, "demo replay (sample photos)")?
            .looping(true)
            .rate(Some(fps));
        return Ok(Box::new(src));
    }
    let text = demo_card(subject, role, DEMO_SCHOOL, now, pin);
    let frames = demo_sequence(&sample_photos(), &text, 12, 10);
    let src = ReplaySource::from_frames(frames, "demo replay (sample photos + demo card)")?
        .looping(true)
        .rate(Some(fps));
    Ok(Box::new(src))
}

/// Never called: a build without the demo refuses demo mode before it picks frames.
#[cfg(not(feature = "demo"))]
fn demo_source(_fps: f64, _subject: &str) -> anyhow::Result<Box<dyn FrameSource + Send>> {
    Err(no_demo())
}

/// A camera that only reports why there is none.
#[derive(Debug)]
struct NoCamera(Option<String>);

impl Camera for NoCamera {
    fn poll(&mut self) -> Option<CameraEvent> {
        self.0.take().map(|message| CameraEvent::Failed {
            code: "no_camera",
            message,
            transient: false,
        })
    }
    fn set_active(&mut self, _active: bool) {}
    fn describe(&self) -> String {
        "no camera".into()
    }
}

fn random_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    // Only fails when the OS has no randomness at all; a fixed salt is still a valid hash.
    let _ = getrandom::getrandom(&mut salt);
    salt
}

/// `quickcard-kiosk hash-pin`: an admin PIN hash for the config.
pub fn hash_pin_command(pin: &str) -> anyhow::Result<String> {
    config::hash_pin(pin, &random_salt()).map_err(anyhow::Error::msg)
}

/// `quickcard-kiosk enroll`: trades an enrolment code for the kiosk credential.
pub fn enroll_command(
    portal: &str,
    code: &str,
    name: &str,
    config_path: &Path,
) -> anyhow::Result<Config> {
    // Before anything is sent: the enrolment code is as good as the credential it buys.
    config::check_portal_url(portal).context("--portal")?;
    let rt = TokioRuntime::new()?;
    let client = HttpPortal::new(
        portal,
        Zeroizing::new(String::new()),
        TokioRuntime::sleeper(),
        RetryPolicy::default(),
    )?;
    let reply = rt
        .handle()
        .block_on(client.enroll(code, name))
        .context("enrolment failed")?;
    let cfg = config::save_enrolment(config_path, portal, &reply)?;
    Ok(cfg)
}

/// The embedded demo portal; dropping it stops it.
#[cfg(feature = "demo")]
pub type DemoPortal = quickcard_portal::demo::DemoPortal;
/// A build without the demo has no demo portal.
#[cfg(not(feature = "demo"))]
#[derive(Debug)]
pub enum DemoPortal {}

/// What `prepare` chose between the demo and the config: the portal client, the camera
/// setting, the launcher, the storage and (demo) the embedded portal.
type Chosen = (
    HttpPortal,
    String,
    LauncherConfig,
    Box<dyn Storage>,
    Option<DemoPortal>,
);

/// The demo's portal, launcher and storage: the portal runs in this process.
#[cfg(feature = "demo")]
fn demo_services(settings: &mut Settings) -> anyhow::Result<Chosen> {
    let dp = spawn_demo_portal()?;
    settings.demo = true;
    settings.enrolled = true;
    settings.school_id = Some(dp.school_id.clone());
    settings.portal_url = dp.url.clone();
    settings.admin_pin_hash = Some(crate::config::PinHash::new(hash_pin_command(
        DEMO_ADMIN_PIN,
    )?));
    let portal = HttpPortal::new(
        &dp.url,
        Zeroizing::new(dp.kiosk_credential.clone()),
        TokioRuntime::sleeper(),
        RetryPolicy::default(),
    )?;
    eprintln!(
        "QuickCard demo: portal at {} (school {}), admin PIN {DEMO_ADMIN_PIN}",
        dp.url, dp.school_id
    );
    Ok((
        portal,
        "0".into(),
        // The demo opens apps as whoever runs it, in their own browser.
        LauncherConfig::Command(vec!["xdg-open".into(), "{url}".into()]),
        Box::new(MemoryStorage::default()),
        Some(dp),
    ))
}

#[cfg(not(feature = "demo"))]
fn demo_services(_settings: &mut Settings) -> anyhow::Result<Chosen> {
    Err(no_demo())
}

/// Why a kiosk built without the demo (the Debian package) does not start one.
#[cfg(not(feature = "demo"))]
fn no_demo() -> anyhow::Error {
    anyhow::anyhow!(
        "this kiosk is built without the demo, so it needs a config file (--config FILE, \
         $QUICKCARD_KIOSK_CONFIG or {}): enrol it with \
         `quickcard-kiosk enroll --portal URL --code CODE`",
        config::default_path().display()
    )
}

/// Everything decided at start-up.
pub struct Prepared {
    pub settings: Settings,
    pub services: Services,
    pub locked: bool,
    pub fullscreen: bool,
    /// Keeps the embedded demo portal running.
    pub demo_portal: Option<DemoPortal>,
    pub runtime: Arc<TokioRuntime>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Reads the config or starts the demo, and builds the services. `repaint` wakes the UI.
pub fn prepare(args: &RunArgs, repaint: Repaint) -> anyhow::Result<Prepared> {
    let runtime = Arc::new(TokioRuntime::new().context("cannot start the network runtime")?);
    let explicit = args.config.is_some();
    let config_path = args.config.clone().unwrap_or_else(config::default_path);
    let demo = args.demo || (!explicit && !config_path.exists());
    let mut settings = Settings::default();
    let (portal, camera_setting, launcher, storage, demo_portal): Chosen = if demo {
        tracing::info!("no config at {}: starting the demo", config_path.display());
        demo_services(&mut settings)?
    } else {
        let cfg = Config::load(&config_path)?;
        let credential = match cfg.load_credential(&config_path) {
            Ok(c) => {
                settings.enrolled = true;
                c
            }
            Err(e) => {
                tracing::warn!("{e}");
                Zeroizing::new(String::new())
            }
        };
        settings.lang = cfg.language;
        settings.idle_timeout_ms = cfg.idle_timeout_secs * 1000;
        settings.volume_pct = cfg.sound.volume.percent();
        settings.muted = cfg.sound.muted;
        settings.idle_warning_ms = 15_000.min(cfg.idle_timeout_secs * 500);
        settings.school_id = cfg.school_id.clone();
        settings.trust = cfg.trust.clone();
        settings.admin_pin_hash = cfg.admin_pin_hash.clone();
        settings.portal_url = cfg.portal_url.clone();
        let portal = HttpPortal::new(
            &cfg.portal_url,
            credential,
            TokioRuntime::sleeper(),
            RetryPolicy::default(),
        )?;
        let state_dir = state_dir();
        (
            portal,
            cfg.camera.clone(),
            cfg.launcher.clone(),
            Box::new(FileStorage::new(state_dir)),
            None,
        )
    };
    if let Some(l) = args.lang {
        settings.lang = l;
    }

    // The camera: --replay, a `replay:DIR` setting, the camera, or (demo without a camera)
    // the sample photos with a demo card.
    let replay: Option<PathBuf> = args
        .replay
        .clone()
        .or_else(|| camera_setting.strip_prefix("replay:").map(PathBuf::from));
    let source: anyhow::Result<Box<dyn FrameSource + Send>> = if replay.is_some() {
        open_source(replay.as_deref(), &camera_setting, args.replay_fps)
    } else if demo && !camera_present() {
        Ok(demo_source(args.replay_fps, &args.demo_card)?)
    } else if camera_setting == "none" {
        Err(anyhow::anyhow!(
            "the camera is switched off in the config (camera = \"none\")"
        ))
    } else {
        open_source(None, &camera_setting, args.replay_fps)
    };
    let camera: Box<dyn Camera> = match source {
        Ok(src) => {
            tracing::info!("frames from {}", src.describe());
            Box::new(ThreadCamera::start(src, repaint.clone()))
        }
        Err(e) => Box::new(NoCamera(Some(format!("{e:#}")))),
    };

    let services = Services {
        portal: Box::new(portal),
        runtime: Box::new(runtime.clone()),
        clock: Box::new(SystemClock::new()),
        camera,
        launcher: make_launcher(launcher)?,
        storage,
        repaint,
    };
    let fullscreen = if demo {
        args.fullscreen
    } else {
        !args.windowed
    };
    Ok(Prepared {
        settings,
        services,
        locked: !demo,
        fullscreen,
        demo_portal,
        runtime,
    })
}

/// The launcher the config asks for. With `[launcher] run_as`, the apps user may reach the
/// compositor, and profiles left behind by a crash are deleted (in the background: the
/// session helper may take a moment to start).
fn make_launcher(cfg: LauncherConfig) -> anyhow::Result<Box<dyn Launcher>> {
    match cfg {
        LauncherConfig::Command(argv) => Ok(Box::new(
            CommandLauncher::new(argv).map_err(anyhow::Error::msg)?,
        )),
        LauncherConfig::Apps(apps) => {
            match grant_own_display(&apps.run_as) {
                Ok(Some(socket)) => eprintln!(
                    "apps run as {} on the display {}",
                    apps.run_as,
                    socket.display()
                ),
                Ok(None) => eprintln!("no Wayland display: apps may not be able to show"),
                Err(e) => eprintln!("warning: {e}"),
            }
            let env = browser_env_from(|k| std::env::var(k).ok());
            let launcher = Arc::new(AppsLauncher::new(apps, env));
            let cleaner = launcher.clone();
            std::thread::spawn(move || match cleaner.clean_leftovers() {
                Ok(0) => {}
                Ok(n) => eprintln!("deleted {n} app profiles left behind by an earlier crash"),
                Err(e) => eprintln!("warning: cleaning up app profiles: {e}"),
            });
            Ok(Box::new(launcher))
        }
    }
}

fn parse_size(s: &str) -> (f32, f32) {
    s.split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)))
        .unwrap_or((1280.0, 800.0))
}

/// Runs the kiosk window until it is closed (admin PIN) .
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let (w, h) = parse_size(&args.size);
    // The UI's repaint handle only exists once the window does; frames that arrive before are
    // picked up by the first frames anyway.
    let ctx_slot: Arc<std::sync::OnceLock<eframe::egui::Context>> = Arc::default();
    let repaint: Repaint = {
        let slot = ctx_slot.clone();
        Arc::new(move || {
            if let Some(ctx) = slot.get() {
                ctx.request_repaint();
            }
        })
    };
    let prepared = prepare(&args, repaint)?;
    let mut viewport = eframe::egui::ViewportBuilder::default()
        .with_title("QuickCard kiosk")
        .with_inner_size([w, h])
        .with_min_inner_size([640.0, 480.0]);
    if prepared.fullscreen {
        viewport = viewport.with_fullscreen(true).with_decorations(false);
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let Prepared {
        settings,
        services,
        locked,
        demo_portal,
        runtime,
        ..
    } = prepared;
    let result = eframe::run_native(
        "QuickCard kiosk",
        options,
        Box::new(move |cc| {
            let _ = ctx_slot.set(cc.egui_ctx.clone());
            let mut kiosk = Kiosk::new(settings, services);
            kiosk.set_sound(Box::new(crate::platform::sound::NativeSound::start()));
            Ok(Box::new(KioskApp::new(kiosk, locked)))
        }),
    );
    drop(demo_portal);
    drop(runtime);
    result.map_err(|e| anyhow::anyhow!("the kiosk window failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrolment_refuses_a_plain_http_portal_before_sending_the_code() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk.toml");
        // `.invalid` never resolves: had the code been sent, the error would be the network's.
        let e = enroll_command("http://portal.invalid", "CODE-1", "lab-1", &path).unwrap_err();
        let e = format!("{e:#}");
        assert!(
            e.contains("--portal") && e.contains("use the portal's https:// address"),
            "{e}"
        );
        assert!(!path.exists());
    }

    #[test]
    #[cfg(feature = "demo")]
    fn the_camera_less_demo_replays_the_sample_photos_of_the_chosen_card() {
        // The default demo user has photos of their card in the sample set: 12 classroom
        // frames, 10 card frames, 12 classroom frames.
        let photos = demo_source(10.0, "stu-1001").expect("demo source");
        assert_eq!(
            photos.describe(),
            "replay of demo replay (sample photos) (34 frames)"
        );
        // A PIN card (teacher with a second factor) has no photos: it is drawn onto them.
        let drawn = demo_source(10.0, "tea-lefevre").expect("demo source");
        assert!(
            drawn.describe().contains("demo card"),
            "{}",
            drawn.describe()
        );
    }
}
