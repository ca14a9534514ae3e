//! What a card says: the claims, each in a checked type.
//!
//! Nothing here is personal data. The subject is the roster's opaque `sourcedId`, the school is
//! a 4-byte tag derived from the school's id, and times are plain Unix seconds. The user's name
//! is printed on the card, never encoded in it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Longest subject id that is not UUID-shaped, in UTF-8 bytes.
pub const MAX_TEXT_SUBJECT: usize = 64;

/// A claim value that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClaimError {
    #[error("unknown role {0:?}: use student, teacher, staff, parent or administrator")]
    UnknownRole(String),
    #[error("user id is empty")]
    EmptySubject,
    #[error("user id {id:?} is {len} bytes long; ids that are not UUIDs may have at most 64")]
    SubjectTooLong { id: String, len: usize },
    #[error("school id is empty")]
    EmptySchool,
    #[error("the card expires ({expires}) before it is issued ({issued})")]
    ExpiresBeforeIssue { issued: u64, expires: u64 },
    #[error("time {0} does not fit the card format (years 1970 to 2106)")]
    TimeOutOfRange(u64),
}

/// Who the card holder is to the school. Decides which apps and rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Student,
    Teacher,
    Staff,
    Parent,
    Administrator,
}

impl Role {
    /// Every role, in code order.
    pub const ALL: [Role; 5] = [
        Role::Student,
        Role::Teacher,
        Role::Staff,
        Role::Parent,
        Role::Administrator,
    ];

    /// The byte stored on the card.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The role for a stored byte, if it is one.
    pub fn from_code(code: u8) -> Option<Role> {
        Role::ALL.get(code as usize).copied()
    }

    /// The lower-case name used in rosters, configs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Teacher => "teacher",
            Role::Staff => "staff",
            Role::Parent => "parent",
            Role::Administrator => "administrator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ClaimError;

    /// Accepts the QuickCard names and the OneRoster 1.1 role names that map onto them
    /// (`guardian` and `relative` are parents; `aide` and `proctor` are staff).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "student" => Ok(Role::Student),
            "teacher" => Ok(Role::Teacher),
            "staff" | "aide" | "proctor" => Ok(Role::Staff),
            "parent" | "guardian" | "relative" => Ok(Role::Parent),
            "administrator" | "admin" => Ok(Role::Administrator),
            _ => Err(ClaimError::UnknownRole(s.to_string())),
        }
    }
}

/// Per-card switches. Unknown bits are rejected when decoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flags {
    /// The holder must also type a PIN (staff cards, typically).
    pub second_factor: bool,
}

impl Flags {
    pub(crate) const SECOND_FACTOR: u8 = 0b0000_0001;
    pub(crate) const KNOWN: u8 = Self::SECOND_FACTOR;

    pub(crate) fn bits(self) -> u8 {
        if self.second_factor {
            Self::SECOND_FACTOR
        } else {
            0
        }
    }

    pub(crate) fn from_bits(bits: u8) -> Option<Flags> {
        (bits & !Self::KNOWN == 0).then_some(Flags {
            second_factor: bits & Self::SECOND_FACTOR != 0,
        })
    }
}

/// The card holder's roster id (`sourcedId`).
///
/// UUID-shaped ids are stored as 16 bytes and shown in lower case; any other id is stored as
/// its UTF-8 text (at most 64 bytes). Use [`Subject::parse`] and its `Display`
/// (`to_string`) to normalise ids everywhere they are compared, so `ABC…` and `abc…` are the
/// same user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Uuid([u8; 16]),
    Text(String),
}

impl Subject {
    /// Parses a roster id, choosing the compact UUID form when the id is a hyphenated UUID.
    pub fn parse(id: &str) -> Result<Subject, ClaimError> {
        if id.is_empty() {
            return Err(ClaimError::EmptySubject);
        }
        if let Some(uuid) = parse_uuid(id) {
            return Ok(Subject::Uuid(uuid));
        }
        if id.len() > MAX_TEXT_SUBJECT {
            return Err(ClaimError::SubjectTooLong {
                id: id.to_string(),
                len: id.len(),
            });
        }
        Ok(Subject::Text(id.to_string()))
    }
}

/// Reads exactly the hyphenated form `8-4-4-4-12` (hex digits, any case). Every byte is checked
/// where it stands, so an id with a dash elsewhere, a missing digit or a non-ASCII character is
/// simply not a UUID: it stays a text id, as FORMAT.md says for "any other id".
fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    const DASHES: [usize; 4] = [8, 13, 18, 23];
    if s.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = 0usize;
    for (i, c) in s.bytes().enumerate() {
        if DASHES.contains(&i) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let nibble = (c as char).to_digit(16)? as u8;
        // 36 bytes less 4 dashes leave exactly 32 digits, so `digits / 2` stays below 16.
        let byte = out.get_mut(digits / 2)?;
        *byte = *byte << 4 | nibble;
        digits += 1;
    }
    Some(out)
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Text(t) => f.write_str(t),
            Subject::Uuid(u) => {
                for (i, byte) in u.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for Subject {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Subject::parse(s)
    }
}

impl Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Subject::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A school, as the card stores it: the first 4 bytes of a domain-separated SHA-256 of the
/// school's roster id. Compact and opaque; compare it with [`SchoolTag::of`] the school id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchoolTag(pub [u8; 4]);

