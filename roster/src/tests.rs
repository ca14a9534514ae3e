//! Unit tests: both formats, and every error case naming file and line.

use std::fs;
use std::path::Path;

use super::*;

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
dist-1,active,2026-08-01,Springfield District,district,,
sch-lincoln-elementary,active,2026-08-01,Lincoln Elementary,school,LES,dist-1
sch-old,tobedeleted,2026-08-01,Old School,school,,dist-1
";
const USERS: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
stu-1,active,2026-08-01,true,sch-lincoln-elementary,student,zoe,,Zoë,O'Brien,,,,,,par-1,03,
9F1C2B3A-0000-4000-8000-00000000ABCD,active,2026-08-01,true,\"dist-1,sch-lincoln-elementary\",student,li,,李,小龙,,,,,,,\"03,04\",
tea-1,active,2026-08-01,true,sch-lincoln-elementary,teacher,mgarcia,,María,García,,,m@lincoln.example,,,,,
tea-2,active,2026-08-01,true,sch-lincoln-elementary,teacher,abe,,Abe,Lin,,,,,,,,
par-1,active,2026-08-01,TRUE,sch-lincoln-elementary,guardian,,,Siobhán,O'Brien,,,,,,stu-1,,
gone-1,tobedeleted,2026-08-01,true,sch-lincoln-elementary,student,,,Gone,Away,,,,,,,,
off-1,active,2026-08-01,false,\"sch-lincoln-elementary,sch-old\",aide,,,Off,Duty,,,,,,,,
adm-1,active,2026-08-01,true,dist-1,administrator,,,Dana,Chief,,,,,,,,
";
const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
cls-3a,active,2026-08-01,Grade 3 – Room 12,03,crs-1,3A,homeroom,R12,sch-lincoln-elementary,term-1,,,
cls-old,tobedeleted,2026-08-01,Old,03,crs-1,OLD,homeroom,,sch-lincoln-elementary,term-1,,,
";
const ENROLLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e1,active,2026-08-01,cls-3a,sch-lincoln-elementary,stu-1,student,false,,
e2,active,2026-08-01,cls-3a,sch-lincoln-elementary,9f1c2b3a-0000-4000-8000-00000000abcd,student,,,
e3,active,2026-08-01,cls-3a,sch-lincoln-elementary,tea-2,teacher,false,,
e4,active,2026-08-01,cls-3a,sch-lincoln-elementary,tea-1,teacher,true,,
e5,active,2026-08-01,cls-3a,sch-lincoln-elementary,gone-1,student,false,,
e6,active,2026-08-01,cls-old,sch-lincoln-elementary,stu-1,student,false,,
";

fn write_oneroster(dir: &Path, replace: Option<(&str, &str)>) {
    for (name, text) in [
        ("orgs.csv", ORGS),
        ("users.csv", USERS),
        ("classes.csv", CLASSES),
        ("enrollments.csv", ENROLLMENTS),
    ] {
        let text = match replace {
            Some((n, t)) if n == name => t,
            _ => text,
        };
        fs::write(dir.join(name), text).unwrap();
    }
}

/// Loads the OneRoster fixture with one file replaced; returns the error.
fn oneroster_err(name: &str, text: &str) -> RosterError {
    let dir = tempfile::tempdir().unwrap();
    write_oneroster(dir.path(), Some((name, text)));
    Roster::load(dir.path()).unwrap_err()
}

fn with_row(base: &str, row: &str) -> String {
    format!("{base}{row}\n")
}

#[track_caller]
fn assert_err(e: &RosterError, file: &str, line: Option<u64>, code: &str) {
    assert_eq!(e.path.file_name().unwrap().to_str().unwrap(), file, "{e}");
    assert_eq!(e.line, line, "{e}");
    assert_eq!(e.code(), code, "{e}");
    let msg = e.to_string();
    assert!(msg.contains(file), "{msg}");
    if let Some(line) = line {
        assert!(msg.contains(&format!("line {line}")), "{msg}");
    }
}

