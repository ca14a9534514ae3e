//! # QuickCard roster reader
//!
//! Schools hand QuickCard their roster as CSV. This crate reads it, once, into checked types
//! that both the card printer (`card-printer print`) and the portal (`quickcard-portal import`)
//! use, so the two can never disagree about who is in which class.
//!
//! Two formats are read, chosen by what the path is:
//!
//! - **A folder: OneRoster 1.1 CSV** — the bulk export of ClassLink, Clever and most
//!   student-information systems. See [`oneroster`] for the files and columns read.
//! - **A file: the simple CSV** — one row per user (and class), for schools without an SIS
//!   export. See [`simple`] for its columns.
//!
//! Data flows one way: the files → `table` (a CSV reader that names file and line in every
//! error) → [`oneroster`] or [`simple`] (rows into users, schools and classes) → a checked
//! [`Roster`], or one `RosterError`.
//!
//! Reading is all or nothing: any bad row (missing id, unknown role, duplicate id, text that is
//! not UTF-8, a reference to a school or class that is not there, a torn row) is a
//! [`RosterError`] naming the file and line, and no [`Roster`] is returned.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("roster.csv");
//! std::fs::write(&path, "sourced_id,given_name,family_name,role,school_id,class_id,class_name,teacher\n\
//!     stu-1,Zoë,O'Brien,student,sch-1,cls-1,Room 4,Ms. Ito\n").unwrap();
//! let roster = quickcard_roster::Roster::load(&path).unwrap();
//! let zoe = roster.user("stu-1").unwrap();
//! assert_eq!(zoe.full_name(), "Zoë O'Brien");
//! assert_eq!(roster.classes_of(&zoe.id)[0].teachers, ["Ms. Ito"]);
//! ```
//!
//! User ids are normalised with [`quickcard::Subject`] (UUIDs in lower case), exactly as a card
//! carries them, so `user(id)` finds a card's subject. School and class ids are kept as given:
//! a card's school tag is computed from the exact school id.

mod error;
pub mod oneroster;
pub mod simple;
mod table;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use error::{ErrorKind, RosterError};
pub use quickcard::Role;

/// Which format a roster was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterFormat {
    /// A OneRoster 1.1 CSV folder.
    OneRoster,
    /// The simple one-file CSV.
    Simple,
}

/// A school (a OneRoster org of type `school`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    /// The school's `sourcedId`, exactly as in the roster (cards carry a tag of it).
    pub id: String,
    /// The school's name; the id when the roster gives none.
    pub name: String,
}

/// A person on the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The `sourcedId`, normalised by `quickcard::Subject::parse(..).to_string()`.
    pub id: String,
    pub given_name: String,
    /// May be empty (people with one name).
    pub family_name: String,
    pub role: Role,
    /// The schools the user belongs to, in roster order (OneRoster: the `orgSourcedIds` that are
    /// schools; district-level orgs are not listed). May be empty for district staff.
    pub school_ids: Vec<String>,
    pub email: Option<String>,
    /// The login name (`username`), when the roster has one.
    pub username: Option<String>,
    /// Grade levels, e.g. `["03"]` (OneRoster `grades`, simple CSV `grade`).
    pub grades: Vec<String>,
    /// `false` when OneRoster's `enabledUser` is `false`: the user is on the roster but must
    /// not sign in. Card printing skips such users.
    pub enabled: bool,
    /// Ids of this user's parents/guardians (from `agentSourcedIds`).
    pub parent_ids: Vec<String>,
    /// Ids of this user's children (from `agentSourcedIds` of a parent, or of the child).
    pub child_ids: Vec<String>,
    /// Line of the user's (first) row in the users file.
    pub line: u64,
}

impl User {
    /// Given and family name, e.g. "Zoë O'Brien".
    pub fn full_name(&self) -> String {
        if self.family_name.is_empty() {
            self.given_name.clone()
        } else {
            format!("{} {}", self.given_name, self.family_name)
        }
    }

    /// The id as the card format's subject.
    pub fn subject(&self) -> quickcard::Subject {
        // Ids were checked with Subject::parse when read, so this cannot fail.
        quickcard::Subject::parse(&self.id).unwrap_or(quickcard::Subject::Text(self.id.clone()))
    }

    /// The first of the user's schools, if any.
    pub fn primary_school(&self) -> Option<&str> {
        self.school_ids.first().map(String::as_str)
    }
}

