//! The helper's side of the apps session (`quickcard-kiosk app-session`), run by systemd as
//! the apps user: a fresh profile per child, the browser started in it, and at the end of the
//! connection every process stopped and the profile deleted.

use super::*;

/// One session as the helper keeps it.
#[derive(Debug)]
pub(super) struct Session {
    id: String,
    profile: PathBuf,
    /// Held (locked) while the session runs; a profile whose lock is free is a leftover.
    _lock: std::fs::File,
    lock_path: PathBuf,
    command: Vec<String>,
    env: Vec<(String, String)>,
    children: Vec<Child>,
    /// Every browser's process group (its first pid), kept after that process exits: a
    /// wrapper may leave the real browser behind in the group.
    groups: Vec<u32>,
}

/// Serves one connection: `input`/`output` are the socket (systemd's `StandardInput=socket`).
/// Returns when the session has ended (its processes stopped, its profile deleted).
pub fn serve(input: impl std::io::Read, mut output: impl Write) -> anyhow::Result<()> {
    let uid = effective_uid().ok_or_else(|| anyhow::anyhow!("cannot tell this process's uid"))?;
    let user = user_name(uid);
    let mut lines = BufReader::new(input).lines();
    let mut session: Option<Session> = None;
    let mut answer = |r: &Reply| -> std::io::Result<()> {
        let mut line = serde_json::to_string(r).map_err(std::io::Error::other)?;
        line.push('\n');
        output.write_all(line.as_bytes())?;
        output.flush()
    };
    // Until the connection ends: the kiosk signed out, exited or crashed; the session ends all
    // the same.
    while let Some(Ok(line)) = lines.next() {
        let req: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                let _ = answer(&Reply::Error {
                    message: format!("unreadable request: {e}"),
                });
                break;
            }
        };
        let reply = match (req, &mut session) {
            (Request::Start(s), None) => match start_session(s, uid, &user) {
                Ok(s) => {
                    let r = Reply::Ready {
                        user: user.clone(),
                        uid,
                        profile: s.profile.clone(),
                    };
                    session = Some(s);
                    r
                }
                Err(message) => Reply::Error { message },
            },
            (Request::Start(_), Some(_)) => Reply::Error {
                message: "a session is already running on this connection".into(),
            },
            (Request::Open { url }, Some(s)) => match open_app(s, &url) {
                Ok(pid) => Reply::Opened { pid },
                Err(message) => Reply::Error { message },
            },
            (Request::Open { .. }, None) => Reply::Error {
                message: "no session: send start first".into(),
            },
            (Request::End, _) => break,
            (
                Request::Clean {
                    run_as,
                    profile_root,
                },
                None,
            ) => match check_user(&run_as, uid, &user)
                .and_then(|()| clean_leftovers(&profile_root, uid))
            {
                Ok(removed) => Reply::Cleaned { removed },
                Err(message) => Reply::Error { message },
            },
            (Request::Clean { .. }, Some(_)) => Reply::Error {
                message: "clean is asked on its own connection".into(),
            },
        };
        if answer(&reply).is_err() {
            break;
        }
    }
    if let Some(s) = session {
        let r = end_session(s);
        let _ = answer(&r);
    }
    Ok(())
}

pub(super) fn check_user(run_as: &str, uid: u32, user: &str) -> Result<(), String> {
    if run_as != user {
        return Err(format!(
            "this helper runs as {user} (uid {uid}), but the kiosk's run_as is {run_as}: \
             fix User= in quickcard-apps@.service or run_as in kiosk.toml"
        ));
    }
    Ok(())
}

pub(super) fn random_id() -> String {
    let mut b = [0u8; 12];
    // Without OS randomness the time and pid still make a name that is not in use (the folder
    // is created exclusively below).
    if getrandom::getrandom(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b[..8].copy_from_slice(&(t as u64).to_le_bytes());
        b[8..].copy_from_slice(&std::process::id().to_le_bytes());
    }
    quickcard::util::hex(&b)
}

