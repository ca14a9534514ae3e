//! Each child's apps as a separate, unprivileged user with a throw-away profile.
//!
//! The kiosk user can read the kiosk's credential and config; a browser started as that user
//! could too, and its profile (cookies, saved logins, history) would greet the next child. So
//! on a lab machine the kiosk does not start the browser itself. It connects to
//! `quickcard-apps.socket` (a systemd socket owned by the kiosk user, mode 0600); systemd
//! starts one `quickcard-apps@.service` per connection, as the apps user (`User=`), running
//! `quickcard-kiosk app-session`, the [`serve`] side of this module. That helper makes a fresh
//! profile folder, starts the browser in it as often as the child opens an app, and when the
//! connection ends (sign-out, idle sign-out, the kiosk exiting or crashing) stops every process
//! it started and deletes the folder. systemd switches the user, so neither a setuid helper nor
//! a sudo rule is needed, and the kiosk keeps `NoNewPrivileges=yes`.
//!
//! The protocol is one JSON object per line: the kiosk sends [`Request`]s, the helper answers
//! each with one [`Reply`]. [`AppsLauncher`] is the kiosk's side, behind the
//! [`Launcher`] trait.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::app::ports::Launcher;
use crate::config::AppsConfig;

/// Set on every process of a session, so that the end of a session finds processes that left
/// the browser's process group too.
pub const SESSION_ENV: &str = "QUICKCARD_APPS_SESSION";

/// How long the helper lets the browser close before it is killed.
pub const TERM_GRACE: Duration = Duration::from_secs(2);

/// What the kiosk asks of the session helper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Start a session: a fresh profile under `profile_root`; must come first.
    Start(StartRequest),
    /// Open one app's launch URL in the session's browser.
    Open { url: String },
    /// End the session: stop its processes, delete its profile. Closing the connection does
    /// the same.
    End,
    /// Delete profiles that no running session holds (left behind by a crash); nothing else.
    Clean {
        run_as: String,
        profile_root: PathBuf,
    },
}

/// The session's settings, from the kiosk's `[launcher]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The user the helper must be running as (else it refuses).
    pub run_as: String,
    pub profile_root: PathBuf,
    /// The browser command; `{url}` and `{profile}` are filled in.
    pub command: Vec<String>,
    /// Passed to the browser (the display, the language); nothing else of the kiosk's
    /// environment is.
    pub env: Vec<(String, String)>,
}

/// The helper's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    Ready {
        user: String,
        uid: u32,
        profile: PathBuf,
    },
    Opened {
        pid: u32,
    },
    Ended {
        profile: PathBuf,
        wiped: bool,
        killed: usize,
    },
    Cleaned {
        removed: usize,
    },
    Error {
        message: String,
    },
}

// --- users ------------------------------------------------------------------------------------

/// This process's effective user id (from /proc: the standard library has no getuid, and the
/// workspace forbids `unsafe`).
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// `(name, uid, gid)` of each line of /etc/passwd. The kiosk's users are system users made by
/// the package's postinst, which are always there (no NSS lookup needed).
fn passwd() -> Vec<(String, u32, u32)> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?.to_string();
            let _pw = f.next()?;
            let uid = f.next()?.parse().ok()?;
            let gid = f.next()?.parse().ok()?;
            Some((name, uid, gid))
        })
        .collect()
}

/// A user's uid and primary gid.
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    passwd()
        .into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, u, g)| (u, g))
}

/// A uid's user name (`uid N` when it has none).
pub fn user_name(uid: u32) -> String {
    passwd()
        .into_iter()
        .find(|(_, u, _)| *u == uid)
        .map(|(n, _, _)| n)
        .unwrap_or_else(|| format!("uid {uid}"))
}

// --- the kiosk's side -------------------------------------------------------------------------

