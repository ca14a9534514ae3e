//! `xs:dateTime` in UTC, the only time form SAML allows, to and from Unix seconds (the clock
//! type the rest of QuickCard passes around).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time, as SAML wants it (UTC, no fractional seconds).
pub fn format_xs_datetime(secs: u64) -> String {
    match i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
    {
        Some(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        // Out of the representable range: clamp to the largest time SAML peers accept.
        None => "9999-12-31T23:59:59Z".to_owned(),
    }
}

/// Parses an `xs:dateTime` that must be in UTC (`Z`); fractional seconds are truncated.
/// Returns `None` for anything else (no offset, another offset, before 1970).
pub fn parse_xs_datetime(s: &str) -> Option<u64> {
    if !s.ends_with('Z') {
        return None;
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        assert_eq!(format_xs_datetime(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_xs_datetime(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(
            parse_xs_datetime("2026-11-18T11:06:40Z"),
            Some(1_795_000_000)
        );
        assert_eq!(
            parse_xs_datetime("2026-11-18T11:06:40.999Z"),
            Some(1_795_000_000)
        );
        assert_eq!(parse_xs_datetime("2026-11-18T11:06:40+01:00"), None);
        assert_eq!(parse_xs_datetime("2026-11-18T11:06:40"), None);
        assert_eq!(parse_xs_datetime("1969-12-31T23:59:59Z"), None);
        assert_eq!(parse_xs_datetime("yesterday"), None);
    }
}
