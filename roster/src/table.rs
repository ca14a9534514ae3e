//! One CSV file read into memory as checked UTF-8 rows with their line numbers.
//!
//! Both roster formats share this: it strips a UTF-8 byte-order mark (Excel writes one),
//! refuses UTF-16 and invalid UTF-8 with the line and column, and refuses torn rows (a field
//! count that differs from the header's) instead of guessing which field is which.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{ErrorKind, RosterError};

/// A read CSV file: header and rows, all text trimmed of surrounding white space.
#[derive(Debug)]
pub(crate) struct Table {
    pub path: PathBuf,
    headers: Vec<String>,
    index: HashMap<String, usize>,
    pub rows: Vec<Row>,
}

/// One data row and the line it starts on.
#[derive(Debug)]
pub(crate) struct Row {
    pub line: u64,
    fields: Vec<String>,
}

fn norm_header(h: &str) -> String {
    h.trim().to_ascii_lowercase()
}

impl Table {
    /// Reads and checks a whole file.
    pub fn read(path: &Path) -> Result<Table, RosterError> {
        let bytes =
            std::fs::read(path).map_err(|e| RosterError::new(path, None, ErrorKind::Io(e)))?;
        Table::parse(path, &bytes)
    }

    /// Parses the bytes of a file called `path`.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Table, RosterError> {
        let err = |line: Option<u64>, kind| RosterError::new(path, line, kind);
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            return Err(err(None, ErrorKind::Utf16));
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut headers: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        let mut record = csv::ByteRecord::new();
        loop {
            let more = reader.read_byte_record(&mut record).map_err(|e| {
                let line = e.position().map(|p| p.line());
                err(line, ErrorKind::Csv(e.to_string()))
            })?;
            if !more {
                break;
            }
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            // A line holding nothing but separators (",,,,", common at the end of spreadsheet
            // exports) is not a row.
            if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            let mut fields = Vec::with_capacity(record.len());
            for (i, raw) in record.iter().enumerate() {
                let text = std::str::from_utf8(raw).map_err(|e| {
                    let column = headers
                        .as_ref()
                        .and_then(|h| h.get(i).cloned())
                        .unwrap_or_else(|| format!("column {}", i + 1));
                    err(
                        Some(line),
                        ErrorKind::BadText {
                            column,
                            offset: e.valid_up_to(),
                        },
                    )
                })?;
                fields.push(text.trim().to_string());
            }
            match &headers {
                None => headers = Some(fields),
                Some(h) => {
                    if fields.len() != h.len() {
                        return Err(err(
                            Some(line),
                            ErrorKind::TornRow {
                                expected: h.len(),
                                found: fields.len(),
                            },
                        ));
                    }
                    rows.push(Row { line, fields });
                }
            }
        }
        let headers = headers.ok_or_else(|| err(None, ErrorKind::Empty))?;
        let mut index = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            if h.is_empty() {
                continue;
            }
            if index.insert(norm_header(h), i).is_some() {
                return Err(err(Some(1), ErrorKind::DuplicateColumn(h.clone())));
            }
        }
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            index,
            rows,
        })
    }

    /// Whether the header has a column (case-insensitive).
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(&norm_header(name))
    }

    /// The index of a column the file must have.
    pub fn column(&self, name: &str) -> Result<Col, RosterError> {
        self.index
            .get(&norm_header(name))
            .map(|&i| Col {
                index: i,
                name: self.headers[i].clone(),
            })
            .ok_or_else(|| {
                RosterError::new(&self.path, Some(1), ErrorKind::MissingColumn(name.into()))
            })
    }

    /// The index of a column the file may have.
    pub fn optional(&self, name: &str) -> Option<Col> {
        self.column(name).ok()
    }

    /// An error about `row`.
    pub fn error(&self, row: &Row, kind: ErrorKind) -> RosterError {
        RosterError::new(&self.path, Some(row.line), kind)
    }

    /// A field that must not be empty.
    pub fn required<'r>(&self, row: &'r Row, col: &Col) -> Result<&'r str, RosterError> {
        let v = row.get(col);
        if v.is_empty() {
            return Err(self.error(
                row,
                ErrorKind::MissingField {
                    column: col.name.clone(),
                },
            ));
        }
        Ok(v)
    }
}

/// A located column.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    index: usize,
    pub name: String,
}

impl Row {
    /// The trimmed field in `col` (possibly empty).
    pub fn get(&self, col: &Col) -> &str {
        &self.fields[col.index]
    }

    /// The field in an optional column, `""` when the column is absent.
    pub fn opt<'r>(&'r self, col: &Option<Col>) -> &'r str {
        col.as_ref().map_or("", |c| self.get(c))
    }
}
