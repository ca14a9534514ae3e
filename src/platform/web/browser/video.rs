//! The camera on the page: `getUserMedia` → an off-screen `<video>` → an off-screen canvas →
//! `getImageData`, as a scanner [`FrameSource`] (copied into wasm memory, for scanning on the
//! page's thread) and an [`RgbaSource`] (the picture's own buffer, transferred to the scan
//! worker).
//!
//! Why a module of its own: the camera is the one browser part with a life cycle (starting,
//! playing, failed, unplugged and asked for again), and its `DOMException`s need translating
//! into the kiosk's camera errors; none of that concerns the rest of the page.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, DomException, HtmlCanvasElement, HtmlVideoElement, ImageData,
    MediaStream, MediaStreamConstraints, MediaStreamTrack,
};

use super::super::offthread::{Rgba, RgbaSource};
use super::super::page::Facing;
use super::super::worker;
use super::js_text;
use crate::app::ports::{Camera, CameraEvent, Clock};
use crate::scanner::{Frame, FrameSource, SourceError, SystemClock};

enum VideoState {
    Starting,
    Playing {
        video: HtmlVideoElement,
        stream: MediaStream,
    },
    Failed(SourceError),
}

/// How long to wait before asking for a missing, busy or unplugged camera again.
const CAMERA_RETRY_MS: u64 = 2_000;

/// The camera through `getUserMedia`, read by drawing the `<video>` into a canvas.
pub struct VideoSource {
    state: Rc<RefCell<VideoState>>,
    label: Rc<RefCell<String>>,
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    facing: Facing,
    clock: SystemClock,
    retry_at_ms: u64,
}

impl std::fmt::Debug for VideoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoSource")
            .field("facing", &self.facing)
            .finish_non_exhaustive()
    }
}

impl VideoSource {
    /// Creates the off-screen canvas and asks for the camera (the answer comes later: until
    /// then [`FrameSource::next_frame`] returns `Ok(None)`).
    pub fn start(facing: Facing) -> Result<VideoSource, SourceError> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| SourceError::Camera("no document".into()))?;
        let canvas: HtmlCanvasElement = document
            .create_element("canvas")
            .map_err(|e| SourceError::Camera(js_text(&e)))?
            .dyn_into()
            .map_err(|_| SourceError::Camera("not a canvas".into()))?;
        let opts = js_sys::Object::new();
        js_sys::Reflect::set(&opts, &"willReadFrequently".into(), &JsValue::TRUE)
            .map_err(|e| SourceError::Camera(js_text(&e)))?;
        let ctx: CanvasRenderingContext2d = canvas
            .get_context_with_context_options("2d", &opts)
            .map_err(|e| SourceError::Camera(js_text(&e)))?
            .ok_or_else(|| SourceError::Camera("no 2d canvas".into()))?
            .dyn_into()
            .map_err(|_| SourceError::Camera("no 2d canvas".into()))?;
        let src = VideoSource {
            state: Rc::new(RefCell::new(VideoState::Starting)),
            label: Rc::new(RefCell::new(String::new())),
            canvas,
            ctx,
            facing,
            clock: SystemClock::new(),
            retry_at_ms: 0,
        };
        src.open();
        Ok(src)
    }

    fn open(&self) {
        *self.state.borrow_mut() = VideoState::Starting;
        let (state, label, facing) = (self.state.clone(), self.label.clone(), self.facing);
        wasm_bindgen_futures::spawn_local(async move {
            let next = match open_camera(facing).await {
                Ok((video, stream, name)) => {
                    *label.borrow_mut() = name;
                    VideoState::Playing { video, stream }
                }
                Err(e) => VideoState::Failed(e),
            };
            *state.borrow_mut() = next;
        });
    }

    /// The current picture of `video`, as `getImageData` gives it (`None` before the first).
    fn grab(&self, video: &HtmlVideoElement) -> Result<Option<ImageData>, SourceError> {
        // HAVE_CURRENT_DATA: a picture is there to copy.
        if video.ready_state() < 2 {
            return Ok(None);
        }
        let (w, h) = (video.video_width(), video.video_height());
        if w == 0 || h == 0 {
            return Ok(None);
        }
        if self.canvas.width() != w {
            self.canvas.set_width(w);
        }
        if self.canvas.height() != h {
            self.canvas.set_height(h);
        }
        let err = |e: JsValue| SourceError::Camera(js_text(&e));
        self.ctx
            .draw_image_with_html_video_element(video, 0.0, 0.0)
            .map_err(err)?;
        self.ctx
            .get_image_data(0.0, 0.0, w as f64, h as f64)
            .map(Some)
            .map_err(err)
    }

    /// The next picture, or why there is none (asking for the camera again when it was
    /// missing, busy or unplugged).
    fn next_picture(&mut self) -> Result<Option<ImageData>, SourceError> {
        let now = self.clock.now_ms();
        let mut unplugged = false;
        let result = match &*self.state.borrow() {
            VideoState::Starting => Ok(None),
            VideoState::Failed(e) => {
                if e.is_transient() && now >= self.retry_at_ms {
                    // Asked again below, after the borrow ends.
                    unplugged = true;
                }
                Err(e.clone())
            }
            VideoState::Playing { video, stream } => {
                if stream.active() {
                    self.grab(video)
                } else {
                    video.remove();
                    unplugged = true;
                    Err(SourceError::Unplugged)
                }
            }
        };
        if unplugged {
            if matches!(&*self.state.borrow(), VideoState::Playing { .. }) {
                *self.state.borrow_mut() = VideoState::Failed(SourceError::Unplugged);
                self.retry_at_ms = now + CAMERA_RETRY_MS;
            } else {
                self.retry_at_ms = now + CAMERA_RETRY_MS;
                self.open();
            }
        }
        result
    }
}

