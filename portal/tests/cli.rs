//! The `quickcard-portal` binary's commands, run as a school's admin would run them.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_quickcard-portal");

fn portal(config: &std::path::Path, db_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        // The database comes from the environment, overriding the file.
        .env("QUICKCARD_PORTAL_DATABASE_URL", db_url)
        .env_remove("CI")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn admin_commands_work_on_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("portal.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"sqlite:///nonexistent/dir/overridden.db\"\n[[trust]]\npublic = \"{}\"\n",
            common::issuer().public()
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("portal.db").display());
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, common::ROSTER).unwrap();

    let out = portal(
        &config,
        &db,
        &["import", "--roster", roster.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("7 users added"), "{s}");

    let out = portal(
        &config,
        &db,
        &["kiosk", "add", "--name", "LAB-1", "--school", "sch-lincoln"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let code = text(&out.stdout).trim().to_string();
    assert_eq!(code.len(), 17, "{code}");
    assert!(text(&out.stderr).contains("quickcard-kiosk enroll"));

    let out = portal(&config, &db, &["kiosk", "list"], None);
    let s = text(&out.stdout);
    assert!(s.contains("LAB-1") && s.contains("pending"), "{s}");

    // PINs come from standard input, never the command line; staff PINs are 6 digits or more
    // by default.
    let out = portal(
        &config,
        &db,
        &["pin", "set", "--user", "tch-ito"],
        Some("2468\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("6 or more digits"),
        "{}",
        text(&out.stderr)
    );
    let out = portal(
        &config,
        &db,
        &["pin", "set", "--user", "tch-ito"],
        Some("246810\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = portal(&config, &db, &["pin", "unlock", "--user", "tch-ito"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("lockouts lifted for tch-ito"));
    let out = portal(
        &config,
        &db,
        &["pin", "set", "--user", "nobody"],
        Some("2468\n"),
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("nobody"));

    let out = portal(
        &config,
        &db,
        &["revoke", "--user", "stu-maya", "--reason", "lost"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("revoked"));
    let out = portal(&config, &db, &["revoke", "--user", "nobody"], None);
    assert!(!out.status.success());

    let out = portal(
        &config,
        &db,
        &["audit", "--user", "stu-maya", "--since", "2020-01-01"],
        None,
    );
    let s = text(&out.stdout);
    assert!(s.contains("revocation") && s.contains("lost"), "{s}");
    assert!(!s.contains("pin_set"), "only Maya's rows: {s}");
    let out = portal(&config, &db, &["audit", "--json"], None);
    let rows: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "roster_import",
            "kiosk_add",
            "pin_set",
            "pin_unlock",
            "revocation"
        ]
    );
    let out = portal(&config, &db, &["audit", "--since", "2999-01-01"], None);
    assert!(text(&out.stdout).is_empty());
    let out = portal(&config, &db, &["audit", "--since", "yesterday"], None);
    assert!(!out.status.success());

    let out = portal(
        &config,
        &db,
        &["kiosk", "disable", "--kiosk", "LAB-1"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = portal(&config, &db, &["kiosk", "list"], None);
    assert!(text(&out.stdout).contains("disabled"));
    let out = portal(
        &config,
        &db,
        &["kiosk", "disable", "--kiosk", "LAB-404"],
        None,
    );
    assert!(!out.status.success());

    let out = portal(&config, &db, &["admin-token"], None);
    let token = text(&out.stdout).trim().to_string();
    assert!(token.starts_with("qca_"));
    assert!(text(&out.stderr).contains(&quickcard_portal::domain::secrets::hash_token(&token)));

    let out = portal(&config, &db, &["--check-config"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("config ok") && s.contains("trusted keys  1"),
        "{s}"
    );
    assert!(
        !s.contains("nonexistent"),
        "the environment overrides the file: {s}"
    );
}

#[test]
fn demo_key_needs_the_demo_flag() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("portal.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n[[trust]]\npublic = \"{}\"\nname = \"demo\"\n",
            quickcard::IssuerKey::demo().public()
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("portal.db").display());
    for args in [&["--check-config"][..], &["serve"][..]] {
        let out = portal(&config, &db, args, None);
        assert!(!out.status.success(), "{args:?} must refuse the demo key");
        let e = text(&out.stderr);
        assert!(e.contains("demo key") && e.contains("--demo"), "{e}");
    }
    // --demo with a real config is refused, saying why, whatever the command.
    for args in [
        &["--check-config", "--demo"][..],
        &["--demo", "serve"][..],
        &["serve", "--demo"][..],
        &["--demo", "kiosk", "list"][..],
    ] {
        let out = portal(&config, &db, args, None);
        assert!(!out.status.success(), "{args:?} must be refused");
        let e = text(&out.stderr);
        assert!(
            e.contains("--demo cannot be used with a config file") && e.contains("anyone can"),
            "{e}"
        );
    }

    // A broken config names the problem.
    std::fs::write(&config, "[session]\nlifetime_secs = \"soon\"\n").unwrap();
    let out = portal(&config, &db, &["--check-config"], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("lifetime_secs"),
        "{}",
        text(&out.stderr)
    );
}

/// A key this version does not know (misspelt, or from another version) stops the portal
/// before it starts, and `--check-config` names the key, its section and the likely fix —
/// in the file and in an environment override alike.
#[test]
fn check_config_names_unknown_keys_and_their_section() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("portal.toml");
    let db = format!("sqlite://{}", dir.path().join("portal.db").display());
    for (toml, key, place, near) in [
        (
            "[session]\nlifetime_sec = 1800\n",
            "lifetime_sec",
            "in [session]",
            Some("lifetime_secs"),
        ),
        (
            "listen = \"127.0.0.1:0\"\ndatabase_urll = \"sqlite://x.db\"\n",
            "database_urll",
            "at the top level",
            Some("database_url"),
        ),
        (
            "[retention]\naudit_days = 400\nkeep_forever = true\n",
            "keep_forever",
            "in [retention]",
            None,
        ),
        (
            "[policy.schools.sch-lincoln]\nrole = [\"student\"]\n",
            "role",
            "in [policy.schools.sch-lincoln]",
            Some("roles"),
        ),
    ] {
        std::fs::write(&config, toml).unwrap();
        for args in [&["--check-config"][..], &["serve"][..]] {
            let out = portal(&config, &db, args, None);
            assert!(!out.status.success(), "{toml:?} {args:?}");
            let e = text(&out.stderr);
            assert!(
                e.contains(&format!("unknown key `{key}` {place}")),
                "{toml:?}: {e}"
            );
            assert!(e.contains("remove it"), "{e}");
            if let Some(near) = near {
                assert!(e.contains(&format!("Did you mean `{near}`?")), "{e}");
            }
        }
    }
    std::fs::write(&config, "").unwrap();
    let out = Command::new(BIN)
        .args(["--config"])
        .arg(&config)
        .arg("--check-config")
        .env("QUICKCARD_PORTAL_DATABASE_URL", &db)
        .env("QUICKCARD_PORTAL_LOCKOUT__MAX_FAILURE", "3")
        .env_remove("CI")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = text(&out.stderr);
    assert!(
        e.contains("QUICKCARD_PORTAL_LOCKOUT__MAX_FAILURE")
            && e.contains("unknown key `max_failure` in [lockout]")
            && e.contains("Did you mean `max_failures`?"),
        "{e}"
    );
}

/// `quickcard-portal kiosk list | head`: a reader that stops early ends the command quietly,
/// with success and no panic, as every Unix tool does.
#[test]
fn output_into_a_closed_pipe_is_a_quiet_end() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("portal.toml");
    std::fs::write(
        &config,
        format!("[[trust]]\npublic = \"{}\"\n", common::issuer().public()),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("portal.db").display());
    // The reading end is closed before the command writes its first line.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--check-config")
        .env("QUICKCARD_PORTAL_DATABASE_URL", &db)
        .env_remove("CI")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}