/// A class (section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    /// The class's `sourcedId`, as given.
    pub id: String,
    /// The class title, e.g. "Grade 3 — Room 12".
    pub name: String,
    /// The school the class belongs to.
    pub school_id: String,
    /// Teacher names to print, primary teacher first. OneRoster: the full names of the users
    /// enrolled as teachers. Simple CSV: the `teacher` column (several separated by `;`), or,
    /// when that is empty, the names of users with role teacher in the class.
    pub teachers: Vec<String>,
    /// Ids of the users enrolled as teachers, primary first.
    pub teacher_ids: Vec<String>,
}

/// One user's membership of one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub class_id: String,
    /// Normalised user id.
    pub user_id: String,
    /// The role in this class (OneRoster enrolment role; simple CSV: the user's role).
    pub role: Role,
    /// OneRoster's `primary` (the class's main teacher); simple CSV: true for teachers.
    pub primary: bool,
    /// OneRoster's `beginDate` (`YYYY-MM-DD`), when given.
    pub begin_date: Option<String>,
    /// OneRoster's `endDate` (`YYYY-MM-DD`), when given: the last day of the enrolment.
    pub end_date: Option<String>,
}

/// A whole roster, checked: every reference resolves, every id is unique.
#[derive(Debug, Clone)]
pub struct Roster {
    format: RosterFormat,
    source: PathBuf,
    schools: Vec<School>,
    users: Vec<User>,
    classes: Vec<Class>,
    enrollments: Vec<Enrollment>,
    school_ix: HashMap<String, usize>,
    user_ix: HashMap<String, usize>,
    class_ix: HashMap<String, usize>,
    user_classes: HashMap<String, Vec<usize>>,
    class_members: HashMap<String, Vec<usize>>,
}

/// Normalises a user id the way the roster and the cards do (`Subject::parse` then
/// `to_string`: UUIDs in lower case), or `None` if it can never be a user id.
pub fn normalize_user_id(id: &str) -> Option<String> {
    quickcard::Subject::parse(id.trim())
        .ok()
        .map(|s| s.to_string())
}

impl Roster {
    /// Reads a roster: a folder as OneRoster 1.1 CSV, a file as the simple CSV.
    pub fn load(path: impl AsRef<Path>) -> Result<Roster, RosterError> {
        let path = path.as_ref();
        let meta =
            std::fs::metadata(path).map_err(|e| RosterError::new(path, None, ErrorKind::Io(e)))?;
        if meta.is_dir() {
            oneroster::read_dir(path)
        } else {
            simple::read_file(path)
        }
    }

    /// Reads a OneRoster 1.1 CSV folder.
    pub fn from_oneroster_dir(dir: impl AsRef<Path>) -> Result<Roster, RosterError> {
        oneroster::read_dir(dir.as_ref())
    }

    /// Reads a simple CSV file.
    pub fn from_simple_csv(path: impl AsRef<Path>) -> Result<Roster, RosterError> {
        simple::read_file(path.as_ref())
    }

    /// Reads simple CSV from memory (an upload); `name` is used in error messages.
    pub fn from_simple_csv_bytes(
        name: impl AsRef<Path>,
        bytes: &[u8],
    ) -> Result<Roster, RosterError> {
        simple::read_bytes(name.as_ref(), bytes)
    }

    pub(crate) fn build(
        format: RosterFormat,
        source: &Path,
        schools: Vec<School>,
        users: Vec<User>,
        classes: Vec<Class>,
        enrollments: Vec<Enrollment>,
    ) -> Roster {
        let school_ix = schools
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let user_ix = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        let class_ix: HashMap<String, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let mut user_classes: HashMap<String, Vec<usize>> = HashMap::new();
        let mut class_members: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in enrollments.iter().enumerate() {
            if let Some(&c) = class_ix.get(&e.class_id) {
                user_classes.entry(e.user_id.clone()).or_default().push(c);
            }
            class_members.entry(e.class_id.clone()).or_default().push(i);
        }
        Roster {
            format,
            source: source.to_path_buf(),
            schools,
            users,
            classes,
            enrollments,
            school_ix,
            user_ix,
            class_ix,
            user_classes,
            class_members,
        }
    }

    /// Which format this roster was read from.
    pub fn format(&self) -> RosterFormat {
        self.format
    }

    /// The folder or file it was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// All schools, in roster order.
    pub fn schools(&self) -> &[School] {
        &self.schools
    }

    /// All users, in roster order (including disabled ones; see [`User::enabled`]).
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// All classes, in roster order.
    pub fn classes(&self) -> &[Class] {
        &self.classes
    }

    /// All enrolments, in roster order; at most one per (class, user).
    pub fn enrollments(&self) -> &[Enrollment] {
        &self.enrollments
    }