impl SchoolTag {
    const DOMAIN: &'static [u8] = b"QuickCard school tag v1\0";

    /// The tag of a school id (the school org's `sourcedId`).
    pub fn of(school_id: &str) -> SchoolTag {
        let digest = Sha256::new()
            .chain_update(Self::DOMAIN)
            .chain_update(school_id.as_bytes())
            .finalize();
        SchoolTag([digest[0], digest[1], digest[2], digest[3]])
    }

    /// Whether this tag is the one of `school_id`.
    pub fn matches(&self, school_id: &str) -> bool {
        *self == SchoolTag::of(school_id)
    }
}

impl fmt::Display for SchoolTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for SchoolTag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Everything a card asserts, before or after signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// The user's roster id.
    pub subject: Subject,
    pub role: Role,
    /// Tag of the school the card was issued for.
    pub school: SchoolTag,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds; the card is refused after this moment (plus the verifier's clock skew).
    pub expires_at: u64,
    pub flags: Flags,
}

impl Claims {
    /// Builds claims from roster values, checking what the format can hold.
    pub fn new(
        subject: &str,
        role: Role,
        school_id: &str,
        issued_at: u64,
        expires_at: u64,
        flags: Flags,
    ) -> Result<Claims, ClaimError> {
        if school_id.trim().is_empty() {
            return Err(ClaimError::EmptySchool);
        }
        for t in [issued_at, expires_at] {
            if t > u32::MAX as u64 {
                return Err(ClaimError::TimeOutOfRange(t));
            }
        }
        if expires_at <= issued_at {
            return Err(ClaimError::ExpiresBeforeIssue {
                issued: issued_at,
                expires: expires_at,
            });
        }
        Ok(Claims {
            subject: Subject::parse(subject)?,
            role,
            school: SchoolTag::of(school_id),
            issued_at,
            expires_at,
            flags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_subjects_are_compact_and_normalised() {
        let s = Subject::parse("0F8E2A4C-1B3D-4E5F-8A9B-0C1D2E3F4A5B").unwrap();
        assert!(matches!(s, Subject::Uuid(_)));
        assert_eq!(s.to_string(), "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b");
        assert_eq!(
            Subject::parse("stu-0042").unwrap(),
            Subject::Text("stu-0042".into())
        );
        // A UUID-shaped id with a non-hex digit is kept as text.
        assert!(matches!(
            Subject::parse("0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5g").unwrap(),
            Subject::Text(_)
        ));
        assert_eq!(Subject::parse("").unwrap_err(), ClaimError::EmptySubject);
        assert!(matches!(
            Subject::parse(&"x".repeat(65)).unwrap_err(),
            ClaimError::SubjectTooLong { len: 65, .. }
        ));
    }

    #[test]
    fn a_uuid_shaped_subject_with_an_extra_dash_is_text_not_a_panic() {
        // 36 characters with the four UUID dashes in place and one more in the last group:
        // the old parser dropped every dash and indexed the odd number of digits left.
        let id = "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a-b";
        assert_eq!(id.len(), 36);
        assert_eq!(Subject::parse(id).unwrap(), Subject::Text(id.into()));
        // Two extra dashes left 30 digits, which were read as a UUID ending in a zero byte.
        let id = "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4-5-";
        assert_eq!(Subject::parse(id).unwrap(), Subject::Text(id.into()));
        // Dashes moved away from 8-4-4-4-12, and other UUID-sized near misses.
        for id in [
            "0f8e2a4c1-b3d-4e5f-8a9b-0c1d2e3f4a5b",
            "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5-",
            "------------------------------------",
            "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5\u{e9}",
            "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4\u{e9}b",
            "+f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
        ] {
            assert_eq!(
                Subject::parse(id).unwrap(),
                Subject::Text(id.into()),
                "{id}"
            );
        }
    }

    #[test]
    fn roles_parse_oneroster_names() {
        assert_eq!("Guardian".parse::<Role>().unwrap(), Role::Parent);
        assert_eq!("aide".parse::<Role>().unwrap(), Role::Staff);
        assert_eq!("teacher".parse::<Role>().unwrap(), Role::Teacher);
        assert!(matches!(
            "wizard".parse::<Role>().unwrap_err(),
            ClaimError::UnknownRole(r) if r == "wizard"
        ));
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        assert_eq!(Role::from_code(5), None);
    }

    #[test]
    fn school_tags_differ_per_school() {
        assert_ne!(SchoolTag::of("sch-1"), SchoolTag::of("sch-2"));
        assert!(SchoolTag::of("sch-1").matches("sch-1"));
    }

    #[test]
    fn claims_check_times() {
        assert!(matches!(
            Claims::new("u1", Role::Student, "s", 10, 10, Flags::default()).unwrap_err(),
            ClaimError::ExpiresBeforeIssue { .. }
        ));
        assert!(matches!(
            Claims::new("u1", Role::Student, "s", 10, 1 << 33, Flags::default()).unwrap_err(),
            ClaimError::TimeOutOfRange(_)
        ));
        assert_eq!(
            Claims::new("u1", Role::Student, " ", 1, 2, Flags::default()).unwrap_err(),
            ClaimError::EmptySchool
        );
    }
}
