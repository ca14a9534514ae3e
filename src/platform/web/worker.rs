//! The scan worker (wasm32, feature `web`): the page's [`ScanChannel`] and the worker's side.
//!
//! The worker is `scan-worker.js` (in `web/`): a module worker that imports this same
//! wasm-bindgen module, instantiates it from the compiled `WebAssembly.Module` the page posts
//! first (so the `.wasm` is downloaded and compiled once, by the page), and calls
//! [`quickcard_scan_worker_start`]. From then on the worker keeps one [`Scanner`] (it remembers
//! where the last code was, across frames) and answers each frame the page sends.
//!
//! Messages, page → worker: `{module}` once, then `{id, width, height, rgba}` where `rgba` is
//! the `ArrayBuffer` of `getImageData`, transferred (the page keeps no copy). Worker → page:
//! `{ready: true}`; `{failed}` when it could not start; `{id, result, scanMs, preview,
//! previewWidth, previewHeight}` per frame (`result`: [`encode_result`]'s bytes, `preview`:
//! the downscaled RGB of [`preview_of`], both transferred); `{id, error}` for a frame it could
//! not take.
//!
//! Failures: a worker that cannot be created or never starts (no module workers, script not
//! served) makes the channel [`Unusable`](ChannelState::Unusable), and the camera scans on
//! the page's thread as before; the page logs which. A worker that stops after it started (on
//! wasm32 a panic aborts the module) is replaced, after 2 s, 4 s, … up to a minute if it keeps
//! stopping; its error is kept from reaching the page's crash handler, which would reload the
//! whole page for it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    DedicatedWorkerGlobalScope, ErrorEvent, Event, ImageData, MessageEvent, Worker, WorkerOptions,
    WorkerType,
};

use super::browser::js_text;
use super::offthread::{ChannelState, Reply, Rgba, ScanChannel, decode_result, encode_result};
use crate::app::ports::Repaint;
use crate::platform::scan_bridge::preview_of;
use crate::scanner::{Frame, ScanConfig, Scanner};

/// The `<meta name=…>` of the page whose `content` is the worker script's address
/// (`build-web.sh` puts the hashed name there).
pub const SCRIPT_META: &str = "quickcard-scan-worker";

/// A worker that has not said `ready` by then is taken as not working.
const READY_TIMEOUT_MS: u64 = 10_000;

