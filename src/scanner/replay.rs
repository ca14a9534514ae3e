//! Replay: image files or a folder of frames as a [`FrameSource`], the same path the camera
//! takes. Used by tests, benchmarks and the demo on machines without a camera.

use std::path::{Path, PathBuf};

use super::clock::{Clock, SystemClock};
use super::frame::Frame;
use super::source::{FrameSource, SourceError};

/// Frames from image files (PNG, JPEG, WebP, GIF, BMP), decoded when they are due, optionally
/// looping and paced.
pub struct ReplaySource {
    items: Vec<Item>,
    next: usize,
    looping: bool,
    /// Milliseconds between frames; `None` = every poll yields the next frame.
    interval_ms: Option<f64>,
    clock: Box<dyn Clock + Send>,
    last_at: Option<f64>,
    name: String,
}

enum Item {
    File(PathBuf),
    Frame(Frame),
}

impl std::fmt::Debug for ReplaySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplaySource")
            .field("name", &self.name)
            .field("frames", &self.items.len())
            .field("next", &self.next)
            .field("looping", &self.looping)
            .finish_non_exhaustive()
    }
}

fn is_image(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("png" | "jpg" | "jpeg" | "webp" | "gif" | "bmp")
    )
}

impl ReplaySource {
    /// Frames from these paths; a directory adds its image files in name order.
    pub fn from_paths<P: AsRef<Path>>(paths: &[P]) -> Result<ReplaySource, SourceError> {
        let mut items = Vec::new();
        let mut name = Vec::new();
        for p in paths {
            let p = p.as_ref();
            name.push(p.display().to_string());
            if p.is_dir() {
                let rd = std::fs::read_dir(p).map_err(|e| SourceError::Unreadable {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                let mut files: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && is_image(p))
                    .collect();
                files.sort();
                items.extend(files.into_iter().map(Item::File));
            } else if p.is_file() {
                items.push(Item::File(p.to_path_buf()));
            } else {
                return Err(SourceError::Unreadable {
                    path: p.display().to_string(),
                    reason: "no such file or folder".into(),
                });
            }
        }
        let name = name.join(", ");
        if items.is_empty() {
            return Err(SourceError::Empty(name));
        }
        Ok(ReplaySource::new(items, name))
    }

    /// Frames already in memory (the browser demo, tests).
    pub fn from_frames(frames: Vec<Frame>, name: &str) -> Result<ReplaySource, SourceError> {
        if frames.is_empty() {
            return Err(SourceError::Empty(name.into()));
        }
        Ok(ReplaySource::new(
            frames.into_iter().map(Item::Frame).collect(),
            name.to_string(),
        ))
    }

    fn new(items: Vec<Item>, name: String) -> ReplaySource {
        ReplaySource {
            items,
            next: 0,
            looping: false,
            interval_ms: None,
            clock: Box::new(SystemClock::new()),
            last_at: None,
            name,
        }
    }

    /// Starts again from the first frame after the last.
    pub fn looping(mut self, looping: bool) -> ReplaySource {
        self.looping = looping;
        self
    }

    /// Yields at most `fps` frames per second (`None` or ≤ 0: as fast as polled).
    pub fn rate(mut self, fps: Option<f64>) -> ReplaySource {
        self.interval_ms = fps.filter(|f| *f > 0.0).map(|f| 1000.0 / f);
        self
    }

    /// The clock that paces [`rate`](ReplaySource::rate).
    pub fn with_clock(mut self, clock: Box<dyn Clock + Send>) -> ReplaySource {
        self.clock = clock;
        self
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Decodes an image file (PNG or JPEG) into a frame.
pub fn load_frame(path: &Path) -> Result<Frame, SourceError> {
    let unreadable = |reason: String| SourceError::Unreadable {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let img = decode_image(&bytes).map_err(unreadable)?;
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    Frame::from_rgb(w, h, rgb.into_raw()).ok_or_else(|| unreadable("empty image".into()))
}

/// The formats a replayed or decoded file may have (the native build's `image` features).
pub const FORMATS: &str = "PNG, JPEG, WebP, GIF or BMP";

/// Decodes one image file's bytes, by its content (not its name), within limits that keep a
/// crafted file (a "decompression bomb") from taking the machine's memory.
pub fn decode_image(bytes: &[u8]) -> Result<image::DynamicImage, String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let Some(format) = reader.format() else {
        return Err(format!(
            "not an image format QuickCard reads (it reads {FORMATS})"
        ));
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(1 << 30);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Unsupported(u) => format!(
            "{format:?} images cannot be read by this build ({u}); QuickCard reads {FORMATS}"
        ),
        image::ImageError::Limits(l) => format!("the {format:?} image is too large ({l})"),
        e => format!("the {format:?} image is damaged or incomplete ({e})"),
    })
}

impl FrameSource for ReplaySource {
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
        if self.next >= self.items.len() {
            if self.looping {
                self.next = 0;
            } else {
                return Err(SourceError::Finished);
            }
        }
        if let Some(iv) = self.interval_ms {
            let now = self.clock.precise_ms();
            if let Some(last) = self.last_at
                && now - last < iv
            {
                return Ok(None);
            }
            self.last_at = Some(now);
        }
        let i = self.next;
        self.next += 1;
        match &self.items[i] {
            Item::Frame(f) => Ok(Some(f.clone())),
            Item::File(p) => load_frame(p).map(Some),
        }
    }

    fn describe(&self) -> String {
        format!("replay of {} ({} frames)", self.name, self.items.len())
    }
}
