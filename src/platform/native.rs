//! The native (Linux lab PC) side of the platform traits: a tokio runtime on its own thread
//! for HTTP, the system clock, a launcher command, files for storage, and the camera (any
//! scanner [`FrameSource`]) scanned in a worker thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::app::ports::{BoxFuture, Camera, CameraEvent, Launcher, Repaint, Runtime, Storage};
use crate::platform::scan_bridge::{outcome_of, preview_of};
use crate::scanner::{FrameSource, ScanConfig, Scanner, SourceError};

/// A tokio runtime with one worker thread: portal calls run there, never on the UI thread.
#[derive(Debug)]
pub struct TokioRuntime {
    rt: tokio::runtime::Runtime,
}

impl TokioRuntime {
    pub fn new() -> std::io::Result<TokioRuntime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("quickcard-net")
            .enable_all()
            .build()?;
        Ok(TokioRuntime { rt })
    }

    /// The runtime's handle (to run the embedded demo portal on it too).
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.rt.handle().clone()
    }

    /// A sleeper for the portal client's back-off.
    pub fn sleeper() -> crate::portal_client::Sleeper {
        Arc::new(|d| Box::pin(async move { tokio::time::sleep(d).await }))
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        self.rt.spawn(fut);
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move { tokio::time::sleep(d).await })
    }
}

impl Runtime for Arc<TokioRuntime> {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        self.rt.spawn(fut);
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move { tokio::time::sleep(d).await })
    }
}

/// The system clock: the scanner's, which already reads both the monotonic and the wall
/// clock.
pub use crate::scanner::SystemClock;

/// Opens launch URLs with a configured command (`["xdg-open", "{url}"]`). The command runs
/// detached; a thread reaps it so no zombie is left.
#[derive(Debug, Clone)]
pub struct CommandLauncher {
    argv: Vec<String>,
}

impl CommandLauncher {
    /// `argv`: the program and its arguments; `{url}` is replaced by the URL.
    pub fn new(argv: Vec<String>) -> Result<CommandLauncher, String> {
        if argv.is_empty() || argv[0].trim().is_empty() {
            return Err("the launcher command is empty".into());
        }
        Ok(CommandLauncher { argv })
    }
}

impl Launcher for CommandLauncher {
    fn open(&self, url: &str) -> Result<(), String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "refusing to open a non-web URL ({} chars)",
                url.len()
            ));
        }
        let args: Vec<String> = self.argv[1..]
            .iter()
            .map(|a| a.replace("{url}", url))
            .collect();
        let mut child = std::process::Command::new(&self.argv[0])
            .args(&args)
            .stdin(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.argv[0]))?;
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Ok(())
    }
}

/// Named text files in one folder (mode 0600).
#[derive(Debug, Clone)]
pub struct FileStorage {
    dir: PathBuf,
}

impl FileStorage {
    pub fn new(dir: PathBuf) -> FileStorage {
        FileStorage { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(safe)
    }
}

impl Storage for FileStorage {
    fn load(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.path(name)).ok()
    }
    fn save(&self, name: &str, text: &str) -> Result<(), String> {
        crate::config::write_private(&self.path(name), text).map_err(|e| e.to_string())
    }
}

/// The camera (any [`FrameSource`]) and the [`Scanner`] in a worker thread. The UI polls
/// results; while it is not scanning the worker leaves the frames alone.
pub struct ThreadCamera {
    rx: Receiver<CameraEvent>,
    active: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    describe: String,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ThreadCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadCamera")
            .field("source", &self.describe)
            .finish_non_exhaustive()
    }
}

impl ThreadCamera {
    /// Starts scanning `source` in a worker thread; `repaint` wakes the UI on news.
    pub fn start(source: Box<dyn FrameSource + Send>, repaint: Repaint) -> ThreadCamera {
        let (tx, rx) = sync_channel(4);
        let active = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let describe = source.describe();
        let worker = {
            let (active, stop) = (active.clone(), stop.clone());
            std::thread::Builder::new()
                .name("quickcard-camera".into())
                .spawn(move || worker(source, tx, active, stop, repaint))
                .ok()
        };
        ThreadCamera {
            rx,
            active,
            stop,
            describe,
            worker,
        }
    }
}

impl Drop for ThreadCamera {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Camera for ThreadCamera {
    fn poll(&mut self) -> Option<CameraEvent> {
        self.rx.try_recv().ok()
    }
    fn set_active(&mut self, active: bool) {
        self.active.store(active, Ordering::Relaxed);
    }
    fn describe(&self) -> String {
        self.describe.clone()
    }
}

fn send(tx: &SyncSender<CameraEvent>, ev: CameraEvent, repaint: &Repaint) -> bool {
    match tx.try_send(ev) {
        Ok(()) => {
            repaint();
            true
        }
        Err(TrySendError::Full(_)) => true, // the UI is behind: drop this one
        Err(TrySendError::Disconnected(_)) => false,
    }
}

fn worker(
    mut source: Box<dyn FrameSource + Send>,
    tx: SyncSender<CameraEvent>,
    active: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    repaint: Repaint,
) {
    let mut scanner = Scanner::new(ScanConfig::default());
    let mut last_error: Option<SourceError> = None;
    while !stop.load(Ordering::Relaxed) {
        if !active.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(30));
            continue;
        }
        match source.next_frame() {
            Ok(Some(frame)) => {
                last_error = None;
                let outcome = outcome_of(scanner.scan(&frame));
                let ev = CameraEvent::Scanned {
                    outcome,
                    preview: Some(preview_of(&frame)),
                };
                if !send(&tx, ev, &repaint) {
                    return;
                }
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(4)),
            Err(e) => {
                if last_error.as_ref() != Some(&e) {
                    let ev = CameraEvent::Failed {
                        code: e.code(),
                        message: e.to_string(),
                        transient: e.is_transient(),
                    };
                    if !send(&tx, ev, &repaint) {
                        return;
                    }
                    last_error = Some(e);
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launcher_substitutes_the_url_and_refuses_other_schemes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let l = CommandLauncher::new(vec![
            "sh".into(),
            "-c".into(),
            format!("printf %s \"$0\" > {}", out.display()),
            "{url}".into(),
        ])
        .unwrap();
        assert!(l.open("file:///etc/passwd").is_err());
        l.open("https://apps.example/x?t=1").unwrap();
        for _ in 0..100 {
            if std::fs::read_to_string(&out).is_ok_and(|s| !s.is_empty()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "https://apps.example/x?t=1"
        );
    }
}
