//! The photo set's categories, in the order the generator writes them and the scanner
//! benchmark reports them.
//!
//! Why a file of its own: the scanner benchmark (`benches/scanner.rs`) includes this same
//! file, so the two cannot list the categories differently.

/// Every category of the photo set, `PER_CATEGORY` frames each.
pub const CATEGORIES: [&str; 15] = [
    "baseline",
    "perspective",
    "rotation",
    "tiny",
    "large",
    "motion-blur",
    "focus-blur",
    "noise",
    "low-light",
    "uneven-light",
    "glare",
    "jpeg",
    "finger",
    "foreign",
    "no-code",
];
