//! The portal's decisions, apart from HTTP: whether a card becomes a session, who may use card
//! login and who must add a PIN, which tiles a user sees, and the rules around a person's data.
//! Everything here is called by the HTTP handlers (`http`) and the [`crate::cli`] commands, and reads and
//! writes through [`crate::db`].
//!
//! - [`exchange`]: the card exchange, every check in its documented order, reading and
//!   auditing around [`decision`], the pure rules of the roster and the policy;
//!   [`pin_attempts`]: its PIN step and the guessing bound;
//! - [`policy`]: card login and second factor by role, school and grade;
//! - [`catalogue`]: the app tiles and their launch links;
//! - [`chromeos_password`]: the password handed out with a Chromebook sign-in;
//! - [`device_binding`] and [`verified_access`]: the sign-in bound to the district's devices
//!   and networks;
//! - [`person`]: one person's data exported or erased; [`retention`]: deleting what is no
//!   longer needed;
//! - [`roster_import`]: the roster, read by the shared parser, into the database;
//! - [`secrets`]: tokens, credentials, codes and PIN hashes; [`redact`]: `Debug` without them.

pub mod catalogue;
pub mod chromeos_password;
pub mod decision;
pub mod device_binding;
pub mod exchange;
pub mod person;
pub mod pin_attempts;
pub mod policy;
pub mod redact;
pub mod retention;
pub mod roster_import;
pub mod secrets;
/// Chrome Verified Access (device attestation on the sign-in path).
#[cfg(feature = "saml")]
pub mod verified_access;
