//! The native camera through nokhwa (V4L2 on Linux), as a [`FrameSource`].
//!
//! nokhwa's calls block (opening a device, waiting for the next frame), and the kiosk's UI must
//! not. So a worker thread owns the camera: it opens the chosen device, asks for the requested
//! resolution and frame rate, and keeps only the newest frame in a shared slot that
//! [`CameraSource::next_frame`] takes without waiting. When the camera is missing, busy or
//! unplugged the worker reports it there as a clear [`SourceError`] and keeps retrying (every
//! second on the real path), so the kiosk recovers by itself when the camera comes back.
//!
//! The worker only sees the camera through two small traits, [`Device`] (something that can
//! be opened, or says why not) and [`Capture`] (an open stream that yields frames), so its
//! open → frames → error → retry → frames again cycle runs the same over nokhwa
//! ([`NokhwaDevice`], what [`CameraSource::start`] uses) and over a scripted device in the
//! tests (`tests/scanner_camera_reconnect.rs`), with a retry interval they choose.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};

use super::frame::Frame;
use super::source::{FrameSource, SourceError};

/// How long the worker waits before opening the camera again after it failed to open.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Stream errors in a row after which a stream counts as broken (a corrupt MJPEG frame now and
/// then is normal; many in a row are not).
const FAILURES_IN_A_ROW: u32 = 5;

/// A camera that can be opened, or says why not. Lives in the worker thread.
pub trait Device: Send {
    /// What is being opened, for the description before it is open ("camera Index(0)").
    fn describe(&self) -> String;

    /// Opens the stream. A missing, busy or refused camera is an error the worker shows and
    /// retries.
    fn open(&mut self) -> Result<Box<dyn Capture>, SourceError>;

    /// Whether the device is still there. Asked when a stream keeps failing with an unclear
    /// error ([`SourceError::Camera`]): a device that is gone makes it [`SourceError::Unplugged`].
    fn present(&mut self) -> bool {
        true
    }
}

/// An open camera stream. Dropping it releases the camera.
pub trait Capture {
    /// The stream as opened ("camera 0: HD Webcam 1280x720@30 MJPEG").
    fn describe(&self) -> String;

    /// Blocks until the next frame. [`SourceError::Unplugged`] ends the stream at once; other
    /// errors end it after several in a row.
    fn frame(&mut self) -> Result<Frame, SourceError>;
}

/// Which camera to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceChoice {
    Index(u32),
    /// A camera whose name contains this (case-insensitive).
    Name(String),
}

impl DeviceChoice {
    /// A number is an index, anything else a name.
    pub fn parse(s: &str) -> DeviceChoice {
        match s.trim().parse() {
            Ok(i) => DeviceChoice::Index(i),
            Err(_) => DeviceChoice::Name(s.trim().to_string()),
        }
    }
}

/// What to open and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraConfig {
    pub device: DeviceChoice,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig {
            device: DeviceChoice::Index(0),
            width: 1280,
            height: 720,
            fps: 30,
        }
    }
}

/// A camera found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraEntry {
    pub index: u32,
    pub name: String,
}

/// The cameras on this machine (empty when there are none).
pub fn list_cameras() -> Result<Vec<CameraEntry>, SourceError> {
    let infos = match nokhwa::query(ApiBackend::Auto) {
        Ok(i) => i,
        // No V4L2 devices at all shows up as an error on some systems.
        Err(e) if no_device(&e.to_string()) => return Ok(Vec::new()),
        Err(e) => return Err(SourceError::Camera(e.to_string())),
    };
    Ok(infos
        .iter()
        .enumerate()
        .map(|(i, c)| CameraEntry {
            index: match c.index() {
                CameraIndex::Index(n) => *n,
                CameraIndex::String(_) => i as u32,
            },
            name: c.human_name(),
        })
        .collect())
}

fn no_device(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("no such device") || m.contains("no such file") || m.contains("not found")
}

fn classify(msg: String) -> SourceError {
    let m = msg.to_ascii_lowercase();
    if m.contains("busy") {
        SourceError::Busy
    } else if m.contains("permission denied") {
        SourceError::PermissionDenied(msg)
    } else if no_device(&m) {
        SourceError::Unplugged
    } else {
        SourceError::Camera(msg)
    }
}