/// The profile root: made (0700) when missing; must be this user's and closed to others, so
/// nobody else can look into or plant files in a child's profile.
pub(super) fn prepare_root(root: &Path, uid: u32) -> Result<(), String> {
    if !root.is_absolute() {
        return Err(format!("profile_root {} is not absolute", root.display()));
    }
    match std::fs::create_dir(root) {
        Ok(()) => {
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("{}: {e}", root.display()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot make {}: {e}", root.display())),
    }
    let meta = std::fs::symlink_metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(format!(
            "profile_root {} must be a folder of this user (uid {uid}) with mode 0700",
            root.display()
        ));
    }
    Ok(())
}

pub(super) fn start_session(req: StartRequest, uid: u32, user: &str) -> Result<Session, String> {
    check_user(&req.run_as, uid, user)?;
    if req.command.is_empty() {
        return Err("the browser command is empty".into());
    }
    prepare_root(&req.profile_root, uid)?;
    // Leftovers of sessions that did not end (a crash): gone before a new child starts.
    if let Err(e) = clean_leftovers(&req.profile_root, uid) {
        tracing::warn!("{e}");
    }
    let id = random_id();
    // The lock is taken (under a temporary name) before the profile exists, so a cleaner never
    // sees a live profile without its lock held.
    let lock_path = req.profile_root.join(format!("session-{id}.lock"));
    let tmp_lock = req.profile_root.join(format!(".session-{id}.lock-new"));
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp_lock)
        .map_err(|e| format!("{}: {e}", tmp_lock.display()))?;
    lock.lock().map_err(|e| format!("lock: {e}"))?;
    std::fs::rename(&tmp_lock, &lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    let profile = req.profile_root.join(format!("session-{id}"));
    std::fs::create_dir(&profile).map_err(|e| format!("{}: {e}", profile.display()))?;
    std::fs::set_permissions(&profile, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("{}: {e}", profile.display()))?;
    for sub in [
        ".config",
        ".cache",
        ".local/share",
        ".local/state",
        ".run",
        ".tmp",
    ] {
        let d = profile.join(sub);
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700));
    }
    tracing::info!("app session {id} as {user}: profile {}", profile.display());
    Ok(Session {
        id,
        profile,
        _lock: lock,
        lock_path,
        command: req.command,
        env: req.env,
        children: Vec::new(),
        groups: Vec::new(),
    })
}

/// Starts the browser for `url` in the session: a clean environment (HOME and the XDG folders
/// inside the profile, the display, the language), its own process group.
pub(super) fn open_app(s: &mut Session, url: &str) -> Result<u32, String> {
    check_url(url)?;
    let profile = s.profile.display().to_string();
    let fill = |a: &String| a.replace("{url}", url).replace("{profile}", &profile);
    let argv: Vec<String> = s.command.iter().map(fill).collect();
    let p = &s.profile;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", p)
        .env("XDG_CONFIG_HOME", p.join(".config"))
        .env("XDG_CACHE_HOME", p.join(".cache"))
        .env("XDG_DATA_HOME", p.join(".local/share"))
        .env("XDG_STATE_HOME", p.join(".local/state"))
        .env("XDG_RUNTIME_DIR", p.join(".run"))
        .env("TMPDIR", p.join(".tmp"))
        .env(SESSION_ENV, &s.id)
        .current_dir(p)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0);
    for (k, v) in &s.env {
        if passed_through(k) {
            cmd.env(k, v);
        }
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    let pid = child.id();
    s.children.push(child);
    s.groups.push(pid);
    // Reap browsers that exited already (a second launch handing its URL to the first).
    s.children
        .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
    Ok(pid)
}

/// Whether the kiosk may set `key` for the browser: the display and language, never the
/// folders (they stay the profile's) nor the session's mark.
pub(super) fn passed_through(key: &str) -> bool {
    !matches!(key, "PATH" | "HOME" | "TMPDIR" | SESSION_ENV)
        && (!key.starts_with("XDG_") || key == "XDG_SESSION_TYPE")
}