/// One property of a JS object (`undefined` if missing).
fn prop(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn object(fields: &[(&str, &JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o
}

fn log_warn(text: &str) {
    web_sys::console::warn_1(&text.into());
}

// ---- the worker's side ----

/// Runs in the worker once the module is instantiated: answers every later message (a frame)
/// with the scan of it and tells the page it is ready. Called by `scan-worker.js`.
#[wasm_bindgen]
pub fn quickcard_scan_worker_start() -> Result<(), JsValue> {
    let scope: DedicatedWorkerGlobalScope = js_sys::global()
        .dyn_into()
        .map_err(|_| JsValue::from_str("quickcard_scan_worker_start runs in a dedicated worker"))?;
    let mut scanner = Scanner::new(ScanConfig::default());
    // Reused for every frame: the wasm heap does not grow by a frame each time.
    let mut rgba: Vec<u8> = Vec::new();
    let replies = scope.clone();
    let on_frame = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let (reply, transfer) = scan_message(&mut scanner, &mut rgba, &ev.data());
        if let Err(e) = replies.post_message_with_transfer(&reply, &transfer) {
            web_sys::console::error_1(&e);
        }
    });
    scope.set_onmessage(Some(on_frame.as_ref().unchecked_ref()));
    // Lives as long as the worker.
    on_frame.forget();
    scope.post_message(&object(&[("ready", &JsValue::TRUE)]))
}

/// One frame message → the reply and what it transfers.
fn scan_message(scanner: &mut Scanner, rgba: &mut Vec<u8>, msg: &JsValue) -> (Object, Array) {
    let start = web_time::Instant::now();
    let id = prop(msg, "id");
    let dim = |k: &str| prop(msg, k).as_f64().unwrap_or(0.0) as u32;
    let (width, height) = (dim("width"), dim("height"));
    let frame = prop(msg, "rgba")
        .dyn_into::<ArrayBuffer>()
        .ok()
        .and_then(|buf| {
            let view = Uint8Array::new(&buf);
            // The one copy: into this module's memory, where the scanner can read it.
            rgba.resize(view.length() as usize, 0);
            view.copy_to(rgba);
            Frame::from_rgba(width, height, rgba)
        });
    let Some(frame) = frame else {
        let why = JsValue::from_str(&format!("not an RGBA frame of {width}x{height}"));
        return (object(&[("id", &id), ("error", &why)]), Array::new());
    };
    let result = Uint8Array::from(&encode_result(&scanner.scan(&frame))[..]).buffer();
    let preview = preview_of(&frame);
    let rgb = Uint8Array::from(&preview.rgb[..]).buffer();
    let scan_ms = start.elapsed().as_secs_f64() * 1000.0;
    let reply = object(&[
        ("id", &id),
        ("result", &result),
        ("scanMs", &scan_ms.into()),
        ("preview", &rgb),
        ("previewWidth", &(preview.width as u32).into()),
        ("previewHeight", &(preview.height as u32).into()),
    ]);
    (reply, Array::of2(&result, &rgb))
}

// ---- the page's side ----

/// What a worker's handlers left for the channel.
#[derive(Default)]
struct Inbox {
    ready: bool,
    /// It could not start.
    failed: Option<String>,
    /// It stopped after it had started.
    crashed: Option<String>,
    replies: VecDeque<(u32, Reply)>,
}

/// One running worker and its handlers.
struct Live {
    worker: Worker,
    inbox: Rc<RefCell<Inbox>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for Live {
    fn drop(&mut self) {
        // Handlers first: nothing may call the closures once they are dropped.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

impl Live {
    fn spawn(url: &str, repaint: &Repaint) -> Result<Live, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(url, &options).map_err(|e| js_text(&e))?;
        let inbox: Rc<RefCell<Inbox>> = Rc::default();
        let on_message = {
            let (inbox, repaint) = (inbox.clone(), repaint.clone());
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                on_message(&mut inbox.borrow_mut(), &ev.data());
                repaint();
            })
        };
        let on_error = {
            let (inbox, repaint) = (inbox.clone(), repaint.clone());
            Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
                // Handled here: uncancelled, a worker's error is re-raised on the page, whose
                // crash handler would reload the whole kiosk.
                ev.prevent_default();
                let why = ev
                    .dyn_ref::<ErrorEvent>()
                    .map(|e| e.message())
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "its script did not load".into());
                let mut inbox = inbox.borrow_mut();
                if inbox.ready {
                    inbox.crashed.get_or_insert(why);
                } else {
                    inbox.failed.get_or_insert(why);
                }
                drop(inbox);
                repaint();
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let live = Live {
            worker,
            inbox,
            _on_message: on_message,
            _on_error: on_error,
        };
        // This page's compiled module: the worker instantiates it instead of fetching and
        // compiling the .wasm again.
        live.worker
            .post_message(&object(&[("module", &wasm_bindgen::module())]))
            .map_err(|e| js_text(&e))?;
        Ok(live)
    }
}

fn on_message(inbox: &mut Inbox, data: &JsValue) {
    if prop(data, "ready").is_truthy() {
        inbox.ready = true;
        return;
    }
    if let Some(why) = prop(data, "failed").as_string() {
        inbox.failed.get_or_insert(why);
        return;
    }
    let Some(id) = prop(data, "id").as_f64() else {
        return;
    };
    let reply = if let Some(why) = prop(data, "error").as_string() {
        Reply::Lost(why)
    } else {
        let result = prop(data, "result")
            .dyn_into::<ArrayBuffer>()
            .ok()
            .and_then(|b| decode_result(&Uint8Array::new(&b).to_vec()));
        match result {
            Some(result) => {
                let dim = |k: &str| prop(data, k).as_f64().unwrap_or(0.0) as usize;
                let (width, height) = (dim("previewWidth"), dim("previewHeight"));
                let preview = prop(data, "preview")
                    .dyn_into::<ArrayBuffer>()
                    .ok()
                    .map(|b| Uint8Array::new(&b).to_vec())
                    .filter(|rgb| rgb.len() == width * height * 3 && !rgb.is_empty())
                    .map(|rgb| crate::app::ports::Preview { width, height, rgb });
                Reply::Scanned {
                    result,
                    preview,
                    scan_ms: prop(data, "scanMs").as_f64().unwrap_or(0.0),
                }
            }
            None => Reply::Lost("the scan worker's answer is not a scan result".into()),
        }
    };
    inbox.replies.push_back((id as u32, reply));
}

/// The page's way to its scan worker.
pub struct WorkerChannel {
    url: String,
    repaint: Repaint,
    live: Option<Live>,
    /// When the current worker was made (set at the first look after it).
    spawned_ms: Option<u64>,
    /// A worker has said `ready` before: from then on failures are restarted, not given up.
    started_once: bool,
    restart_at_ms: Option<u64>,
    stops_in_a_row: u32,
    next_id: u32,
    in_flight: Option<u32>,
    lost: Option<String>,
    now_ms: u64,
}

impl std::fmt::Debug for WorkerChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerChannel")
            .field("url", &self.url)
            .field("running", &self.live.is_some())
            .finish_non_exhaustive()
    }
}