#[test]
fn reads_a_oneroster_folder() {
    let dir = tempfile::tempdir().unwrap();
    write_oneroster(dir.path(), None);
    let r = Roster::load(dir.path()).unwrap();
    assert_eq!(r.format(), RosterFormat::OneRoster);
    assert_eq!(
        r.schools(),
        [School {
            id: "sch-lincoln-elementary".into(),
            name: "Lincoln Elementary".into()
        }]
    );
    // The deleted user is skipped, the others kept in order.
    let ids: Vec<&str> = r.users().iter().map(|u| u.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "stu-1",
            "9f1c2b3a-0000-4000-8000-00000000abcd",
            "tea-1",
            "tea-2",
            "par-1",
            "off-1",
            "adm-1"
        ]
    );
    let zoe = r.user("stu-1").unwrap();
    assert_eq!(zoe.full_name(), "Zoë O'Brien");
    assert_eq!(zoe.role, Role::Student);
    assert_eq!(zoe.grades, ["03"]);
    assert_eq!(zoe.parent_ids, ["par-1"]);
    assert_eq!(zoe.line, 2);
    let li = r.user("9F1C2B3A-0000-4000-8000-00000000ABCD").unwrap();
    assert_eq!(li.given_name, "李");
    assert_eq!(li.school_ids, ["sch-lincoln-elementary"]); // district org not listed
    assert_eq!(li.grades, ["03", "04"]);
    assert_eq!(li.subject().to_string(), li.id);
    let mum = r.user("par-1").unwrap();
    assert_eq!(mum.role, Role::Parent);
    assert_eq!(mum.child_ids, ["stu-1"]);
    assert!(mum.parent_ids.is_empty());
    let off = r.user("off-1").unwrap();
    assert!(!off.enabled);
    assert_eq!(off.role, Role::Staff);
    assert_eq!(off.school_ids, ["sch-lincoln-elementary"]); // deleted org dropped
    assert_eq!(
        r.user("tea-1").unwrap().email.as_deref(),
        Some("m@lincoln.example")
    );
    assert_eq!(
        r.user("tea-1").unwrap().username.as_deref(),
        Some("mgarcia")
    );
    assert!(r.user("adm-1").unwrap().school_ids.is_empty());
    assert!(r.user("gone-1").is_none());

    assert_eq!(r.classes().len(), 1);
    let class = r.class("cls-3a").unwrap();
    assert_eq!(class.name, "Grade 3 – Room 12");
    assert_eq!(class.school_id, "sch-lincoln-elementary");
    // The primary teacher comes first although listed second.
    assert_eq!(class.teachers, ["María García", "Abe Lin"]);
    assert_eq!(class.teacher_ids, ["tea-1", "tea-2"]);
    // Enrolments of deleted users and classes are dropped.
    assert_eq!(r.enrollments().len(), 4);
    let members: Vec<&str> = r
        .members("cls-3a")
        .iter()
        .map(|(_, u)| u.id.as_str())
        .collect();
    assert_eq!(members.len(), 4);
    assert!(members.contains(&"9f1c2b3a-0000-4000-8000-00000000abcd"));
    let e = r
        .enrollments()
        .iter()
        .find(|e| e.user_id == "tea-1")
        .unwrap();
    assert!(e.primary);
    assert_eq!(r.classes_of("stu-1")[0].id, "cls-3a");
    assert!(r.classes_of("par-1").is_empty());
}

#[test]
fn oneroster_strips_bom_and_accepts_any_header_case() {
    let dir = tempfile::tempdir().unwrap();
    write_oneroster(dir.path(), None);
    let users = format!("\u{feff}{}", USERS.replacen("givenName", "GIVENNAME", 1));
    fs::write(dir.path().join("users.csv"), users).unwrap();
    let r = Roster::load(dir.path()).unwrap();
    assert_eq!(r.user("stu-1").unwrap().given_name, "Zoë");
}

#[test]
fn oneroster_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    write_oneroster(dir.path(), None);
    fs::remove_file(dir.path().join("enrollments.csv")).unwrap();
    let e = Roster::load(dir.path()).unwrap_err();
    assert_eq!(e.code(), "missing_file");
    assert!(e.to_string().contains("enrollments.csv"), "{e}");
}

