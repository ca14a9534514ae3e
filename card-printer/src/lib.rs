//! # QuickCard card printer
//!
//! Prints QuickCards — signed QR login cards — for the people on a school roster: a teacher
//! printing a class the night before school starts, a technician printing a whole school, or
//! one lost card again. The binary `card-printer` is a thin command line over this library:
//!
//! - [`cards`]: selection, grouping by class and sorting, expiry, signing ([`quickcard::sign`]);
//! - [`design`]: what one card looks like, as a [`design::Drawing`] in millimetres;
//! - [`layout`]: sheet layouts (letter-8, a4-8, Avery 5371/8371);
//! - [`pdf`]: sheets as PDF (krilla, vector QR, embedded subset font);
//! - [`png`](mod@png): one card as a PNG image (tiny-skia);
//! - [`inspect`]: decode a card from text or a photo/scan (rqrr) and verify it;
//! - [`output`]: atomic file writes; [`fonts`]: the embedded font and shaping;
//! - [`cli`]: the commands.
//!
//! Rosters are read by `quickcard-roster`, the parser the portal shares.
//!
//! Data flows one way: a roster ([`quickcard_roster::Roster`]) → [`cards`] picks, orders and
//! signs the cards → [`design`] draws each one → [`layout`] places them on sheets → [`pdf`] or
//! [`png`](mod@png) renders → [`output`] writes the file. [`inspect`] is the way back, from a
//! photo to the verified card.

pub mod cards;
pub mod cli;
pub mod design;
pub mod fonts;
pub mod inspect;
pub mod layout;
pub mod output;
pub mod pdf;
pub mod png;

/// Millimetres per PostScript point (1/72 in).
pub const MM_PER_PT: f32 = 25.4 / 72.0;
/// Points per millimetre.
pub const PT_PER_MM: f32 = 72.0 / 25.4;
