//! Roster errors. Every error names the file and, where there is one, the line, so a district
//! technician can open the export and fix the exact row.

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A roster that could not be read. Nothing is returned when this happens: a roster is either
/// read completely or not at all.
#[derive(Debug, Error)]
pub struct RosterError {
    /// The file (or, for a missing file, the folder) at fault.
    pub path: PathBuf,
    /// The 1-based line the faulty row starts on, when the error belongs to a row (the header
    /// is line 1).
    pub line: Option<u64>,
    /// What is wrong (boxed to keep `Result`s small).
    #[source]
    pub kind: Box<ErrorKind>,
}

impl fmt::Display for RosterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {}: {}", self.path.display(), line, self.kind),
            None => write!(f, "{}: {}", self.path.display(), self.kind),
        }
    }
}

impl RosterError {
    pub(crate) fn new(path: &Path, line: Option<u64>, kind: ErrorKind) -> RosterError {
        RosterError {
            path: path.to_path_buf(),
            line,
            kind: Box::new(kind),
        }
    }

    /// A short stable code for the kind of error (for APIs and tests), e.g. `duplicate_id`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// What is wrong with a roster file or row.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("cannot read it: {0}")]
    Io(#[source] std::io::Error),
    #[error(
        "the roster folder has no {0}; a OneRoster 1.1 CSV export has users.csv, orgs.csv, classes.csv and enrollments.csv"
    )]
    MissingFile(&'static str),
    #[error("the file is empty: it needs a header row")]
    Empty,
    #[error("the header row has no {0:?} column")]
    MissingColumn(String),
    #[error("the header row has the column {0:?} twice")]
    DuplicateColumn(String),
    #[error(
        "the row has {found} fields but the header has {expected} (a torn row: a missing or extra comma, or an unclosed quote)"
    )]
    TornRow { expected: usize, found: usize },
    #[error("{column} is empty")]
    MissingField { column: String },
    #[error(
        "unknown role {value:?} in {column}: use student, teacher, staff, parent or administrator (or the OneRoster names guardian, relative, aide, proctor)"
    )]
    UnknownRole { column: String, value: String },
    #[error("duplicate id {id:?}: it was already used on line {first_line}")]
    DuplicateId { id: String, first_line: u64 },
    #[error(
        "{column} is not valid UTF-8 text (bad byte at position {offset} of the field); save the file as \"CSV UTF-8\""
    )]
    BadText { column: String, offset: usize },
    #[error("the file is UTF-16 encoded; save it as \"CSV UTF-8\"")]
    Utf16,
    #[error("{column} refers to {what} {id:?}, which is not in {file}")]
    UnknownReference {
        column: String,
        what: &'static str,
        id: String,
        file: &'static str,
    },
    #[error("{column} {value:?} is not a date: write YYYY-MM-DD (or YYYY-MM-DDTHH:MM:SS.sssZ)")]
    BadDate { column: String, value: String },
    #[error("{column} has the invalid value {value:?}: {expected}")]
    BadValue {
        column: String,
        value: String,
        expected: &'static str,
    },
    #[error("{column} {value:?} is not a usable id: {reason}")]
    BadId {
        column: String,
        value: String,
        reason: quickcard::ClaimError,
    },
    #[error("{what} {id:?} has {column} {value:?} here but {previous:?} on line {first_line}")]
    Conflict {
        what: &'static str,
        id: String,
        column: String,
        value: String,
        previous: String,
        first_line: u64,
    },
    #[error(
        "this is a OneRoster users.csv; pass the folder that holds it (with orgs.csv, classes.csv and enrollments.csv)"
    )]
    OneRosterFileGiven,
    #[error("not readable as CSV: {0}")]
    Csv(String),
}

impl ErrorKind {
    /// A short stable code for the kind of error, e.g. `torn_row`.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Io(_) => "io",
            ErrorKind::MissingFile(_) => "missing_file",
            ErrorKind::Empty => "empty",
            ErrorKind::MissingColumn(_) => "missing_column",
            ErrorKind::DuplicateColumn(_) => "duplicate_column",
            ErrorKind::TornRow { .. } => "torn_row",
            ErrorKind::MissingField { .. } => "missing_field",
            ErrorKind::UnknownRole { .. } => "unknown_role",
            ErrorKind::DuplicateId { .. } => "duplicate_id",
            ErrorKind::BadText { .. } => "bad_text",
            ErrorKind::Utf16 => "bad_text",
            ErrorKind::UnknownReference { .. } => "unknown_reference",
            ErrorKind::BadDate { .. } => "bad_date",
            ErrorKind::BadValue { .. } => "bad_value",
            ErrorKind::BadId { .. } => "bad_id",
            ErrorKind::Conflict { .. } => "conflict",
            ErrorKind::OneRosterFileGiven => "oneroster_file_given",
            ErrorKind::Csv(_) => "csv",
        }
    }
}
