//! The kiosk's edges: the implementations of the core's ports ([`crate::app::ports`]) for the
//! native Linux kiosk and the browser build, chosen once at start-up.
//!
//! The core only names the port traits. It never blocks, never starts a thread and never reads
//! the system clock itself, so it compiles for `wasm32-unknown-unknown` unchanged and tests can
//! drive it with a manual clock, a recording launcher and replayed frames. Nothing in the core
//! imports from here; only the start-up code (`start`, the browser's entry point) wires these
//! implementations in.
//!
//! - `native`: a tokio [`Runtime`](crate::app::ports::Runtime) on its own thread, the system
//!   clock, the scanner in a camera worker thread, a command launcher, files for storage;
//! - [`web`]: `spawn_local`, `performance.now()`, `getUserMedia`, `localStorage`;
//! - `sound` (native): the cues and prompts through rodio (the browser build is silent for
//!   now: its sound port is the no-op [`Silent`](crate::app::ports::Silent));
//! - `apps` (native): the lab machine's launcher, which opens apps in the apps user's session;
//! - [`scan_bridge`]: the scanner's answer as the core's camera report, for both targets;
//! - [`MemoryStorage`]: storage that forgets (tests, the demo).

#[cfg(not(target_arch = "wasm32"))]
pub mod apps;
#[cfg(not(target_arch = "wasm32"))]
pub mod demo_frames;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub mod scan_bridge;
#[cfg(not(target_arch = "wasm32"))]
pub mod sound;
#[cfg(not(target_arch = "wasm32"))]
pub mod start;
// The browser build: sampled camera and page-address parsing on every target (tested
// natively), the getUserMedia/localStorage/WebRunner parts on wasm32 with feature `web`.
pub mod web;

/// Storage that forgets everything (tests, the demo).
#[derive(Debug, Default)]
pub struct MemoryStorage {
    items: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl crate::app::ports::Storage for MemoryStorage {
    fn load(&self, name: &str) -> Option<String> {
        self.items.lock().ok()?.get(name).cloned()
    }
    fn save(&self, name: &str, text: &str) -> Result<(), String> {
        self.items
            .lock()
            .map_err(|e| e.to_string())?
            .insert(name.to_string(), text.to_string());
        Ok(())
    }
}