    /// The school with this id.
    pub fn school(&self, id: &str) -> Option<&School> {
        self.school_ix.get(id.trim()).map(|&i| &self.schools[i])
    }

    /// The user with this id (normalised first, so a UUID in upper case is found).
    pub fn user(&self, id: &str) -> Option<&User> {
        let id = normalize_user_id(id)?;
        self.user_ix.get(&id).map(|&i| &self.users[i])
    }

    /// The class with this id.
    pub fn class(&self, id: &str) -> Option<&Class> {
        self.class_ix.get(id.trim()).map(|&i| &self.classes[i])
    }

    /// The classes a user is enrolled in (as student or teacher), in enrolment order.
    pub fn classes_of(&self, user_id: &str) -> Vec<&Class> {
        let Some(id) = normalize_user_id(user_id) else {
            return Vec::new();
        };
        self.user_classes
            .get(&id)
            .map(|v| v.iter().map(|&i| &self.classes[i]).collect())
            .unwrap_or_default()
    }

    /// The enrolments of a class with their users, in enrolment order.
    pub fn members(&self, class_id: &str) -> Vec<(&Enrollment, &User)> {
        self.class_members
            .get(class_id.trim())
            .map(|v| {
                v.iter()
                    .filter_map(|&i| {
                        let e = &self.enrollments[i];
                        self.user_ix.get(&e.user_id).map(|&u| (e, &self.users[u]))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Splits a multi-value field (`a,b` in OneRoster, `a;b` in the simple CSV), trimming and
/// dropping empty parts.
pub(crate) fn split_list(value: &str, sep: char) -> Vec<String> {
    value
        .split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses a user id field into its normalised form.
pub(crate) fn parse_user_id(
    table: &table::Table,
    row: &table::Row,
    col: &table::Col,
) -> Result<String, RosterError> {
    let raw = table.required(row, col)?;
    quickcard::Subject::parse(raw)
        .map(|s| s.to_string())
        .map_err(|reason| {
            table.error(
                row,
                ErrorKind::BadId {
                    column: col.name.clone(),
                    value: raw.to_string(),
                    reason,
                },
            )
        })
}

/// Checks an optional date field: empty, `YYYY-MM-DD`, or (when `datetime`) an ISO 8601 UTC
/// or offset date-time such as `2026-08-01T00:00:00.000Z`. Returns the `YYYY-MM-DD` part.
pub(crate) fn parse_date(
    table: &table::Table,
    row: &table::Row,
    col: &Option<table::Col>,
    datetime: bool,
) -> Result<Option<String>, RosterError> {
    let v = row.opt(col);
    if v.is_empty() {
        return Ok(None);
    }
    let bad = || {
        table.error(
            row,
            ErrorKind::BadDate {
                column: col.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
                value: v.to_string(),
            },
        )
    };
    let cut = v.len().min(10);
    if !v.is_ascii() {
        return Err(bad());
    }
    let (date, rest) = v.split_at(cut);
    if date.len() != 10 || quickcard::time::parse(date).is_err() {
        return Err(bad());
    }
    if !rest.is_empty() {
        let time = rest
            .strip_prefix('T')
            .filter(|_| datetime)
            .ok_or_else(bad)?;
        let b = time.as_bytes();
        let two = |i: usize, max: u8| {
            b.len() > i + 1
                && b[i].is_ascii_digit()
                && b[i + 1].is_ascii_digit()
                && (b[i] - b'0') * 10 + (b[i + 1] - b'0') <= max
        };
        if !(two(0, 23) && b[2] == b':' && two(3, 59) && b.get(5) == Some(&b':') && two(6, 60)) {
            return Err(bad());
        }
        let mut tail = &time[8..];
        if let Some(frac) = tail.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            tail = &frac[digits..];
        }
        let zone_ok = tail.is_empty()
            || tail == "Z"
            || (tail.len() == 6
                && matches!(tail.as_bytes()[0], b'+' | b'-')
                && tail.as_bytes()[3] == b':'
                && tail[1..3]
                    .bytes()
                    .chain(tail[4..6].bytes())
                    .all(|c| c.is_ascii_digit()));
        if !zone_ok {
            return Err(bad());
        }
    }
    Ok(Some(date.to_string()))
}

/// Parses a role field.
pub(crate) fn parse_role(
    table: &table::Table,
    row: &table::Row,
    col: &table::Col,
) -> Result<Role, RosterError> {
    let raw = table.required(row, col)?;
    raw.parse::<Role>().map_err(|_| {
        table.error(
            row,
            ErrorKind::UnknownRole {
                column: col.name.clone(),
                value: raw.to_string(),
            },
        )
    })
}

#[cfg(test)]
mod tests;
