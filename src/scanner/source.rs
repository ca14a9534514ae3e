//! Frame sources: one trait for "something that yields frames".
//!
//! The kiosk core polls a source once per UI tick and must never block — the browser build has
//! no threads. So [`FrameSource::next_frame`] returns immediately: a new frame, nothing new yet,
//! or an error the kiosk can show. Sources that need to block (the native camera) do so in their
//! own worker thread and hand frames over through a channel; the browser source copies the
//! current `<video>` picture when polled. Tests, benchmarks and the camera-less demo use
//! [`ReplaySource`](super::replay::ReplaySource), which takes the very same path.

use thiserror::Error;

use super::frame::Frame;

/// Why a source cannot deliver frames. Messages are written for the person at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SourceError {
    #[error("no camera found; plug in a camera (it will be picked up automatically)")]
    NoCamera,
    #[error("camera {0:?} not found; check the camera setting (available: {1})")]
    CameraNotFound(String, String),
    #[error("the camera is busy: another program is using it; close that program (retrying)")]
    Busy,
    #[error("the camera was unplugged; plug it back in (retrying)")]
    Unplugged,
    #[error("the camera refused access ({0}); check its permissions")]
    PermissionDenied(String),
    #[error("the camera failed: {0}")]
    Camera(String),
    #[error("cannot read frame {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("no frames to replay in {0}")]
    Empty(String),
    #[error("the replay has ended")]
    Finished,
}

impl SourceError {
    /// A stable snake_case code for screens and logs.
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::NoCamera => "no_camera",
            SourceError::CameraNotFound(..) => "camera_not_found",
            SourceError::Busy => "camera_busy",
            SourceError::Unplugged => "camera_unplugged",
            SourceError::PermissionDenied(_) => "camera_permission",
            SourceError::Camera(_) => "camera_error",
            SourceError::Unreadable { .. } => "unreadable_frame",
            SourceError::Empty(_) => "no_frames",
            SourceError::Finished => "finished",
        }
    }

    /// True when the source keeps trying by itself and frames may come back (camera missing,
    /// busy or unplugged): the kiosk shows "not ready" and keeps polling.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SourceError::NoCamera | SourceError::Busy | SourceError::Unplugged
        )
    }
}

/// Something that yields frames, polled without blocking.
pub trait FrameSource {
    /// The next frame if a new one is ready, `Ok(None)` if not yet (poll again later), or why
    /// no frames come. After a transient error ([`SourceError::is_transient`]) keep polling:
    /// the source recovers by itself.
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError>;

    /// A short description for logs and the admin screen ("camera 0: HD Webcam 1280x720@30").
    fn describe(&self) -> String;
}

impl<S: FrameSource + ?Sized> FrameSource for Box<S> {
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
        (**self).next_frame()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}
