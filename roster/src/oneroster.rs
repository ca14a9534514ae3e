//! OneRoster 1.1 CSV folders (the bulk export of ClassLink, Clever and SIS).
//!
//! Files and the columns read (names are matched case-insensitively; other columns, such as
//! `dateLastModified` or `metadata.*` extensions, are ignored; `manifest.csv`,
//! `academicSessions.csv`, `courses.csv` and the rest are not needed):
//!
//! | file | required columns | optional columns |
//! |---|---|---|
//! | `orgs.csv` | `sourcedId`, `name`, `type` | `status` |
//! | `users.csv` | `sourcedId`, `role`, `givenName`, `familyName`, `orgSourcedIds` | `status`, `enabledUser`, `username`, `email`, `grades`, `agentSourcedIds` |
//! | `classes.csv` | `sourcedId`, `title`, `schoolSourcedId` | `status` |
//! | `enrollments.csv` | `sourcedId`, `classSourcedId`, `userSourcedId`, `role` | `status`, `primary`, `beginDate`, `endDate` |
//!
//! Rules:
//! - Rows whose `status` is `tobedeleted` are skipped, and so are rows that refer to a skipped
//!   row (an enrolment of a deleted user). Any other reference to an id that is not in its file
//!   is an error.
//! - Schools are the orgs of `type` `school`. A user's `orgSourcedIds` (comma-separated) must
//!   all exist in `orgs.csv`; the schools among them become [`User::school_ids`]. A class's
//!   `schoolSourcedId` must be a school.
//! - `enabledUser` and `primary` are `true`/`false` (empty: `true` and `false`).
//! - `agentSourcedIds` (comma-separated) link parents and children: where exactly one of the
//!   two users has a parent role (`parent`, `guardian`, `relative`), it is the parent of the
//!   other. Links between two non-parents (rare; e.g. a teacher as agent) are ignored.
//! - `givenName` must not be empty; `familyName` may be.
//! - Dates are checked where present: `dateLastModified` (every file) is an ISO 8601 date or
//!   date-time (`2026-08-01T00:00:00.000Z`), `beginDate`/`endDate` are `YYYY-MM-DD`; a
//!   malformed one is an error naming file and line. The enrolment dates are kept
//!   ([`Enrollment::begin_date`], [`Enrollment::end_date`]) but not applied: an export lists
//!   the current enrolments.
//! - A class's teachers are its users enrolled with role `teacher`, primary ones first.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::error::{ErrorKind, RosterError};
use crate::table::{Col, Row, Table};
use crate::{
    Class, Enrollment, Role, Roster, RosterFormat, School, User, parse_date, parse_role,
    parse_user_id, split_list,
};

fn is_deleted(row: &Row, status: &Option<Col>) -> bool {
    row.opt(status).eq_ignore_ascii_case("tobedeleted")
}

fn parse_bool(
    table: &Table,
    row: &Row,
    col: &Option<Col>,
    default: bool,
) -> Result<bool, RosterError> {
    let v = row.opt(col);
    match v.to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(table.error(
            row,
            ErrorKind::BadValue {
                column: col.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
                value: v.to_string(),
                expected: "use true or false",
            },
        )),
    }
}

fn read(dir: &Path, name: &'static str) -> Result<Table, RosterError> {
    let path = dir.join(name);
    if !path.is_file() {
        return Err(RosterError::new(dir, None, ErrorKind::MissingFile(name)));
    }
    Table::read(&path)
}

/// Checks that `id` was not seen before in this file.
fn first_use(
    seen: &mut HashMap<String, u64>,
    table: &Table,
    row: &Row,
    id: &str,
) -> Result<(), RosterError> {
    if let Some(&first_line) = seen.get(id) {
        return Err(table.error(
            row,
            ErrorKind::DuplicateId {
                id: id.to_string(),
                first_line,
            },
        ));
    }
    seen.insert(id.to_string(), row.line);
    Ok(())
}

fn unknown(
    table: &Table,
    row: &Row,
    col: &Col,
    what: &'static str,
    id: &str,
    file: &'static str,
) -> RosterError {
    table.error(
        row,
        ErrorKind::UnknownReference {
            column: col.name.clone(),
            what,
            id: id.to_string(),
            file,
        },
    )
}