#[test]
fn oneroster_missing_id() {
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            ",active,,true,sch-lincoln-elementary,student,,,No,Id,,,,,,,,",
        ),
    );
    assert_err(&e, "users.csv", Some(10), "missing_field");
    assert!(e.to_string().contains("sourcedId is empty"), "{e}");
}

#[test]
fn oneroster_unknown_role() {
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            "x-1,active,,true,sch-lincoln-elementary,wizard,,,Harry,P,,,,,,,,",
        ),
    );
    assert_err(&e, "users.csv", Some(10), "unknown_role");
    assert!(e.to_string().contains("\"wizard\""), "{e}");
    let e = oneroster_err(
        "enrollments.csv",
        &with_row(
            ENROLLMENTS,
            "e9,active,,cls-3a,sch-lincoln-elementary,par-1,janitor,false,,",
        ),
    );
    assert_err(&e, "enrollments.csv", Some(8), "unknown_role");
}

#[test]
fn oneroster_duplicate_ids() {
    // Case differences in UUIDs are the same id.
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            "9f1c2b3a-0000-4000-8000-00000000abcd,active,,true,sch-lincoln-elementary,student,,,Dup,Licate,,,,,,,,",
        ),
    );
    assert_err(&e, "users.csv", Some(10), "duplicate_id");
    assert!(e.to_string().contains("line 3"), "{e}");
    let e = oneroster_err(
        "orgs.csv",
        &with_row(ORGS, "dist-1,active,,Again,district,,"),
    );
    assert_err(&e, "orgs.csv", Some(5), "duplicate_id");
    let e = oneroster_err(
        "classes.csv",
        &with_row(
            CLASSES,
            "cls-3a,active,,Again,03,,,,,sch-lincoln-elementary,,,,",
        ),
    );
    assert_err(&e, "classes.csv", Some(4), "duplicate_id");
    let e = oneroster_err(
        "enrollments.csv",
        &with_row(
            ENROLLMENTS,
            "e1,active,,cls-3a,sch-lincoln-elementary,tea-1,teacher,false,,",
        ),
    );
    assert_err(&e, "enrollments.csv", Some(8), "duplicate_id");
}

#[test]
fn oneroster_bad_utf8_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_oneroster(dir.path(), None);
    let mut bytes = USERS.as_bytes().to_vec();
    // "Jos\xe9" is Windows-1252 for José.
    bytes.extend_from_slice(
        b"x-2,active,,true,sch-lincoln-elementary,student,,,Jos\xe9,Ruiz,,,,,,,,\n",
    );
    fs::write(dir.path().join("users.csv"), bytes).unwrap();
    let e = Roster::load(dir.path()).unwrap_err();
    assert_err(&e, "users.csv", Some(10), "bad_text");
    assert!(e.to_string().contains("givenName"), "{e}");
    assert!(e.to_string().contains("UTF-8"), "{e}");
}

#[test]
fn oneroster_utf16_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_oneroster(dir.path(), None);
    let mut bytes = vec![0xFF, 0xFE];
    for u in ORGS.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    fs::write(dir.path().join("orgs.csv"), bytes).unwrap();
    let e = Roster::load(dir.path()).unwrap_err();
    assert_err(&e, "orgs.csv", None, "bad_text");
    assert!(e.to_string().contains("UTF-16"), "{e}");
}