/// Sends `signal` to process groups or processes (`-PGID` / `PID`) with kill(1): the standard
/// library can only SIGKILL its own children, and `unsafe` is forbidden here.
pub(super) fn signal(signal: &str, targets: &[String]) {
    if targets.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg("-s")
        .arg(signal)
        .arg("--")
        .args(targets)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Live processes (not zombies) whose environment carries this session's mark.
pub(super) fn marked_processes(id: &str) -> Vec<u32> {
    let mark = format!("{SESSION_ENV}={id}");
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
                })
                .unwrap_or(true);
            !zombie
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == mark.as_bytes()))
        })
        .collect()
}

/// Stops every process of the session: SIGTERM to each browser's process group (a browser
/// saves and quits), then SIGKILL to whatever is left, found by process group and by the
/// session's mark. Returns how many processes were still there to be stopped. (Under systemd
/// the unit's cgroup is killed as well when the helper exits.)
pub(super) fn stop_processes(s: &mut Session) -> usize {
    let groups: Vec<String> = s.groups.iter().map(|g| format!("-{g}")).collect();
    let mut found: std::collections::BTreeSet<u32> = marked_processes(&s.id).into_iter().collect();
    found.extend(s.children.iter_mut().filter_map(|c| match c.try_wait() {
        Ok(None) => Some(c.id()),
        _ => None,
    }));
    signal("TERM", &groups);
    let pids = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>();
    signal("TERM", &pids(&found.iter().copied().collect::<Vec<_>>()));
    let deadline = Instant::now() + TERM_GRACE;
    loop {
        s.children
            .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
        let left = marked_processes(&s.id);
        if s.children.is_empty() && left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            signal("KILL", &groups);
            signal("KILL", &pids(&left));
            for c in &mut s.children {
                let _ = c.kill();
            }
        }
        if Instant::now() >= deadline + Duration::from_secs(5) {
            tracing::error!("processes of app session {} do not stop: {left:?}", s.id);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for c in &mut s.children {
        let _ = c.wait();
    }
    found.len()
}

/// Deletes a folder tree even where a browser made parts of it read-only.
pub(super) fn remove_tree(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            open_up(path);
            match std::fs::remove_dir_all(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                r => r,
            }
        }
    }
}

pub(super) fn open_up(path: &Path) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
        if let Ok(rd) = std::fs::read_dir(path) {
            for e in rd.flatten() {
                open_up(&e.path());
            }
        }
    }
}

pub(super) fn end_session(mut s: Session) -> Reply {
    let killed = stop_processes(&mut s);
    let wiped = match remove_tree(&s.profile) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!("cannot delete {}: {e}", s.profile.display());
            false
        }
    };
    let _ = std::fs::remove_file(&s.lock_path);
    tracing::info!("app session {} ended: {killed} processes stopped", s.id);
    Reply::Ended {
        profile: s.profile.clone(),
        wiped,
        killed,
    }
}

/// Deletes every `session-*` profile under `root` whose lock no running session holds.
pub(super) fn clean_leftovers(root: &Path, uid: u32) -> Result<usize, String> {
    prepare_root(root, uid)?;
    let rd = std::fs::read_dir(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut removed = 0;
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_prefix("session-") else {
            continue;
        };
        if id.ends_with(".lock") {
            continue;
        }
        let lock_path = root.join(format!("session-{id}.lock"));
        let held = match std::fs::OpenOptions::new().write(true).open(&lock_path) {
            Ok(f) => match f.try_lock() {
                Ok(()) => {
                    // Ours now: nobody holds it. Delete the profile while holding it.
                    let _ = remove_tree(&entry.path());
                    let _ = std::fs::remove_file(&lock_path);
                    false
                }
                Err(_) => true,
            },
            Err(_) => {
                let _ = remove_tree(&entry.path());
                false
            }
        };
        if !held {
            removed += 1;
            tracing::info!("deleted a left-over app profile {}", entry.path().display());
        }
    }
    Ok(removed)
}