/// Reads a OneRoster 1.1 CSV folder, reporting the first error found (and returning nothing).
pub(crate) fn read_dir(dir: &Path) -> Result<Roster, RosterError> {
    // Check all files exist first, so a missing file is reported before row errors elsewhere.
    for name in ["orgs.csv", "users.csv", "classes.csv", "enrollments.csv"] {
        if !dir.join(name).is_file() {
            return Err(RosterError::new(dir, None, ErrorKind::MissingFile(name)));
        }
    }

    // --- orgs.csv
    let orgs = read(dir, "orgs.csv")?;
    let (o_id, o_name, o_type, o_status) = (
        orgs.column("sourcedId")?,
        orgs.column("name")?,
        orgs.column("type")?,
        orgs.optional("status"),
    );
    let o_modified = orgs.optional("dateLastModified");
    let mut org_seen = HashMap::new();
    let mut org_is_school: HashMap<String, bool> = HashMap::new();
    let mut deleted_orgs = HashSet::new();
    let mut schools = Vec::new();
    for row in &orgs.rows {
        let id = orgs.required(row, &o_id)?.to_string();
        first_use(&mut org_seen, &orgs, row, &id)?;
        parse_date(&orgs, row, &o_modified, true)?;
        if is_deleted(row, &o_status) {
            deleted_orgs.insert(id);
            continue;
        }
        let is_school = row.get(&o_type).eq_ignore_ascii_case("school");
        if is_school {
            let name = row.get(&o_name);
            schools.push(School {
                name: if name.is_empty() {
                    id.clone()
                } else {
                    name.to_string()
                },
                id: id.clone(),
            });
        }
        org_is_school.insert(id, is_school);
    }

    // --- users.csv
    let users_t = read(dir, "users.csv")?;
    let u_id = users_t.column("sourcedId")?;
    let u_role = users_t.column("role")?;
    let u_given = users_t.column("givenName")?;
    let u_family = users_t.column("familyName")?;
    let u_orgs = users_t.column("orgSourcedIds")?;
    let u_status = users_t.optional("status");
    let u_enabled = users_t.optional("enabledUser");
    let u_username = users_t.optional("username");
    let u_email = users_t.optional("email");
    let u_grades = users_t.optional("grades");
    let u_agents = users_t.optional("agentSourcedIds");
    let u_modified = users_t.optional("dateLastModified");
    let mut user_seen = HashMap::new();
    let mut deleted_users = HashSet::new();
    let mut users: Vec<User> = Vec::new();
    let mut agents: Vec<(usize, &Row, Vec<String>)> = Vec::new();
    for row in &users_t.rows {
        let id = parse_user_id(&users_t, row, &u_id)?;
        first_use(&mut user_seen, &users_t, row, &id)?;
        parse_date(&users_t, row, &u_modified, true)?;
        if is_deleted(row, &u_status) {
            deleted_users.insert(id);
            continue;
        }
        let role = parse_role(&users_t, row, &u_role)?;
        let given_name = users_t.required(row, &u_given)?.to_string();
        let mut school_ids = Vec::new();
        for org in split_list(row.get(&u_orgs), ',') {
            match org_is_school.get(&org) {
                Some(true) => {
                    if !school_ids.contains(&org) {
                        school_ids.push(org)
                    }
                }
                Some(false) => {}
                None if deleted_orgs.contains(&org) => {}
                None => return Err(unknown(&users_t, row, &u_orgs, "org", &org, "orgs.csv")),
            }
        }
        let agent_ids = split_list(row.opt(&u_agents), ',');
        if !agent_ids.is_empty() {
            agents.push((users.len(), row, agent_ids));
        }
        let opt = |c: &Option<Col>| Some(row.opt(c).to_string()).filter(|s| !s.is_empty());
        users.push(User {
            id,
            given_name,
            family_name: row.get(&u_family).to_string(),
            role,
            school_ids,
            email: opt(&u_email),
            username: opt(&u_username),
            grades: split_list(row.opt(&u_grades), ','),
            enabled: parse_bool(&users_t, row, &u_enabled, true)?,
            parent_ids: Vec::new(),
            child_ids: Vec::new(),
            line: row.line,
        });
    }
    let user_ix: HashMap<String, usize> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.clone(), i))
        .collect();
    // Parent/child links from agentSourcedIds, deduplicated.
    let mut links: BTreeSet<(usize, usize)> = BTreeSet::new(); // (parent, child)
    if let Some(agent_col) = &u_agents {
        for (ui, row, ids) in &agents {
            for raw in ids {
                let Some(aid) = crate::normalize_user_id(raw) else {
                    continue;
                };
                let ai = match user_ix.get(&aid) {
                    Some(&ai) => ai,
                    None if deleted_users.contains(&aid) => continue,
                    None => {
                        return Err(unknown(&users_t, row, agent_col, "user", raw, "users.csv"));
                    }
                };
                let (u_parent, a_parent) = (
                    users[*ui].role == Role::Parent,
                    users[ai].role == Role::Parent,
                );
                if u_parent && !a_parent {
                    links.insert((*ui, ai));
                } else if a_parent && !u_parent {
                    links.insert((ai, *ui));
                }
            }
        }
    }
    for (p, c) in links {
        let (pid, cid) = (users[p].id.clone(), users[c].id.clone());
        users[p].child_ids.push(cid);
        users[c].parent_ids.push(pid);
    }

    // --- classes.csv
    let classes_t = read(dir, "classes.csv")?;
    let c_id = classes_t.column("sourcedId")?;
    let c_title = classes_t.column("title")?;
    let c_school = classes_t.column("schoolSourcedId")?;
    let c_status = classes_t.optional("status");
    let c_modified = classes_t.optional("dateLastModified");
    let mut class_seen = HashMap::new();
    let mut deleted_classes = HashSet::new();
    let mut classes = Vec::new();
    for row in &classes_t.rows {
        let id = classes_t.required(row, &c_id)?.to_string();
        first_use(&mut class_seen, &classes_t, row, &id)?;
        parse_date(&classes_t, row, &c_modified, true)?;
        if is_deleted(row, &c_status) {
            deleted_classes.insert(id);
            continue;
        }
        let school = classes_t.required(row, &c_school)?;
        match org_is_school.get(school) {
            Some(true) => {}
            _ if deleted_orgs.contains(school) => {
                deleted_classes.insert(id);
                continue;
            }
            _ => {
                return Err(unknown(
                    &classes_t, row, &c_school, "school", school, "orgs.csv",
                ));
            }
        }
        let title = row.get(&c_title);
        classes.push(Class {
            name: if title.is_empty() {
                id.clone()
            } else {
                title.to_string()
            },
            id,
            school_id: school.to_string(),
            teachers: Vec::new(),
            teacher_ids: Vec::new(),
        });
    }
    let class_ix: HashMap<String, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();

    // --- enrollments.csv
    let enr_t = read(dir, "enrollments.csv")?;
    let e_id = enr_t.column("sourcedId")?;
    let e_class = enr_t.column("classSourcedId")?;
    let e_user = enr_t.column("userSourcedId")?;
    let e_role = enr_t.column("role")?;
    let e_primary = enr_t.optional("primary");
    let e_status = enr_t.optional("status");
    let e_modified = enr_t.optional("dateLastModified");
    let e_begin = enr_t.optional("beginDate");
    let e_end = enr_t.optional("endDate");
    let mut enr_seen = HashMap::new();
    let mut pairs = HashSet::new();
    let mut enrollments = Vec::new();
    for row in &enr_t.rows {
        let id = enr_t.required(row, &e_id)?.to_string();
        first_use(&mut enr_seen, &enr_t, row, &id)?;
        parse_date(&enr_t, row, &e_modified, true)?;
        let begin_date = parse_date(&enr_t, row, &e_begin, false)?;
        let end_date = parse_date(&enr_t, row, &e_end, false)?;
        if is_deleted(row, &e_status) {
            continue;
        }
        let class_id = enr_t.required(row, &e_class)?.to_string();
        let user_id = parse_user_id(&enr_t, row, &e_user)?;
        let role = parse_role(&enr_t, row, &e_role)?;
        let primary = parse_bool(&enr_t, row, &e_primary, false)?;
        if !class_ix.contains_key(&class_id) {
            if deleted_classes.contains(&class_id) {
                continue;
            }
            return Err(unknown(
                &enr_t,
                row,
                &e_class,
                "class",
                &class_id,
                "classes.csv",
            ));
        }
        if !user_ix.contains_key(&user_id) {
            if deleted_users.contains(&user_id) {
                continue;
            }
            return Err(unknown(
                &enr_t,
                row,
                &e_user,
                "user",
                row.get(&e_user),
                "users.csv",
            ));
        }
        if pairs.insert((class_id.clone(), user_id.clone())) {
            enrollments.push(Enrollment {
                class_id,
                user_id,
                role,
                primary,
                begin_date,
                end_date,
            });
        }
    }
    // Teachers per class: primary first, then in file order.
    let mut teacher_enr: Vec<&Enrollment> = enrollments
        .iter()
        .filter(|e| e.role == Role::Teacher)
        .collect();
    teacher_enr.sort_by_key(|e| !e.primary); // stable: file order within each group
    for e in teacher_enr {
        let class = &mut classes[class_ix[&e.class_id]];
        let user = &users[user_ix[&e.user_id]];
        class.teacher_ids.push(user.id.clone());
        class.teachers.push(user.full_name());
    }

    Ok(Roster::build(
        RosterFormat::OneRoster,
        dir,
        schools,
        users,
        classes,
        enrollments,
    ))
}