/// Resolves the configured device against the cameras present now.
fn resolve(choice: &DeviceChoice) -> Result<(CameraIndex, String), SourceError> {
    let cams = list_cameras()?;
    if cams.is_empty() {
        return Err(SourceError::NoCamera);
    }
    let available = || {
        cams.iter()
            .map(|c| format!("{}: {}", c.index, c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = match choice {
        DeviceChoice::Index(i) => cams.iter().find(|c| c.index == *i),
        DeviceChoice::Name(n) => {
            let n = n.to_lowercase();
            cams.iter().find(|c| c.name.to_lowercase().contains(&n))
        }
    };
    match found {
        Some(c) => Ok((CameraIndex::Index(c.index), c.name.clone())),
        None => Err(SourceError::CameraNotFound(
            match choice {
                DeviceChoice::Index(i) => i.to_string(),
                DeviceChoice::Name(n) => n.clone(),
            },
            available(),
        )),
    }
}

/// The real camera: the configured device through nokhwa.
#[derive(Debug, Clone)]
pub struct NokhwaDevice {
    config: CameraConfig,
}

impl NokhwaDevice {
    pub fn new(config: CameraConfig) -> NokhwaDevice {
        NokhwaDevice { config }
    }
}

impl Device for NokhwaDevice {
    fn describe(&self) -> String {
        format!("camera {:?} (starting)", self.config.device)
    }

    fn open(&mut self) -> Result<Box<dyn Capture>, SourceError> {
        let config = &self.config;
        let (index, name) = resolve(&config.device)?;
        let wanted = CameraFormat::new(
            Resolution::new(config.width, config.height),
            FrameFormat::MJPEG,
            config.fps,
        );
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
        let mut cam = Camera::new(index.clone(), format).map_err(|e| classify(e.to_string()))?;
        cam.open_stream().map_err(|e| classify(e.to_string()))?;
        let f = cam.camera_format();
        let describe = format!(
            "camera {}: {} {}x{}@{} {}",
            index,
            name,
            f.resolution().width(),
            f.resolution().height(),
            f.frame_rate(),
            f.format()
        );
        Ok(Box::new(NokhwaCapture { cam, describe }))
    }

    fn present(&mut self) -> bool {
        resolve(&self.config.device).is_ok()
    }
}

/// An open nokhwa stream; dropping it stops the stream and releases the device.
struct NokhwaCapture {
    cam: Camera,
    describe: String,
}

impl Capture for NokhwaCapture {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn frame(&mut self) -> Result<Frame, SourceError> {
        let img = self
            .cam
            .frame()
            .map_err(|e| e.to_string())
            .and_then(|buf| buf.decode_image::<RgbFormat>().map_err(|e| e.to_string()))
            .map_err(classify)?;
        let (w, h) = img.dimensions();
        Frame::from_rgb(w, h, img.into_raw())
            .ok_or_else(|| SourceError::Camera(format!("a {w}x{h} frame had the wrong size")))
    }
}

impl Drop for NokhwaCapture {
    fn drop(&mut self) {
        let _ = self.cam.stop_stream();
    }
}

#[derive(Default)]
struct Slot {
    frame: Option<Frame>,
    error: Option<SourceError>,
    describe: String,
}

/// A camera read by a worker thread. Dropping it stops the thread and releases the camera.
pub struct CameraSource {
    slot: Arc<Mutex<Slot>>,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("describe", &self.describe())
            .finish_non_exhaustive()
    }
}

impl CameraSource {
    /// Starts the worker on the configured camera through nokhwa, retrying every
    /// [`RETRY_INTERVAL`]. Never fails: problems (no camera, busy, …) come out of
    /// [`next_frame`](FrameSource::next_frame) while the worker keeps retrying.
    pub fn start(config: CameraConfig) -> CameraSource {
        CameraSource::with_device(Box::new(NokhwaDevice::new(config)), RETRY_INTERVAL)
    }

    /// Starts the worker on any [`Device`]: after a failed open it waits `retry` before the
    /// next, after a broken stream half of that.
    pub fn with_device(device: Box<dyn Device>, retry: Duration) -> CameraSource {
        let slot = Arc::new(Mutex::new(Slot {
            describe: device.describe(),
            ..Slot::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (slot.clone(), stop.clone());
        let worker = std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || worker(device, retry, s, st))
            .ok();
        CameraSource { slot, stop, worker }
    }
}

fn set<F: FnOnce(&mut Slot)>(slot: &Mutex<Slot>, f: F) {
    if let Ok(mut s) = slot.lock() {
        f(&mut s);
    }
}

fn sleep_unless_stopped(stop: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !stop.load(Ordering::Relaxed) && !left.is_zero() {
        std::thread::sleep(step.min(left));
        left = left.saturating_sub(step);
    }
}

fn worker(
    mut device: Box<dyn Device>,
    retry: Duration,
    slot: Arc<Mutex<Slot>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let mut capture = match device.open() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("camera: {e}");
                set(&slot, |s| s.error = Some(e));
                sleep_unless_stopped(&stop, retry);
                continue;
            }
        };
        let describe = capture.describe();
        tracing::info!("{describe}");
        set(&slot, |s| {
            s.describe = describe;
            s.error = None;
        });
        let mut failures = 0;
        while !stop.load(Ordering::Relaxed) {
            match capture.frame() {
                Ok(f) => {
                    failures = 0;
                    set(&slot, |s| {
                        s.frame = Some(f);
                        s.error = None;
                    });
                }
                Err(e) => {
                    failures += 1;
                    if failures >= FAILURES_IN_A_ROW || e == SourceError::Unplugged {
                        let err = match e {
                            SourceError::Camera(_) if !device.present() => SourceError::Unplugged,
                            other => other,
                        };
                        tracing::warn!("camera: {err}");
                        set(&slot, |s| s.error = Some(err));
                        break;
                    }
                }
            }
        }
        // Release the camera before waiting, so another program (or the next open) can have it.
        drop(capture);
        sleep_unless_stopped(&stop, retry / 2);
    }
}

impl FrameSource for CameraSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
        let mut s = match self.slot.lock() {
            Ok(s) => s,
            Err(_) => return Err(SourceError::Camera("the camera thread stopped".into())),
        };
        if let Some(f) = s.frame.take() {
            return Ok(Some(f));
        }
        match &s.error {
            Some(e) => Err(e.clone()),
            None => Ok(None),
        }
    }

    fn describe(&self) -> String {
        self.slot
            .lock()
            .map(|s| s.describe.clone())
            .unwrap_or_default()
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
