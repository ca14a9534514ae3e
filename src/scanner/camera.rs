//! The native camera through nokhwa (V4L2 on Linux), as a [`FrameSource`].
//!
//! nokhwa's calls block (opening a device, waiting for the next frame), and the kiosk's UI must
//! not. So a worker thread owns the camera: it opens the chosen device, asks for the requested
//! resolution and frame rate, and keeps only the newest frame in a shared slot that
//! [`CameraSource::next_frame`] takes without waiting. When the camera is missing, busy or
//! unplugged the worker reports it there as a clear [`SourceError`] and keeps retrying every
//! second, so the kiosk recovers by itself when the camera comes back.

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
    /// Starts the worker. Never fails: problems (no camera, busy, …) come out of
    /// [`next_frame`](FrameSource::next_frame) while the worker keeps retrying.
    pub fn start(config: CameraConfig) -> CameraSource {
        let slot = Arc::new(Mutex::new(Slot {
            describe: format!("camera {:?} (starting)", config.device),
            ..Slot::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (slot.clone(), stop.clone());
        let worker = std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || worker(config, s, st))
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

fn open(config: &CameraConfig) -> Result<(Camera, String), SourceError> {
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
    Ok((cam, describe))
}

fn worker(config: CameraConfig, slot: Arc<Mutex<Slot>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let (mut cam, describe) = match open(&config) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("camera: {e}");
                set(&slot, |s| s.error = Some(e));
                sleep_unless_stopped(&stop, Duration::from_secs(1));
                continue;
            }
        };
        tracing::info!("{describe}");
        set(&slot, |s| {
            s.describe = describe;
            s.error = None;
        });
        let mut failures = 0;
        while !stop.load(Ordering::Relaxed) {
            let frame = cam
                .frame()
                .map_err(|e| e.to_string())
                .and_then(|buf| buf.decode_image::<RgbFormat>().map_err(|e| e.to_string()));
            match frame {
                Ok(img) => {
                    failures = 0;
                    let (w, h) = img.dimensions();
                    if let Some(f) = Frame::from_rgb(w, h, img.into_raw()) {
                        set(&slot, |s| {
                            s.frame = Some(f);
                            s.error = None;
                        });
                    }
                }
                Err(e) => {
                    failures += 1;
                    // A corrupt MJPEG frame now and then is normal; many in a row are not.
                    if failures >= 5 || no_device(&e) {
                        let err = match classify(e) {
                            SourceError::Camera(_) if !device_present(&config) => {
                                SourceError::Unplugged
                            }
                            other => other,
                        };
                        tracing::warn!("camera: {err}");
                        set(&slot, |s| s.error = Some(err));
                        break;
                    }
                }
            }
        }
        let _ = cam.stop_stream();
        drop(cam);
        sleep_unless_stopped(&stop, Duration::from_millis(500));
    }
}

fn device_present(config: &CameraConfig) -> bool {
    resolve(&config.device).is_ok()
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