/// The environment the browser gets from the kiosk: the Wayland display as an absolute path
/// (the apps user has its own XDG_RUNTIME_DIR), X11's display, the language and time zone.
pub fn browser_env_from(vars: impl Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(socket) = wayland_socket_from(&vars) {
        env.push(("WAYLAND_DISPLAY".into(), socket.display().to_string()));
    }
    for key in [
        "DISPLAY",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "TZ",
        "XDG_SESSION_TYPE",
    ] {
        if let Some(v) = vars(key) {
            env.push((key.into(), v));
        }
    }
    env
}

/// The compositor's socket: `$WAYLAND_DISPLAY`, relative to `$XDG_RUNTIME_DIR` unless absolute.
fn wayland_socket_from(vars: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let display = vars("WAYLAND_DISPLAY").filter(|d| !d.is_empty())?;
    let display = PathBuf::from(display);
    if display.is_absolute() {
        return Some(display);
    }
    Some(PathBuf::from(vars("XDG_RUNTIME_DIR")?).join(display))
}

/// Lets `run_as` connect to the kiosk's Wayland compositor, and nothing else of the kiosk's:
/// the socket's folder becomes group `run_as`'s primary group with mode 0710 (enter, not list)
/// and the socket 0660. The kiosk unit runs cage with XDG_RUNTIME_DIR=/run/quickcard-kiosk, a
/// folder that holds only the compositor's socket; a login's /run/user/UID (session bus,
/// audio, …) is refused. The kiosk user must be in that group (the unit's
/// `SupplementaryGroups=`), or changing the group fails. Returns the socket.
pub fn grant_display(socket: &Path, run_as: &str) -> Result<PathBuf, String> {
    let dir = socket
        .parent()
        .ok_or_else(|| format!("{}: no folder", socket.display()))?;
    if dir.starts_with("/run/user") {
        return Err(format!(
            "the display {} is in a login's runtime folder, which the apps user must not enter; \
             start cage with XDG_RUNTIME_DIR=/run/quickcard-kiosk (as quickcard-kiosk.service does)",
            socket.display()
        ));
    }
    let (_, gid) =
        user_ids(run_as).ok_or_else(|| format!("run_as: no user {run_as:?} on this machine"))?;
    let set = |p: &Path, mode: u32| -> Result<(), String> {
        std::os::unix::fs::chown(p, None, Some(gid))
            .and_then(|()| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)))
            .map_err(|e| format!("cannot share {} with {run_as}: {e}", p.display()))
    };
    set(dir, 0o710)?;
    set(socket, 0o660)?;
    Ok(socket.to_path_buf())
}

/// [`grant_display`] for this process's display, if it has a Wayland one.
pub fn grant_own_display(run_as: &str) -> Result<Option<PathBuf>, String> {
    match wayland_socket_from(&|k: &str| std::env::var(k).ok()) {
        Some(socket) => grant_display(&socket, run_as).map(Some),
        None => Ok(None),
    }
}

/// One session's connection to the helper.
#[derive(Debug)]
struct Conn {
    stream: UnixStream,
    reader: BufReader<UnixStream>,
    profile: PathBuf,
}

impl Conn {
    fn ask(&mut self, req: &Request) -> Result<Reply, String> {
        send(&mut self.stream, req)?;
        receive(&mut self.reader)
    }
}

fn send(stream: &mut UnixStream, req: &Request) -> Result<(), String> {
    let mut line = serde_json::to_string(req).map_err(|e| e.to_string())?;
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .map_err(|e| format!("the app session helper went away: {e}"))
}

fn receive(reader: &mut BufReader<UnixStream>) -> Result<Reply, String> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => Err("the app session helper closed the connection".into()),
        Ok(_) => match serde_json::from_str(&line) {
            Ok(Reply::Error { message }) => Err(format!("app session: {message}")),
            Ok(r) => Ok(r),
            Err(e) => Err(format!("app session: unreadable answer ({e})")),
        },
        Err(e) => Err(format!("app session: no answer ({e})")),
    }
}

