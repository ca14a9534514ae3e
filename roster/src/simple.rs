//! The simple roster CSV: one file, one row per user and class, for schools without a
//! OneRoster export (a spreadsheet saved as "CSV UTF-8").
//!
//! Header row (column names case-insensitive, any order; unknown columns are ignored):
//!
//! ```text
//! sourced_id,given_name,family_name,role,school_id,class_id,class_name,teacher
//! ```
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `sourced_id` | yes | the user's id (the SIS id; UUIDs are normalised to lower case) |
//! | `given_name` | yes | first name, printed large on the card |
//! | `family_name` | column yes, value may be empty | last name |
//! | `role` | yes | `student`, `teacher`, `staff`, `parent`, `administrator` (or OneRoster names: `guardian`, `relative`, `aide`, `proctor`) |
//! | `school_id` | yes | the school's id (cards carry a tag of it) |
//! | `class_id` | optional column, may be empty | the class/section id; empty for staff without a class |
//! | `class_name` | optional | class title (defaults to the `class_id`) |
//! | `teacher` | optional | teacher name(s) to print for the class; several separated by `;`. When empty for the whole class, the names of the class's users with role `teacher` are used |
//! | `email` | optional | the user's e-mail |
//! | `school_name` | optional | the school's name (defaults to the `school_id`) |
//! | `grade` | optional | grade level, e.g. `03` or `K` (several separated by `;`) |
//!
//! A user in several classes has one row per class. Those rows must agree on name and role
//! (a different name under the same id is a duplicate id), and the same user may not be listed
//! twice for one class (or twice without a class). All rows of a class must agree on its name,
//! school and teacher; all rows of a school on its name.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{ErrorKind, RosterError};
use crate::table::{Row, Table};
use crate::{
    Class, Enrollment, Role, Roster, RosterFormat, School, User, parse_role, parse_user_id,
    split_list,
};

pub(crate) fn read_file(path: &Path) -> Result<Roster, RosterError> {
    build(Table::read(path)?)
}

pub(crate) fn read_bytes(path: &Path, bytes: &[u8]) -> Result<Roster, RosterError> {
    build(Table::parse(path, bytes)?)
}

/// Records the first value of a property and reports a different later one.
#[allow(clippy::too_many_arguments)]
fn agree(
    table: &Table,
    row: &Row,
    what: &'static str,
    id: &str,
    column: &str,
    first: &mut (String, u64),
    value: &str,
) -> Result<(), RosterError> {
    if value.is_empty() || first.0 == value {
        return Ok(());
    }
    if first.0.is_empty() {
        *first = (value.to_string(), row.line);
        return Ok(());
    }
    Err(table.error(
        row,
        ErrorKind::Conflict {
            what,
            id: id.to_string(),
            column: column.to_string(),
            value: value.to_string(),
            previous: first.0.clone(),
            first_line: first.1,
        },
    ))
}

struct ClassAcc {
    name: (String, u64),
    school: (String, u64),
    teacher: (String, u64),
}

