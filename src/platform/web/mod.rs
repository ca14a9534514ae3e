//! The browser side of the platform traits: the same kiosk app in a web page on a
//! Chromebook, built for `wasm32-unknown-unknown` with the `web` feature.
//!
//! Why a module of its own: ChromeOS gives native programs no sign-in screen, no kiosk mode and
//! no camera, so the kiosk reaches Chromebooks as a page. Everything the page needs that differs
//! from the Linux kiosk lives here and is chosen once at start-up; the screens never see it.
//!
//! - [`offthread`] (every target, tested natively):
//!   [`OffThreadCamera`](offthread::OffThreadCamera) is the core's
//!   [`Camera`](crate::app::ports::Camera) on the page: it grabs frames on the UI thread and has
//!   them scanned elsewhere through a [`ScanChannel`](offthread::ScanChannel), one frame in
//!   flight at a time, so a slow frame never stalls drawing.
//! - [`sampled`] (every target, tested natively): [`SampledCamera`](sampled::SampledCamera)
//!   turns any [`FrameSource`](crate::scanner::FrameSource) into the core's camera *on the UI
//!   thread*, scanning at most one frame every few hundred milliseconds so drawing stays
//!   smooth: where the page cannot run its scan worker.
//! - [`page`] (every target, tested natively): the page URL's query — mode (lab kiosk or
//!   sign-in), portal address, language — parsed into a checked [`PageStart`](page::PageStart).
//! - `browser` (wasm32 + feature `web`): `getUserMedia` frames, `localStorage`, the launcher,
//!   a `spawn_local` runtime, the page's mirror of the screen and the `#[wasm_bindgen(start)]`
//!   entry that runs the app in `<canvas id="quickcard">` with eframe's `WebRunner`
//!   (glow/WebGL2). Its clock is the scanner's `SystemClock`, which `web-time` serves from
//!   `Date.now()` and `performance.now()` there.
//! - `worker` (wasm32 + feature `web`): the scan worker, a Web Worker running this same wasm
//!   module with one scanner, and the page's channel to it.

pub mod offthread;
pub mod page;
pub mod sampled;
#[cfg(test)]
mod test_support;

#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub mod browser;
#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub mod worker;