/// Opens apps through the session helper (see the module documentation): as `run_as`, in a
/// fresh profile per session, wiped at [`Launcher::end_session`].
#[derive(Debug)]
pub struct AppsLauncher {
    cfg: AppsConfig,
    env: Vec<(String, String)>,
    timeout: Duration,
    current: Mutex<Option<Conn>>,
    /// Ends still running in the background (joined by [`AppsLauncher::wait_ended`]).
    ending: Mutex<Vec<std::thread::JoinHandle<Result<Reply, String>>>>,
}

impl AppsLauncher {
    /// `env`: what the browser gets from the kiosk ([`browser_env_from`]).
    pub fn new(cfg: AppsConfig, env: Vec<(String, String)>) -> AppsLauncher {
        AppsLauncher {
            cfg,
            env,
            timeout: Duration::from_secs(10),
            current: Mutex::new(None),
            ending: Mutex::new(Vec::new()),
        }
    }

    fn connect(&self) -> Result<UnixStream, String> {
        let stream = UnixStream::connect(&self.cfg.socket).map_err(|e| {
            format!(
                "cannot reach the app session helper at {}: {e} (is quickcard-apps.socket running?)",
                self.cfg.socket.display()
            )
        })?;
        stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .map_err(|e| e.to_string())?;
        Ok(stream)
    }

    fn start(&self) -> Result<Conn, String> {
        let stream = self.connect()?;
        let reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        let mut conn = Conn {
            stream,
            reader,
            profile: PathBuf::new(),
        };
        let reply = conn.ask(&Request::Start(StartRequest {
            run_as: self.cfg.run_as.clone(),
            profile_root: self.cfg.profile_root.clone(),
            command: self.cfg.command.clone(),
            env: self.env.clone(),
        }))?;
        match reply {
            // The helper checks this too; checked here as well so that a helper started as
            // the wrong user (a unit edited by hand) is never used.
            Reply::Ready { user, profile, .. } if user == self.cfg.run_as => {
                conn.profile = profile;
                Ok(conn)
            }
            Reply::Ready { user, .. } => Err(format!(
                "the app session helper runs as {user}, not as {} (run_as); refusing to launch",
                self.cfg.run_as
            )),
            other => Err(format!("app session: unexpected answer {other:?}")),
        }
    }

    /// The running session's profile folder, if a session has started.
    pub fn profile(&self) -> Option<PathBuf> {
        let cur = self.current.lock().ok()?;
        cur.as_ref().map(|c| c.profile.clone())
    }

    /// Deletes profiles that no running session holds (after a crash or power cut); called
    /// once at kiosk start. Returns how many were deleted.
    pub fn clean_leftovers(&self) -> Result<usize, String> {
        let mut stream = self.connect()?;
        let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        send(
            &mut stream,
            &Request::Clean {
                run_as: self.cfg.run_as.clone(),
                profile_root: self.cfg.profile_root.clone(),
            },
        )?;
        match receive(&mut reader)? {
            Reply::Cleaned { removed } => Ok(removed),
            other => Err(format!("app session: unexpected answer {other:?}")),
        }
    }

    /// Ends the session and waits until its processes are gone and its profile is deleted.
    /// `Ok(None)`: there was no session.
    pub fn end_and_wait(&self) -> Result<Option<Reply>, String> {
        let conn = self.current.lock().map_err(|e| e.to_string())?.take();
        conn.map(end_conn).transpose()
    }

    /// Waits for ends started by [`Launcher::end_session`] (tests; the kiosk never waits).
    pub fn wait_ended(&self) -> Vec<Result<Reply, String>> {
        let handles = std::mem::take(&mut *self.ending.lock().unwrap_or_else(|e| e.into_inner()));
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())))
            .collect()
    }
}

fn end_conn(mut conn: Conn) -> Result<Reply, String> {
    // Killing a browser and deleting its profile can take a moment: more time than a launch.
    let _ = conn.stream.set_read_timeout(Some(Duration::from_secs(30)));
    match conn.ask(&Request::End)? {
        r @ Reply::Ended { .. } => Ok(r),
        other => Err(format!("app session: unexpected answer {other:?}")),
    }
}