impl FrameSource for VideoSource {
    /// For scanning on the page's thread: the pixels copied into wasm memory.
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
        let Some(data) = self.next_picture()? else {
            return Ok(None);
        };
        let (w, h) = (data.width(), data.height());
        Frame::from_rgba(w, h, &data.data().0)
            .map(Some)
            .ok_or_else(|| SourceError::Camera(format!("the camera frame is not {w}x{h}")))
    }

    fn describe(&self) -> String {
        let label = self.label.borrow();
        if label.is_empty() {
            format!("browser camera ({})", self.facing.constraint())
        } else {
            format!("browser camera: {label}")
        }
    }
}

impl RgbaSource for VideoSource {
    type Data = js_sys::ArrayBuffer;

    /// For the scan worker: the `ImageData`'s own buffer, to be transferred, not copied.
    fn next_rgba(&mut self) -> Result<Option<Rgba<js_sys::ArrayBuffer>>, SourceError> {
        let Some(data) = self.next_picture()? else {
            return Ok(None);
        };
        worker::rgba_of(&data)
            .map(Some)
            .map_err(SourceError::Camera)
    }
}

async fn open_camera(
    facing: Facing,
) -> Result<(HtmlVideoElement, MediaStream, String), SourceError> {
    let window = web_sys::window().ok_or_else(|| SourceError::Camera("no window".into()))?;
    let devices = window.navigator().media_devices().map_err(|_| {
        SourceError::Camera("this page cannot use cameras (it must be served over https)".into())
    })?;
    let video_c = js_sys::Object::new();
    let ideal = |v: JsValue| {
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"ideal".into(), &v);
        o
    };
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&video_c, &k.into(), v).map(|_| ());
    set("width", &ideal(1280.into()))
        .and_then(|_| set("height", &ideal(720.into())))
        .and_then(|_| set("facingMode", &ideal(facing.constraint().into())))
        .map_err(|e| SourceError::Camera(js_text(&e)))?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::FALSE);
    constraints.set_video(&video_c);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(camera_error)?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(camera_error)?
        .dyn_into()
        .map_err(|_| SourceError::Camera("getUserMedia gave no stream".into()))?;
    let name = stream
        .get_video_tracks()
        .get(0)
        .dyn_into::<MediaStreamTrack>()
        .map(|t| t.label())
        .unwrap_or_default();
    let document = window
        .document()
        .ok_or_else(|| SourceError::Camera("no document".into()))?;
    let video: HtmlVideoElement = document
        .create_element("video")
        .map_err(camera_error)?
        .dyn_into()
        .map_err(|_| SourceError::Camera("not a video element".into()))?;
    video.set_muted(true);
    video.set_autoplay(true);
    for (k, v) in [("playsinline", ""), ("muted", ""), ("aria-hidden", "true")] {
        video.set_attribute(k, v).map_err(camera_error)?;
    }
    // Off-screen but in the document, so the browser keeps decoding it. Through the CSSOM: the
    // page's Content-Security-Policy refuses `style` attributes.
    video.style().set_css_text(
        "position:fixed;left:-10000px;top:0;width:2px;height:2px;opacity:0;pointer-events:none",
    );
    video.set_src_object(Some(&stream));
    if let Some(body) = document.body() {
        body.append_child(&video).map_err(camera_error)?;
    }
    if let Ok(p) = video.play() {
        JsFuture::from(p).await.map_err(camera_error)?;
    }
    Ok((video, stream, name))
}

/// `getUserMedia`'s `DOMException`s as the kiosk's camera errors.
fn camera_error(e: JsValue) -> SourceError {
    let name = e
        .dyn_ref::<DomException>()
        .map(|d| d.name())
        .unwrap_or_default();
    let text = js_text(&e);
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => SourceError::PermissionDenied(text),
        "NotFoundError" | "OverconstrainedError" => SourceError::NoCamera,
        "NotReadableError" | "AbortError" => SourceError::Busy,
        _ => SourceError::Camera(text),
    }
}

/// A camera that only reports why there is none.
#[derive(Debug)]
pub(super) struct NoCamera(pub(super) Option<SourceError>);

impl Camera for NoCamera {
    fn poll(&mut self) -> Option<CameraEvent> {
        self.0.take().map(|e| CameraEvent::Failed {
            code: e.code(),
            message: e.to_string(),
            transient: false,
        })
    }
    fn set_active(&mut self, _active: bool) {}
    fn describe(&self) -> String {
        "no camera".into()
    }
}