impl WorkerChannel {
    /// Starts the worker the page names in its `<meta name="quickcard-scan-worker">`. `Err`
    /// (why) when there is none or the browser cannot make a module worker.
    pub fn start(repaint: Repaint) -> Result<WorkerChannel, String> {
        let url = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector(&format!("meta[name=\"{SCRIPT_META}\"]"))
                    .ok()
                    .flatten()
            })
            .and_then(|m| m.get_attribute("content"))
            .filter(|u| !u.is_empty())
            .ok_or_else(|| format!("the page names no scan worker (<meta name={SCRIPT_META}>)"))?;
        let live = Live::spawn(&url, &repaint)?;
        Ok(WorkerChannel {
            url,
            repaint,
            live: Some(live),
            spawned_ms: None,
            started_once: false,
            restart_at_ms: None,
            stops_in_a_row: 0,
            next_id: 0,
            in_flight: None,
            lost: None,
            now_ms: 0,
        })
    }

    /// The worker stopped (or is given up on): replace it after a growing pause.
    fn stopped(&mut self, why: &str) {
        self.live = None;
        if self.in_flight.take().is_some() {
            self.lost = Some(why.to_string());
        }
        self.stops_in_a_row += 1;
        let delay = (2_000u64 << (self.stops_in_a_row - 1).min(5)).min(60_000);
        web_sys::console::error_1(
            &format!("QuickCard: the scan worker stopped ({why}); a new one in {delay} ms").into(),
        );
        self.restart_at_ms = Some(self.now_ms + delay);
    }

    /// No worker here: the camera scans on the page's thread.
    fn unusable(&mut self, why: String) -> ChannelState {
        self.live = None;
        log_warn(&format!(
            "QuickCard: no scan worker ({why}); scanning on the page's thread"
        ));
        ChannelState::Unusable(why)
    }
}

impl ScanChannel for WorkerChannel {
    type Data = ArrayBuffer;

    fn state(&mut self, now_ms: u64) -> ChannelState {
        self.now_ms = now_ms;
        if let Some(at) = self.restart_at_ms {
            if now_ms < at {
                return ChannelState::Starting;
            }
            self.restart_at_ms = None;
            self.spawned_ms = None;
            match Live::spawn(&self.url, &self.repaint) {
                Ok(live) => self.live = Some(live),
                Err(why) => {
                    self.stopped(&why);
                    return ChannelState::Starting;
                }
            }
        }
        let Some(live) = &self.live else {
            return ChannelState::Starting;
        };
        let (ready, failed, crashed) = {
            let mut inbox = live.inbox.borrow_mut();
            (inbox.ready, inbox.failed.take(), inbox.crashed.take())
        };
        if let Some(why) = crashed {
            self.stopped(&why);
            return ChannelState::Starting;
        }
        if let Some(why) = failed {
            if self.started_once {
                self.stopped(&why);
                return ChannelState::Starting;
            }
            return self.unusable(why);
        }
        if ready {
            if !self.started_once {
                self.started_once = true;
                web_sys::console::info_1(&"QuickCard: scanning in a Web Worker".into());
            }
            return ChannelState::Ready;
        }
        let since = *self.spawned_ms.get_or_insert(now_ms);
        if now_ms.saturating_sub(since) >= READY_TIMEOUT_MS {
            let why = format!("it did not start within {} s", READY_TIMEOUT_MS / 1000);
            if self.started_once {
                self.stopped(&why);
                return ChannelState::Starting;
            }
            return self.unusable(why);
        }
        ChannelState::Starting
    }

    fn send(&mut self, frame: Rgba<ArrayBuffer>) -> Result<(), String> {
        let live = self.live.as_ref().ok_or("no scan worker running")?;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let msg = object(&[
            ("id", &id.into()),
            ("width", &frame.width.into()),
            ("height", &frame.height.into()),
            ("rgba", &frame.data),
        ]);
        live.worker
            .post_message_with_transfer(&msg, &Array::of1(&frame.data))
            .map_err(|e| js_text(&e))?;
        self.in_flight = Some(id);
        Ok(())
    }

    fn receive(&mut self) -> Option<Reply> {
        if let Some(why) = self.lost.take() {
            return Some(Reply::Lost(why));
        }
        let live = self.live.as_ref()?;
        loop {
            let (id, reply) = live.inbox.borrow_mut().replies.pop_front()?;
            if self.in_flight == Some(id) {
                self.in_flight = None;
                if matches!(reply, Reply::Scanned { .. }) {
                    self.stops_in_a_row = 0;
                }
                return Some(reply);
            }
        }
    }

    fn restart(&mut self, why: &str) {
        self.stopped(why);
        // The camera gave the frame up itself.
        self.lost = None;
    }
}

/// The `ImageData`'s own buffer: transferred to the worker, never copied into wasm memory on
/// the page's thread.
pub fn rgba_of(data: &ImageData) -> Result<Rgba<ArrayBuffer>, String> {
    let pixels: Uint8ClampedArray = prop(data, "data")
        .dyn_into()
        .map_err(|_| "ImageData without pixels".to_string())?;
    Ok(Rgba {
        width: data.width(),
        height: data.height(),
        data: pixels.buffer(),
    })
}