#[test]
fn oneroster_unknown_references() {
    let e = oneroster_err(
        "users.csv",
        &with_row(USERS, "x-1,active,,true,sch-nowhere,student,,,A,B,,,,,,,,"),
    );
    assert_err(&e, "users.csv", Some(10), "unknown_reference");
    assert!(e.to_string().contains("sch-nowhere"), "{e}");
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            "x-1,active,,true,sch-lincoln-elementary,student,,,A,B,,,,,,par-404,,",
        ),
    );
    assert_err(&e, "users.csv", Some(10), "unknown_reference");
    let e = oneroster_err(
        "classes.csv",
        &with_row(CLASSES, "cls-x,active,,X,03,,,,,sch-nowhere,,,,"),
    );
    assert_err(&e, "classes.csv", Some(4), "unknown_reference");
    // A class at a district org is not at a school.
    let e = oneroster_err(
        "classes.csv",
        &with_row(CLASSES, "cls-x,active,,X,03,,,,,dist-1,,,,"),
    );
    assert_err(&e, "classes.csv", Some(4), "unknown_reference");
    let e = oneroster_err(
        "enrollments.csv",
        &with_row(
            ENROLLMENTS,
            "e9,active,,cls-404,sch-lincoln-elementary,stu-1,student,false,,",
        ),
    );
    assert_err(&e, "enrollments.csv", Some(8), "unknown_reference");
    assert!(e.to_string().contains("cls-404"), "{e}");
    let e = oneroster_err(
        "enrollments.csv",
        &with_row(
            ENROLLMENTS,
            "e9,active,,cls-3a,sch-lincoln-elementary,stu-404,student,false,,",
        ),
    );
    assert_err(&e, "enrollments.csv", Some(8), "unknown_reference");
}

#[test]
fn oneroster_torn_row() {
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            "x-1,active,,true,sch-lincoln-elementary,student,,,A,B",
        ),
    );
    assert_err(&e, "users.csv", Some(10), "torn_row");
    assert!(
        e.to_string().contains("10 fields but the header has 18"),
        "{e}"
    );
    // An unclosed quote swallows the rest of the file into one field: also torn.
    let e = oneroster_err(
        "classes.csv",
        &with_row(
            CLASSES,
            "cls-x,active,,\"Unclosed,03,,,,,sch-lincoln-elementary,,,,",
        ),
    );
    assert_err(&e, "classes.csv", Some(4), "torn_row");
}

#[test]
fn oneroster_missing_column_and_bad_values() {
    let e = oneroster_err("orgs.csv", "sourcedId,name\nsch-1,One\n");
    assert_err(&e, "orgs.csv", Some(1), "missing_column");
    assert!(e.to_string().contains("\"type\""), "{e}");
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            "x-1,active,,maybe,sch-lincoln-elementary,student,,,A,B,,,,,,,,",
        ),
    );
    assert_err(&e, "users.csv", Some(10), "bad_value");
    assert!(e.to_string().contains("enabledUser"), "{e}");
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            &format!(
                "{},active,,true,sch-lincoln-elementary,student,,,A,B,,,,,,,,",
                "x".repeat(65)
            ),
        ),
    );
    assert_err(&e, "users.csv", Some(10), "bad_id");
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            "x-1,active,,true,sch-lincoln-elementary,student,,,,B,,,,,,,,",
        ),
    );
    assert_err(&e, "users.csv", Some(10), "missing_field");
    assert!(e.to_string().contains("givenName"), "{e}");
    let e = oneroster_err("orgs.csv", "");
    assert_err(&e, "orgs.csv", None, "empty");
}

#[test]
fn oneroster_bad_dates_name_file_and_line() {
    let e = oneroster_err(
        "enrollments.csv",
        &with_row(
            ENROLLMENTS,
            "e9,active,,cls-3a,sch-lincoln-elementary,par-1,student,false,2026-13-01,",
        ),
    );
    assert_err(&e, "enrollments.csv", Some(8), "bad_date");
    assert!(e.to_string().contains("beginDate"), "{e}");
    let e = oneroster_err(
        "enrollments.csv",
        &with_row(
            ENROLLMENTS,
            "e9,active,,cls-3a,sch-lincoln-elementary,par-1,student,false,,06/30/2027",
        ),
    );
    assert_err(&e, "enrollments.csv", Some(8), "bad_date");
    let e = oneroster_err(
        "users.csv",
        &with_row(
            USERS,
            "x-1,active,yesterday,true,sch-lincoln-elementary,student,,,A,B,,,,,,,,",
        ),
    );
    assert_err(&e, "users.csv", Some(10), "bad_date");
    assert!(e.to_string().contains("dateLastModified"), "{e}");
    let e = oneroster_err(
        "orgs.csv",
        &with_row(ORGS, "o9,active,2026-08-01T25:00:00Z,X,district,,"),
    );
    assert_err(&e, "orgs.csv", Some(5), "bad_date");
    // Good forms are accepted and the enrolment dates kept.
    let dir = tempfile::tempdir().unwrap();
    write_oneroster(dir.path(), None);
    let enr = with_row(
        ENROLLMENTS,
        "e9,active,2026-08-01T07:30:00.123+02:00,cls-3a,sch-lincoln-elementary,par-1,student,false,2026-08-20,2027-06-30",
    );
    fs::write(dir.path().join("enrollments.csv"), enr).unwrap();
    let r = Roster::load(dir.path()).unwrap();
    let e = r
        .enrollments()
        .iter()
        .find(|e| e.user_id == "par-1")
        .unwrap();
    assert_eq!(e.begin_date.as_deref(), Some("2026-08-20"));
    assert_eq!(e.end_date.as_deref(), Some("2027-06-30"));
}

