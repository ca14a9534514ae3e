//! Dates without a date library: cards carry Unix seconds, people write `2027-06-30`.
//!
//! Only UTC and only what the format needs: parse `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`,
//! and format back. Kept here so every tool reads and shows dates the same way.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0:?} is not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)")]
pub struct DateError(pub String);

// Howard Hinnant's civil-date algorithms (public domain), for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp as i64 + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Parses `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ` into Unix seconds.
pub fn parse(s: &str) -> Result<u64, DateError> {
    let bad = || DateError(s.to_string());
    let num = |t: &str| -> Result<u32, DateError> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        t.parse().map_err(|_| bad())
    };
    let (date, clock) = match s.split_once('T') {
        Some((d, c)) => (d, Some(c.strip_suffix('Z').ok_or_else(bad)?)),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d) = (num(y)? as i64, num(m)?, num(d)?);
    if y < 1970 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(c) = clock {
        let parts: Vec<&str> = c.split(':').collect();
        let [h, mi, se] = parts[..] else {
            return Err(bad());
        };
        let (h, mi, se) = (num(h)?, num(mi)?, num(se)?);
        if h > 23 || mi > 59 || se > 59 {
            return Err(bad());
        }
        secs += (h * 3600 + mi * 60 + se) as i64;
    }
    Ok(secs as u64)
}

/// `YYYY-MM-DD` of a Unix time (UTC).
pub fn format_date(secs: u64) -> String {
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
pub fn format_utc(secs: u64) -> String {
    let rem = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_date(secs),
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Serde helpers for optional times written as dates or as Unix seconds.
pub mod opt_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_str(&super::format_utc(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(match Option::<Raw>::deserialize(d)? {
            None => None,
            Some(Raw::Secs(s)) => Some(s),
            Some(Raw::Text(t)) => Some(super::parse(&t).map_err(serde::de::Error::custom)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(parse("1970-01-01").unwrap(), 0);
        assert_eq!(parse("2026-11-25").unwrap(), 1_795_564_800);
        assert_eq!(parse("2000-02-29T12:30:05Z").unwrap(), 951_827_405);
        assert_eq!(format_utc(951_827_405), "2000-02-29T12:30:05Z");
        assert_eq!(format_date(1_795_564_800), "2026-11-25");
    }

    #[test]
    fn rejects_impossible_dates() {
        for s in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-01T25:00:00Z",
            "2026-01-01T10:00:00",
            "tomorrow",
            "",
            "+026-01-01",
        ] {
            assert!(parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn round_trip_every_day_for_a_century() {
        for day in 0..36_525u64 {
            let t = day * 86_400;
            assert_eq!(parse(&format_date(t)).unwrap(), t);
        }
    }
}
