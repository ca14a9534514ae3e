//! The lab kiosk's apps launcher (`[launcher] run_as`): the real kiosk side
//! (`platform::apps::AppsLauncher`, behind the `Launcher` trait) talking to the real session
//! helper (`quickcard-kiosk app-session`, this package's binary) over a Unix socket. systemd's
//! part (quickcard-apps.socket, `Accept=yes`, `User=`) is played by a small accept loop here
//! that starts the helper per connection with the connection as its stdin and stdout, as the
//! apps user when the test runs as root. The "browser" is a shell script that behaves like one
//! for what matters here: it writes cookies into the profile folder it is given, looks for what
//! an earlier child left, tries to read the kiosk's credential, leaves a process behind outside
//! its process group, and keeps running until it is stopped.

mod kiosk_support;

use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use quickcard::Role;
use quickcard_kiosk::app::KioskApp;
use quickcard_kiosk::app::driver::{Kiosk, Services};
use quickcard_kiosk::app::ports::Launcher;
use quickcard_kiosk::config::AppsConfig;
use quickcard_kiosk::platform::apps::{
    AppsLauncher, Reply, effective_uid, grant_display, user_ids, user_name,
};

use kiosk_support::*;

/// The stand-in browser: `browser PROFILE URL`. Everything it learns goes into the profile
/// (the test reads it there before sign-out).
const BROWSER: &str = r#"#!/bin/sh
profile="$1"; url="$2"
n=$(ls "$profile"/opened-* 2>/dev/null | wc -l)
# What an earlier app of this session or an earlier child left in this profile.
ls -A "$profile" > "$profile/found-at-start-$n"
printf '%s\n' "$url" >> "$profile/Cookies"
id -u > "$profile/uid"
env > "$profile/env-$n"
if cat "$CREDENTIAL_TO_STEAL" > "$profile/stolen" 2>/dev/null; then echo yes; else echo no; fi > "$profile/credential-readable"
if [ -n "$WAYLAND_DISPLAY" ] && [ -w "$WAYLAND_DISPLAY" ]; then echo yes; else echo no; fi > "$profile/display-writable"
if ls "$(dirname "${WAYLAND_DISPLAY:-/nonexistent/x}")" >/dev/null 2>&1; then echo yes; else echo no; fi > "$profile/display-folder-listable"
# A helper process that leaves the browser's process group (as some browsers' do).
setsid sleep 600 </dev/null >/dev/null 2>&1 &
echo $! > "$profile/escaped-pid-$n"
echo $$ > "$profile/opened-$n"
exec sleep 600
"#;

/// A folder for one test, enterable (not listable) by other users so the apps user can run
/// the stand-in browser from it.
struct World {
    dir: tempfile::TempDir,
    socket: PathBuf,
    root: PathBuf,
    browser: PathBuf,
    credential: PathBuf,
    helpers: Arc<Mutex<Vec<std::process::Child>>>,
}

impl World {
    /// `as_user`: run the helper as this `(uid, gid)` (needs root), else as ourselves.
    fn new(as_user: Option<(u32, u32)>) -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let browser = bin.join("browser");
        std::fs::write(&browser, BROWSER).unwrap();
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The kiosk's credential as the package leaves it: its folder 0700, the file 0600,
        // both the kiosk's (here: the test's own user).
        let etc = dir.path().join("etc-quickcard-kiosk");
        std::fs::create_dir(&etc).unwrap();
        std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o700)).unwrap();
        let credential = etc.join("credential");
        std::fs::write(&credential, "qck_the-kiosk-credential\n").unwrap();
        std::fs::set_permissions(&credential, std::fs::Permissions::from_mode(0o600)).unwrap();
        // The profile root as systemd's RuntimeDirectory= makes it: the apps user's, 0700.
        let root = dir.path().join("apps");
        std::fs::create_dir(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
        if let Some((uid, gid)) = as_user {
            std::os::unix::fs::chown(&root, Some(uid), Some(gid)).unwrap();
        }

        // quickcard-apps.socket with Accept=yes: one helper per connection, the connection
        // as its stdin and stdout, started as the apps user (User=).
        let socket = dir.path().join("apps.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let helpers: Arc<Mutex<Vec<std::process::Child>>> = Arc::default();
        let started = helpers.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let input: OwnedFd = conn.try_clone().unwrap().into();
                let output: OwnedFd = conn.into();
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickcard-kiosk"));
                cmd.arg("app-session")
                    .stdin(Stdio::from(input))
                    .stdout(Stdio::from(output));
                if let Some((uid, gid)) = as_user {
                    cmd.uid(uid).gid(gid);
                }
                started.lock().unwrap().push(cmd.spawn().unwrap());
            }
        });
        World {
            dir,
            socket,
            root,
            browser,
            credential,
            helpers,
        }
    }

    fn config(&self, run_as: &str) -> AppsConfig {
        AppsConfig {
            command: vec![
                self.browser.display().to_string(),
                "{profile}".into(),
                "{url}".into(),
            ],
            run_as: run_as.into(),
            socket: self.socket.clone(),
            profile_root: self.root.clone(),
        }
    }

    /// The browser's environment as the kiosk passes it: a display and the file to try.
    fn launcher(&self, run_as: &str, display: Option<&Path>) -> AppsLauncher {
        let mut env = vec![
            ("LANG".to_string(), "C.UTF-8".to_string()),
            (
                "CREDENTIAL_TO_STEAL".to_string(),
                self.credential.display().to_string(),
            ),
        ];
        if let Some(d) = display {
            env.push(("WAYLAND_DISPLAY".into(), d.display().to_string()));
        }
        AppsLauncher::new(self.config(run_as), env)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for mut h in self.helpers.lock().unwrap().drain(..) {
            let _ = h.kill();
            let _ = h.wait();
        }
    }
}

