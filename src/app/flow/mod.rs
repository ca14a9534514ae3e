//! The state machine's flows, one file each, all `impl` blocks of
//! [`Core`](crate::app::core::Core): each reads and changes the core's state and emits
//! [`Effect`](crate::app::core::Effect)s, never running them.
//!
//! - [`config_sync`]: the portal's trust list and revocations, fetched and cached;
//! - [`card`]: a scanned code, its offline check, the PIN pad and the exchange;
//! - [`session`]: signed in, opening apps, signing out;
//! - [`admin`]: the admin PIN pad that leaves kiosk mode;
//! - [`sound`]: the cues and spoken prompts that follow the screen.

pub mod admin;
pub mod card;
pub mod config_sync;
pub mod session;
pub mod sound;

#[cfg(test)]
mod sound_tests;
#[cfg(test)]
mod tests;
