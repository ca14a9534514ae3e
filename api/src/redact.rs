//! What a secret field prints in `Debug`: a derived `Debug` would put credentials, tokens and
//! passwords into any log line or panic message that formats the value with `{:?}`.

use std::fmt;

/// Prints `[redacted]`.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