#[test]
fn oneroster_file_given_instead_of_folder() {
    let dir = tempfile::tempdir().unwrap();
    write_oneroster(dir.path(), None);
    let e = Roster::load(dir.path().join("users.csv")).unwrap_err();
    assert_err(&e, "users.csv", None, "oneroster_file_given");
}

const SIMPLE: &str = "sourced_id,given_name,family_name,role,school_id,class_id,class_name,teacher,email,school_name,grade
stu-1,Zoë,O'Brien,student,sch-lincoln-elementary,cls-3a,Grade 3 – Room 12,Ms. García,,Lincoln Elementary,03
stu-2,李,小龙,student,sch-lincoln-elementary,cls-3a,Grade 3 – Room 12,Ms. García,,,03
tea-1,María,García,teacher,sch-lincoln-elementary,cls-3a,Grade 3 – Room 12,Ms. García,m@lincoln.example,,
tea-1,María,García,teacher,sch-lincoln-elementary,cls-art,Art,,,,
stu-2,李,小龙,student,sch-lincoln-elementary,cls-art,,,,,
stf-1,Joe,Nurse,staff,sch-lincoln-elementary,,,,,,
";

fn simple_err(text: &str) -> RosterError {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.csv");
    fs::write(&path, text).unwrap();
    Roster::load(&path).unwrap_err()
}

#[test]
fn reads_a_simple_csv() {
    let r = Roster::from_simple_csv_bytes("roster.csv", SIMPLE.as_bytes()).unwrap();
    assert_eq!(r.format(), RosterFormat::Simple);
    assert_eq!(r.schools()[0].name, "Lincoln Elementary");
    assert_eq!(r.users().len(), 4);
    let t = r.user("tea-1").unwrap();
    assert_eq!(t.email.as_deref(), Some("m@lincoln.example"));
    assert_eq!(r.classes_of("tea-1").len(), 2);
    assert_eq!(r.classes_of("stu-2").len(), 2);
    let c = r.class("cls-3a").unwrap();
    assert_eq!(c.teachers, ["Ms. García"]);
    assert_eq!(c.teacher_ids, ["tea-1"]);
    // Teacher column empty for the whole class: the teacher users' names.
    let art = r.class("cls-art").unwrap();
    assert_eq!(art.name, "Art");
    assert_eq!(art.teachers, ["María García"]);
    assert_eq!(r.members("cls-art").len(), 2);
    assert_eq!(r.user("stf-1").unwrap().role, Role::Staff);
    assert!(r.classes_of("stf-1").is_empty());
    assert_eq!(r.user("stu-1").unwrap().grades, ["03"]);
    assert_eq!(r.enrollments().len(), 5);
}

#[test]
fn simple_minimal_columns() {
    let r = Roster::from_simple_csv_bytes(
        "r.csv",
        "Sourced_ID,Given_Name,Family_Name,Role,School_ID\ns1,Ann,,student,sch\n".as_bytes(),
    )
    .unwrap();
    assert_eq!(r.user("s1").unwrap().full_name(), "Ann");
    assert_eq!(r.schools()[0].name, "sch");
}