fn wait_for_file(path: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.is_empty()
        {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} did not appear",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process runs (a zombie waiting for its parent does not count).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| !r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

fn pid_in(path: &Path) -> u32 {
    wait_for_file(path).trim().parse().unwrap()
}

fn current_user() -> String {
    user_name(effective_uid().unwrap())
}

#[test]
fn each_session_gets_a_fresh_profile_that_is_wiped_with_its_processes_at_sign_out() {
    let world = World::new(None);
    let me = current_user();
    let launcher = world.launcher(&me, None);

    // First child: two apps, one profile.
    launcher
        .open("https://apps.example/reading?once=1")
        .unwrap();
    let first = launcher.profile().expect("a session started");
    assert!(first.starts_with(&world.root), "{}", first.display());
    assert_eq!(
        std::fs::metadata(&first).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let browser_1 = pid_in(&first.join("opened-0"));
    let escaped_1 = pid_in(&first.join("escaped-pid-0"));
    let found = wait_for_file(&first.join("found-at-start-0"));
    let mut found: Vec<&str> = found.lines().collect();
    found.sort();
    assert_eq!(
        found,
        [
            ".cache",
            ".config",
            ".local",
            ".run",
            ".tmp",
            "found-at-start-0"
        ],
        "a new profile holds only its empty folders"
    );
    launcher.open("https://apps.example/math?once=2").unwrap();
    assert_eq!(launcher.profile().as_deref(), Some(first.as_path()));
    let browser_2 = pid_in(&first.join("opened-1"));
    assert!(
        wait_for_file(&first.join("found-at-start-1")).contains("Cookies"),
        "the second app of the same child shares the first one's profile"
    );
    let env = wait_for_file(&first.join("env-0"));
    assert!(env.contains(&format!("HOME={}", first.display())), "{env}");
    assert!(env.contains(&format!("XDG_CONFIG_HOME={}/.config", first.display())));
    assert!(env.contains("LANG=C.UTF-8"));
    assert!(!env.contains("CREDENTIALS_DIRECTORY"), "{env}");
    assert!(!env.contains("QUICKCARD_KIOSK_CONFIG"), "{env}");
    for pid in [browser_1, browser_2, escaped_1] {
        assert!(alive(pid), "pid {pid}");
    }

    // A profile left by a crashed session is cleaned up; the running one is not touched.
    let stale = world.root.join("session-crashed");
    std::fs::create_dir_all(stale.join("Default")).unwrap();
    std::fs::write(stale.join("Default/Cookies"), "someone else's").unwrap();
    assert_eq!(launcher.clean_leftovers().unwrap(), 1);
    assert!(!stale.exists());
    assert!(first.join("Cookies").exists());

    // Sign-out (what Kiosk::sign_out calls): every process of the session stops, also the
    // one outside the browser's process group, and the profile is gone.
    launcher.end_session();
    let ended = launcher.wait_ended();
    assert_eq!(ended.len(), 1);
    match &ended[0] {
        Ok(Reply::Ended {
            profile,
            wiped,
            killed,
        }) => {
            assert_eq!(profile, &first);
            assert!(wiped);
            assert!(*killed >= 3, "{killed}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!first.exists(), "the profile survived sign-out");
    for pid in [browser_1, browser_2, escaped_1] {
        assert!(!alive(pid), "pid {pid} survived sign-out");
    }
    assert!(launcher.profile().is_none());

    // The next child: another, empty profile; nothing of the first child's.
    launcher
        .open("https://apps.example/reading?once=3")
        .unwrap();
    let second = launcher.profile().unwrap();
    assert_ne!(second, first);
    let found = wait_for_file(&second.join("found-at-start-0"));
    assert!(!found.contains("Cookies"), "{found}");
    assert_eq!(
        std::fs::read_to_string(second.join("Cookies")).unwrap(),
        "https://apps.example/reading?once=3\n"
    );
    let browser_3 = pid_in(&second.join("opened-0"));
    // The kiosk exiting (or crashing) closes the connection: the helper ends the session too.
    drop(launcher);
    let start = Instant::now();
    let left = || -> Vec<_> {
        std::fs::read_dir(&world.root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect()
    };
    while second.exists() || alive(browser_3) || !left().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the session outlived its kiosk: {:?}",
            left()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_helper_running_as_another_user_than_run_as_is_refused() {
    let world = World::new(None);
    let launcher = world.launcher("quickcard-nobody-else", None);
    let e = launcher
        .open("https://apps.example/reading?once=1")
        .unwrap_err();
    assert!(e.contains("run_as"), "{e}");
    assert!(launcher.profile().is_none());
    assert_eq!(std::fs::read_dir(&world.root).unwrap().count(), 0);
    // Non-web URLs never reach the helper.
    let launcher = world.launcher(&current_user(), None);
    assert!(launcher.open("file:///etc/shadow").is_err());
    assert!(launcher.profile().is_none());
}

#[test]
fn signing_out_of_the_kiosk_wipes_the_apps_profile() {
    // The kiosk's own sign-out button, through the real state machine and screens.
    let world = World::new(None);
    let launcher = Arc::new(world.launcher(&current_user(), None));
    let rig = Rig::new();
    let services = Services {
        launcher: Box::new(launcher.clone()),
        ..rig.services()
    };
    let kiosk = Kiosk::new(rig.settings(), services);
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(
            |ui, app: &mut KioskApp| app.show(ui),
            KioskApp::new(kiosk, true),
        );
    h.run();
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    h.step();
    h.step();
    assert_eq!(h.state().kiosk().screen().name(), "dashboard");
    h.step();
    h.get_by_label("Reading").click();
    h.step();
    h.step();
    let profile = launcher.profile().expect("the tile started an app session");
    assert_eq!(
        wait_for_file(&profile.join("Cookies")),
        "https://apps.example/reading?once=abc\n"
    );
    let browser = pid_in(&profile.join("opened-0"));
    h.get_by_label("Sign out").click();
    h.step();
    h.step();
    assert_eq!(h.state().kiosk().screen().name(), "signed-out");
    let ended = launcher.wait_ended();
    assert!(
        matches!(ended.as_slice(), [Ok(Reply::Ended { wiped: true, .. })]),
        "{ended:?}"
    );
    assert!(!profile.exists());
    assert!(!alive(browser));
}

/// The apps user (made here like the package's postinst does when it is missing).
fn apps_user() -> (u32, u32) {
    if user_ids("quickcard-apps").is_none() {
        let ok = Command::new("useradd")
            .args([
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "quickcard-apps",
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok || user_ids("quickcard-apps").is_some(), "useradd failed");
    }
    user_ids("quickcard-apps").unwrap()
}

#[test]
fn apps_run_as_the_apps_user_reach_the_display_and_cannot_read_the_credential() {
    if effective_uid() != Some(0) {
        eprintln!("skipped: switching to the apps user needs root (CI runs as root)");
        return;
    }
    let (uid, gid) = apps_user();
    let world = World::new(Some((uid, gid)));
    // The compositor's socket in a folder of its own, as cage makes it with
    // XDG_RUNTIME_DIR=/run/quickcard-kiosk; the kiosk shares it with the apps user.
    let runtime = world.dir.path().join("run-quickcard-kiosk");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(runtime.join("other-file"), "not for apps").unwrap();
    let display = runtime.join("wayland-0");
    let _compositor = UnixListener::bind(&display).unwrap();
    std::fs::set_permissions(&display, std::fs::Permissions::from_mode(0o755)).unwrap();
    grant_display(&display, "quickcard-apps").unwrap();
    let meta = std::fs::metadata(&runtime).unwrap();
    assert_eq!((meta.mode() & 0o777, meta.gid()), (0o710, gid));
    let meta = std::fs::symlink_metadata(&display).unwrap();
    assert_eq!((meta.mode() & 0o777, meta.gid()), (0o660, gid));
    // A login's runtime folder is never opened up.
    assert!(grant_display(Path::new("/run/user/1000/wayland-0"), "quickcard-apps").is_err());

    let launcher = world.launcher("quickcard-apps", Some(&display));
    launcher
        .open("https://apps.example/reading?once=1")
        .unwrap();
    let profile = launcher.profile().unwrap();
    assert_eq!(wait_for_file(&profile.join("uid")).trim(), uid.to_string());
    let meta = std::fs::metadata(&profile).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (uid, 0o700));
    assert_eq!(
        wait_for_file(&profile.join("credential-readable")).trim(),
        "no",
        "the apps user read the kiosk credential"
    );
    assert!(
        !profile.join("stolen").exists()
            || std::fs::read(profile.join("stolen")).unwrap().is_empty()
    );
    assert_eq!(
        wait_for_file(&profile.join("display-writable")).trim(),
        "yes"
    );
    assert_eq!(
        wait_for_file(&profile.join("display-folder-listable")).trim(),
        "no"
    );
    let escaped = pid_in(&profile.join("escaped-pid-0"));
    assert_eq!(
        std::fs::metadata(format!("/proc/{escaped}")).unwrap().uid(),
        uid
    );

    // A helper started as the apps user cannot be talked into another run_as either.
    let wrong = world.launcher(&current_user(), None);
    assert!(wrong.open("https://apps.example/x").is_err());

    let ended = launcher.end_and_wait().unwrap();
    assert!(
        matches!(ended, Some(Reply::Ended { wiped: true, .. })),
        "{ended:?}"
    );
    assert!(!profile.exists());
    assert!(!alive(escaped));
    let mut out = std::io::stderr();
    let _ = writeln!(
        out,
        "apps ran as uid {uid}; profile {} wiped",
        profile.display()
    );
}

#[test]
fn check_config_takes_the_credential_from_systemds_credentials_directory() {
    // As quickcard-kiosk.service runs it: LoadCredential= put the credential into
    // $CREDENTIALS_DIRECTORY; the copy in the config folder is only the empty placeholder.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        "portal_url = \"https://portal.example\"\n\
         [launcher]\n\
         command = [\"chromium\", \"--user-data-dir={profile}\", \"{url}\"]\n\
         run_as = \"quickcard-apps\"\n\
         [enrolment]\n\
         kiosk_id = \"kio-1\"\n\
         credential_file = \"credential\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("credential"), "").unwrap();
    for f in ["kiosk.toml", "credential"] {
        std::fs::set_permissions(dir.path().join(f), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    let creds = dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("credential"), "qck_from-systemd\n").unwrap();
    let run = |creds: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickcard-kiosk"));
        cmd.arg("check-config")
            .arg("--config")
            .arg(&config)
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("QUICKCARD_KIOSK_CONFIG");
        if let Some(c) = creds {
            cmd.env("CREDENTIALS_DIRECTORY", c);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let out = run(Some(&creds));
    assert!(out.contains("enrolled as   kio-1"), "{out}");
    assert!(
        out.contains(&format!(
            "credential    {}/credential (from systemd, LoadCredential=)",
            creds.display()
        )),
        "{out}"
    );
    assert!(out.contains("as quickcard-apps"), "{out}");
    assert!(!out.contains("warning: launcher"), "{out}");
    assert!(!out.contains("open to other users"), "{out}");
    // Without systemd's copy the placeholder says: not enrolled.
    let out = run(None);
    assert!(
        out.contains("warning: kiosk kio-1: the kiosk is not enrolled"),
        "{out}"
    );

    // The old plain launcher and a credential others can read are pointed out.
    std::fs::write(
        &config,
        std::fs::read_to_string(&config).unwrap().replace(
            "[launcher]\ncommand = [\"chromium\", \"--user-data-dir={profile}\", \"{url}\"]\nrun_as = \"quickcard-apps\"\n",
            "launcher = [\"xdg-open\", \"{url}\"]\n",
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        creds.join("credential"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::write(dir.path().join("credential"), "qck_in-etc\n").unwrap();
    std::fs::set_permissions(
        dir.path().join("credential"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = run(None);
    assert!(
        out.contains("warning: launcher: apps run as the kiosk user"),
        "{out}"
    );
    assert!(out.contains("is open to other users (mode 644)"), "{out}");
}