/// A launch URL as the helper accepts it: http(s), printable, no spaces.
fn check_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!(
            "refusing to open a non-web URL ({} chars)",
            url.len()
        ));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("refusing a URL with spaces or control characters".into());
    }
    Ok(())
}

impl Launcher for AppsLauncher {
    fn open(&self, url: &str) -> Result<(), String> {
        check_url(url)?;
        let mut cur = self.current.lock().map_err(|e| e.to_string())?;
        // A helper that went away (stopped by hand, crashed) is replaced by a fresh session.
        for attempt in 0..2 {
            if cur.is_none() {
                *cur = Some(self.start()?);
            }
            let conn = cur.as_mut().ok_or("no session")?;
            match conn.ask(&Request::Open {
                url: url.to_string(),
            }) {
                Ok(Reply::Opened { pid }) => {
                    tracing::info!(
                        "app opened as {} (pid {pid}, profile {})",
                        self.cfg.run_as,
                        conn.profile.display()
                    );
                    return Ok(());
                }
                Ok(other) => return Err(format!("app session: unexpected answer {other:?}")),
                Err(e) if attempt == 0 && (e.contains("went away") || e.contains("closed")) => {
                    tracing::warn!("{e}; starting a new app session");
                    *cur = None;
                }
                Err(e) => return Err(e),
            }
        }
        Err("the app session helper keeps going away".into())
    }

    fn end_session(&self) {
        let conn = match self.current.lock() {
            Ok(mut cur) => cur.take(),
            Err(_) => None,
        };
        let Some(conn) = conn else { return };
        // Off the UI thread: the "Bye!" screen shows while the browser is stopped and its
        // profile deleted. Should the kiosk exit first, the helper sees the connection close
        // and does the same.
        let handle = std::thread::spawn(move || {
            let r = end_conn(conn);
            match &r {
                Ok(Reply::Ended {
                    profile,
                    wiped,
                    killed,
                }) => tracing::info!(
                    "app session ended: {killed} processes stopped, profile {} {}",
                    profile.display(),
                    if *wiped { "deleted" } else { "NOT deleted" }
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!("ending the app session: {e}"),
            }
            r
        });
        if let Ok(mut ending) = self.ending.lock() {
            ending.retain(|h| !h.is_finished());
            ending.push(handle);
        }
    }
}

mod helper;
pub use helper::serve;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_gets_an_absolute_display_and_nothing_else_of_the_kiosk() {
        let vars = |k: &str| match k {
            "WAYLAND_DISPLAY" => Some("wayland-0".to_string()),
            "XDG_RUNTIME_DIR" => Some("/run/quickcard-kiosk".to_string()),
            "LANG" => Some("es_US.UTF-8".to_string()),
            "CREDENTIALS_DIRECTORY" => Some("/run/credentials/quickcard-kiosk.service".into()),
            _ => None,
        };
        assert_eq!(
            browser_env_from(vars),
            vec![
                (
                    "WAYLAND_DISPLAY".to_string(),
                    "/run/quickcard-kiosk/wayland-0".to_string()
                ),
                ("LANG".to_string(), "es_US.UTF-8".to_string()),
            ]
        );
    }

    #[test]
    fn urls_with_spaces_or_other_schemes_are_refused() {
        assert!(check_url("https://a.example/x?y=1").is_ok());
        assert!(check_url("file:///etc/quickcard/kiosk/credential").is_err());
        assert!(check_url("https://a.example/ --user-data-dir=/tmp").is_err());
        assert!(check_url("https://a.example/\nx").is_err());
    }

    #[test]
    fn requests_and_replies_are_single_json_lines() {
        let r = Request::Open {
            url: "https://a.example/".into(),
        };
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(line, r#"{"open":{"url":"https://a.example/"}}"#);
        assert_eq!(serde_json::to_string(&Request::End).unwrap(), r#""end""#);
        let back: Request = serde_json::from_str(&line).unwrap();
        assert_eq!(back, r);
    }
}
