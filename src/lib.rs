//! # quickcard-kiosk
//!
//! The kiosk a child sees: hold up a signed QuickCard, get a session, see your apps. The binary
//! (`main.rs`) is a thin shell over this library so that tests, benchmarks and the browser
//! build use the same code.
//!
//! - [`scanner`]: camera/replay frame sources and the QR decoding pipeline (wasm-clean except
//!   the native camera); it also holds the crate's one `Clock` trait and one `Hint` enum;
//! - [`app`]: the kiosk itself: its ports (the traits it needs), the pure state machine and
//!   its flows, the driver that runs the machine's effects, and the egui screens;
//! - [`platform`]: the ports' implementations, native and browser, and start-up;
//! - [`portal_client`]: the portal's request and reply types, and the HTTP implementation of
//!   the portal port;
//! - [`config`]: the kiosk's config file;
//! - `cli` (native only): the command line — the kiosk itself and headless tools such as
//!   `decode`.
//!
//! Data flows one way, and dependencies point at the ports:
//!
//! ```text
//! scanner ──► app::core (state machine) ──Effect──► app::driver ──► app::ports ◄── platform
//!                  ▲                                     │                ▲
//!                  └─────────────── Input ◄──────────────┘                └── portal_client
//! ```
//!
//! Frames are scanned (on the camera side the platform provides) and reach the core as camera
//! inputs; the core answers each input with effects; the driver runs them through the ports and
//! feeds the results back as inputs. Nothing in `app` names `platform`.

pub mod scanner;

pub mod app;
pub mod config;
mod config_keys;
pub mod platform;
pub mod portal_client;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