fn build(table: Table) -> Result<Roster, RosterError> {
    if !table.has("sourced_id") && table.has("sourcedId") && table.has("givenName") {
        return Err(RosterError::new(
            &table.path,
            None,
            ErrorKind::OneRosterFileGiven,
        ));
    }
    let c_id = table.column("sourced_id")?;
    let c_given = table.column("given_name")?;
    let c_family = table.column("family_name")?;
    let c_role = table.column("role")?;
    let c_school = table.column("school_id")?;
    let c_class = table.optional("class_id");
    let c_class_name = table.optional("class_name");
    let c_teacher = table.optional("teacher");
    let c_email = table.optional("email");
    let c_school_name = table.optional("school_name");
    let c_grade = table.optional("grade");

    let mut schools: Vec<School> = Vec::new();
    let mut school_names: HashMap<String, (usize, (String, u64))> = HashMap::new();
    let mut users: Vec<User> = Vec::new();
    let mut user_ix: HashMap<String, usize> = HashMap::new();
    let mut classes: Vec<Class> = Vec::new();
    let mut class_acc: HashMap<String, (usize, ClassAcc)> = HashMap::new();
    let mut enrollments: Vec<Enrollment> = Vec::new();
    // (user, class or "") -> line, to catch a user listed twice for the same class.
    let mut placements: HashMap<(String, String), u64> = HashMap::new();

    for row in &table.rows {
        let id = parse_user_id(&table, row, &c_id)?;
        let given = table.required(row, &c_given)?;
        let family = row.get(&c_family);
        let role = parse_role(&table, row, &c_role)?;
        let school_id = table.required(row, &c_school)?;
        let class_id = row.opt(&c_class);

        // School.
        let school_name = row.opt(&c_school_name);
        match school_names.get_mut(school_id) {
            Some((i, first)) => {
                agree(
                    &table,
                    row,
                    "school",
                    school_id,
                    "school_name",
                    first,
                    school_name,
                )?;
                if !school_name.is_empty() {
                    schools[*i].name = first.0.clone();
                }
            }
            None => {
                school_names.insert(
                    school_id.to_string(),
                    (schools.len(), (school_name.to_string(), row.line)),
                );
                schools.push(School {
                    id: school_id.to_string(),
                    name: if school_name.is_empty() {
                        school_id
                    } else {
                        school_name
                    }
                    .to_string(),
                });
            }
        }

        // User (the same id in several rows must be the same person).
        if let Some(&first_line) = placements.get(&(id.clone(), class_id.to_string())) {
            return Err(table.error(row, ErrorKind::DuplicateId { id, first_line }));
        }
        placements.insert((id.clone(), class_id.to_string()), row.line);
        let email = Some(row.opt(&c_email).to_string()).filter(|s| !s.is_empty());
        let grades = split_list(row.opt(&c_grade), ';');
        match user_ix.get(&id) {
            Some(&ui) => {
                let u = &mut users[ui];
                if u.given_name != given || u.family_name != family || u.role != role {
                    return Err(table.error(
                        row,
                        ErrorKind::DuplicateId {
                            id,
                            first_line: u.line,
                        },
                    ));
                }
                if !u.school_ids.iter().any(|s| s == school_id) {
                    u.school_ids.push(school_id.to_string());
                }
                if u.email.is_none() {
                    u.email = email;
                }
                for g in grades {
                    if !u.grades.contains(&g) {
                        u.grades.push(g);
                    }
                }
            }
            None => {
                user_ix.insert(id.clone(), users.len());
                users.push(User {
                    id: id.clone(),
                    given_name: given.to_string(),
                    family_name: family.to_string(),
                    role,
                    school_ids: vec![school_id.to_string()],
                    email,
                    username: None,
                    grades,
                    enabled: true,
                    parent_ids: Vec::new(),
                    child_ids: Vec::new(),
                    line: row.line,
                });
            }
        }

        // Class and enrolment.
        if class_id.is_empty() {
            continue;
        }
        let class_name = row.opt(&c_class_name);
        let teacher = row.opt(&c_teacher);
        match class_acc.get_mut(class_id) {
            Some((_, acc)) => {
                agree(
                    &table,
                    row,
                    "class",
                    class_id,
                    "class_name",
                    &mut acc.name,
                    class_name,
                )?;
                agree(
                    &table,
                    row,
                    "class",
                    class_id,
                    "school_id",
                    &mut acc.school,
                    school_id,
                )?;
                agree(
                    &table,
                    row,
                    "class",
                    class_id,
                    "teacher",
                    &mut acc.teacher,
                    teacher,
                )?;
            }
            None => {
                class_acc.insert(
                    class_id.to_string(),
                    (
                        classes.len(),
                        ClassAcc {
                            name: (class_name.to_string(), row.line),
                            school: (school_id.to_string(), row.line),
                            teacher: (teacher.to_string(), row.line),
                        },
                    ),
                );
                classes.push(Class {
                    id: class_id.to_string(),
                    name: String::new(),
                    school_id: school_id.to_string(),
                    teachers: Vec::new(),
                    teacher_ids: Vec::new(),
                });
            }
        }
        enrollments.push(Enrollment {
            class_id: class_id.to_string(),
            user_id: id,
            role,
            primary: role == Role::Teacher,
            begin_date: None,
            end_date: None,
        });
    }

    for (class_id, (ci, acc)) in &class_acc {
        let class = &mut classes[*ci];
        class.name = if acc.name.0.is_empty() {
            class_id.clone()
        } else {
            acc.name.0.clone()
        };
        class.teachers = split_list(&acc.teacher.0, ';');
    }
    for e in &enrollments {
        if e.role == Role::Teacher {
            let ci = class_acc[&e.class_id].0;
            let user = &users[user_ix[&e.user_id]];
            classes[ci].teacher_ids.push(user.id.clone());
            if acc_teacher_empty(&class_acc[&e.class_id].1) {
                classes[ci].teachers.push(user.full_name());
            }
        }
    }

    Ok(Roster::build(
        RosterFormat::Simple,
        &table.path,
        schools,
        users,
        classes,
        enrollments,
    ))
}

fn acc_teacher_empty(acc: &ClassAcc) -> bool {
    acc.teacher.0.is_empty()
}
