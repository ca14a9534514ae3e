//! `portal/API.md` is the contract for people, [`ErrorCode`] and [`AuditKind`] the one for
//! the compiler: the error table and the list of audit kinds of the one must list exactly the
//! variants of the other, so neither can change without the other.

use std::collections::BTreeSet;

use quickcard_api::{AuditKind, ErrorCode};

/// The codes in the first column of the table under `## Errors`.
fn documented_codes() -> Vec<String> {
    let md = include_str!("../../portal/API.md");
    let errors = md
        .split("\n## Errors\n")
        .nth(1)
        .expect("API.md has an \"## Errors\" section");
    let section = errors.split("\n## ").next().unwrap_or(errors);
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(code, _)| code.to_string())
        .collect()
}

#[test]
fn api_md_lists_exactly_the_error_codes() {
    let documented = documented_codes();
    assert!(
        documented.len() > 30,
        "the table was not found: {documented:?}"
    );
    let doc: BTreeSet<&str> = documented.iter().map(String::as_str).collect();
    assert_eq!(doc.len(), documented.len(), "a code is listed twice");
    let known: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let undocumented: Vec<_> = known.difference(&doc).collect();
    let unknown: Vec<_> = doc.difference(&known).collect();
    assert!(
        undocumented.is_empty(),
        "ErrorCode variants missing from portal/API.md's error table: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "codes in portal/API.md's error table that ErrorCode does not have: {unknown:?}"
    );
    // The same order, so the enum reads like the table.
    let ours: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(ours, documented, "ErrorCode::ALL is in the table's order");
}

/// The audit row kinds `GET /v1/admin/audit` documents are [`AuditKind`]'s.
#[test]
fn api_md_lists_exactly_the_audit_kinds() {
    let md = include_str!("../../portal/API.md");
    let list = md
        .split("`kind` is one of ")
        .nth(1)
        .and_then(|rest| rest.split("; `result`").next())
        .expect("API.md lists the audit kinds");
    let documented: BTreeSet<&str> = list.split('`').skip(1).step_by(2).collect();
    let known: BTreeSet<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(documented, known);
}