#[test]
fn simple_errors_name_file_and_line() {
    let e = simple_err(&with_row(
        SIMPLE,
        ",Al,B,student,sch-lincoln-elementary,,,,,,",
    ));
    assert_err(&e, "roster.csv", Some(8), "missing_field");
    assert!(e.to_string().contains("sourced_id"), "{e}");
    let e = simple_err(&with_row(
        SIMPLE,
        "s9,Al,B,pupil,sch-lincoln-elementary,,,,,,",
    ));
    assert_err(&e, "roster.csv", Some(8), "unknown_role");
    // Same id, different person.
    let e = simple_err(&with_row(
        SIMPLE,
        "stu-1,Zoe,Smith,student,sch-lincoln-elementary,,,,,,",
    ));
    assert_err(&e, "roster.csv", Some(8), "duplicate_id");
    assert!(e.to_string().contains("line 2"), "{e}");
    // Same person twice in the same class.
    let e = simple_err(&with_row(
        SIMPLE,
        "stu-1,Zoë,O'Brien,student,sch-lincoln-elementary,cls-3a,,,,,",
    ));
    assert_err(&e, "roster.csv", Some(8), "duplicate_id");
    let e = simple_err(&with_row(
        SIMPLE,
        "stf-1,Joe,Nurse,staff,sch-lincoln-elementary,,,,,,",
    ));
    assert_err(&e, "roster.csv", Some(8), "duplicate_id");
    let e = simple_err(&with_row(
        SIMPLE,
        "s9,Al,B,student,sch-lincoln-elementary,,,",
    ));
    assert_err(&e, "roster.csv", Some(8), "torn_row");
    let e = simple_err(&with_row(SIMPLE, "s9,Al,B,student,,,,,,,"));
    assert_err(&e, "roster.csv", Some(8), "missing_field");
    let e = simple_err(&with_row(
        SIMPLE,
        "s9,,B,student,sch-lincoln-elementary,,,,,,",
    ));
    assert_err(&e, "roster.csv", Some(8), "missing_field");
    // A class with two different names, or at two schools.
    let e = simple_err(&with_row(
        SIMPLE,
        "s9,Al,B,student,sch-lincoln-elementary,cls-3a,Room 13,,,,",
    ));
    assert_err(&e, "roster.csv", Some(8), "conflict");
    assert!(e.to_string().contains("Room 13"), "{e}");
    let e = simple_err(&with_row(SIMPLE, "s9,Al,B,student,sch-other,cls-3a,,,,,"));
    assert_err(&e, "roster.csv", Some(8), "conflict");
    let e = simple_err(&with_row(
        SIMPLE,
        "s9,Al,B,student,sch-lincoln-elementary,,,,,Lincoln Middle,",
    ));
    assert_err(&e, "roster.csv", Some(8), "conflict");
    let e = simple_err("sourced_id,given_name,role,school_id\ns1,A,student,x\n");
    assert_err(&e, "roster.csv", Some(1), "missing_column");
    let e = simple_err("sourced_id,given_name,given_name,family_name,role,school_id\n");
    assert_err(&e, "roster.csv", Some(1), "duplicate_column");
}

#[test]
fn simple_bad_utf8() {
    let mut bytes = SIMPLE.as_bytes().to_vec();
    bytes.extend_from_slice(b"s9,Ren\xe9e,B,student,sch-lincoln-elementary,,,,,,\n");
    let e = Roster::from_simple_csv_bytes("roster.csv", &bytes).unwrap_err();
    assert_err(&e, "roster.csv", Some(8), "bad_text");
    assert!(e.to_string().contains("given_name"), "{e}");
}

#[test]
fn blank_separator_lines_are_not_rows() {
    let text = format!("{SIMPLE},,,,,,,,,,\n\n");
    let r = Roster::from_simple_csv_bytes("r.csv", text.as_bytes()).unwrap();
    assert_eq!(r.users().len(), 4);
}

#[test]
fn missing_path_is_an_io_error() {
    let e = Roster::load("/nonexistent/roster.csv").unwrap_err();
    assert_eq!(e.code(), "io");
    assert!(e.to_string().contains("/nonexistent/roster.csv"), "{e}");
}
