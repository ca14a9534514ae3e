//! # quickcard-kiosk
//!
//! The kiosk a child sees: hold up a signed QuickCard, get a session, see your apps. The binary
//! (`main.rs`) is a thin shell over this library so that tests, benchmarks and the browser
//! build use the same code.
//!
//! - [`scanner`]: camera/replay frame sources and the QR decoding pipeline (wasm-clean except
//!   the native camera);
//! - `cli` (native only): the command line — the kiosk itself and headless tools such as
//!   `decode`.

pub mod scanner;

// The kiosk app: state machine + screens, portal client, config, platform edges.
pub mod app;
pub mod config;
mod config_keys;
pub mod platform;
pub mod portal_client;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
