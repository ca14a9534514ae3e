//! The kiosk config: parsing, checks and their messages.

use super::*;

#[test]
fn parses_a_full_config_and_refuses_bad_values() {
    let p = Path::new("kiosk.toml");
    let text = r#"
portal_url = "https://portal.example"
language = "es"
idle_timeout_secs = 60
launcher = ["firefox", "--kiosk", "{url}"]
camera = "replay:/tmp/frames"
[enrolment]
kiosk_id = "k-1"
credential_file = "cred"
"#;
    let c = Config::parse(text, p).unwrap();
    assert_eq!(c.language, Lang::Es);
    assert_eq!(
        c.credential_path(Path::new("/etc/q/kiosk.toml")).unwrap(),
        PathBuf::from("/etc/q/cred")
    );
    let bad = text.replace("https://portal.example", "portal.example");
    assert!(
        Config::parse(&bad, p)
            .unwrap_err()
            .to_string()
            .contains("portal_url")
    );
    let bad = text.replace("\"{url}\"", "\"x\"");
    assert!(
        Config::parse(&bad, p)
            .unwrap_err()
            .to_string()
            .contains("launcher")
    );
    let bad = text.replace("idle_timeout_secs = 60", "idle_timeout_secs = 1");
    assert!(
        Config::parse(&bad, p)
            .unwrap_err()
            .to_string()
            .contains("idle_timeout_secs")
    );
    let bad = format!("wat = 1\n{text}");
    assert!(Config::parse(&bad, p).is_err());
}

#[test]
fn the_demo_key_is_refused_in_a_config() {
    let demo = quickcard::IssuerKey::demo().public();
    let text =
        format!("portal_url = \"https://x\"\n[[trust]]\npublic = \"{demo}\"\nname = \"demo\"\n");
    let e = Config::parse(&text, Path::new("k.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("demo key"), "{e}");
}

#[test]
fn plain_http_is_refused_unless_the_portal_is_on_this_machine() {
    for ok in [
        "https://portal.school.example",
        "https://10.1.2.3:8443/quickcard",
        "http://127.0.0.1:8470",
        "http://127.8.9.10",
        "http://localhost:8080/",
        "http://LOCALHOST",
        "http://[::1]:9",
    ] {
        assert_eq!(check_portal_url(ok), Ok(()), "{ok}");
    }
    for plain in [
        "http://portal.school.example",
        "http://10.1.2.3:8080",
        "http://[::2]",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example",
        // The client would connect to the host after the `@`.
        "http://localhost@portal.school.example",
    ] {
        let e = check_portal_url(plain).unwrap_err();
        assert!(
            matches!(e, PortalUrlError::PlainHttp { .. }),
            "{plain}: {e}"
        );
        assert!(
            e.to_string().contains("use the portal's https:// address"),
            "{e}"
        );
    }
    for junk in [
        "portal.school.example",
        "ftp://portal.example",
        "https://",
        "",
    ] {
        assert!(
            matches!(check_portal_url(junk), Err(PortalUrlError::NotWeb(_))),
            "{junk}"
        );
    }

    // The config file says which key, and what to write instead.
    let p = Path::new("kiosk.toml");
    let e = Config::parse("portal_url = \"http://portal.school.example\"\n", p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("portal_url") && e.contains("https://"), "{e}");
    assert!(Config::parse("portal_url = \"http://127.0.0.1:8470\"\n", p).is_ok());

    // Enrolment stores nothing for such a portal.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk.toml");
    let reply = crate::portal_client::EnrollReply {
        kiosk_id: "k-9".into(),
        name: "LAB-9".into(),
        credential: "secret-cred".into(),
        school_id: "sch-1".into(),
        trust: vec![],
    };
    let e = save_enrolment(&path, "http://portal.school.example", &reply).unwrap_err();
    assert!(e.to_string().contains("https://"), "{e}");
    assert!(!path.exists() && !dir.path().join("credential").exists());
}

#[test]
fn pin_hashes_check() {
    let h = hash_pin("2468", &[7; 16]).unwrap();
    assert!(check_pin(&h, "2468"));
    assert!(!check_pin(&h, "2469"));
    assert!(!check_pin("garbage", "2468"));
    assert!(hash_pin("12", &[7; 16]).is_err());
}

#[test]
fn enrolment_writes_private_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q").join("kiosk.toml");
    let reply = crate::portal_client::EnrollReply {
        kiosk_id: "k-9".into(),
        name: "LAB-9".into(),
        credential: "secret-cred".into(),
        school_id: "sch-1".into(),
        trust: vec![],
    };
    let cfg = save_enrolment(&path, "http://127.0.0.1:9/", &reply).unwrap();
    assert_eq!(cfg.portal_url, "http://127.0.0.1:9");
    let loaded = Config::load(&path).unwrap();
    assert_eq!(loaded, cfg);
    assert_eq!(
        loaded.load_credential(&path).unwrap().as_str(),
        "secret-cred"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [path.clone(), cfg.credential_path(&path).unwrap()] {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }
}

#[test]
fn the_launcher_table_runs_apps_as_another_user() {
    let p = Path::new("kiosk.toml");
    let text = r#"
portal_url = "https://portal.example"
[launcher]
command = ["chromium", "--user-data-dir={profile}", "{url}"]
run_as = "quickcard-apps"
"#;
    let c = Config::parse(text, p).unwrap();
    let LauncherConfig::Apps(a) = &c.launcher else {
        panic!("{:?}", c.launcher)
    };
    assert_eq!(a.run_as, "quickcard-apps");
    assert_eq!(a.socket, PathBuf::from(DEFAULT_APPS_SOCKET));
    assert_eq!(a.profile_root, PathBuf::from(DEFAULT_PROFILE_ROOT));
    // Written back (enrolment rewrites the file) and read again: the same.
    assert_eq!(Config::parse(&c.to_toml(), p).unwrap(), c);
    // No launcher at all: the demo's command, as before.
    let plain = Config::parse("portal_url = \"https://p.example\"\n", p).unwrap();
    assert_eq!(plain.launcher, default_launcher());

    let bad = text.replace("run_as", "runas");
    let e = Config::parse(&bad, p).unwrap_err().to_string();
    assert!(e.contains("runas"), "{e}");
    let bad = text.replace("\"quickcard-apps\"", "\"root\"");
    let e = Config::parse(&bad, p).unwrap_err().to_string();
    assert!(e.contains("launcher") && e.contains("root"), "{e}");
    let bad = format!("{text}profile_root = \"run/x\"\n");
    let e = Config::parse(&bad, p).unwrap_err().to_string();
    assert!(e.contains("profile_root"), "{e}");
    let bad = text.replace(", \"{url}\"", "");
    let e = Config::parse(&bad, p).unwrap_err().to_string();
    assert!(e.contains("{url}"), "{e}");
}

#[test]
fn the_credential_comes_from_systemds_credentials_directory_when_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk.toml");
    let reply = crate::portal_client::EnrollReply {
        kiosk_id: "k-9".into(),
        name: "LAB-9".into(),
        credential: "cred-in-etc".into(),
        school_id: "sch-1".into(),
        trust: vec![],
    };
    let cfg = save_enrolment(&path, "http://127.0.0.1:9/", &reply).unwrap();
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    // A credentials directory without ours (another unit's, or LoadCredential= missing):
    // the configured file.
    let (cred, from) = cfg.load_credential_from(Some(&creds), &path).unwrap();
    assert_eq!(
        (cred.as_str(), from),
        ("cred-in-etc", dir.path().join("credential"))
    );
    std::fs::write(creds.join(CREDENTIAL_NAME), "cred-from-systemd\n").unwrap();
    let (cred, from) = cfg.load_credential_from(Some(&creds), &path).unwrap();
    assert_eq!(
        (cred.as_str(), from),
        ("cred-from-systemd", creds.join("credential"))
    );
    // The file in /etc is not needed (nor read) then.
    std::fs::remove_file(dir.path().join("credential")).unwrap();
    assert_eq!(
        cfg.load_credential_from(Some(&creds), &path)
            .unwrap()
            .0
            .as_str(),
        "cred-from-systemd"
    );
    assert!(cfg.load_credential_from(None, &path).is_err());
    // An empty placeholder (what the package installs before enrolment) is "not enrolled".
    std::fs::write(creds.join(CREDENTIAL_NAME), "\n").unwrap();
    assert!(matches!(
        cfg.load_credential_from(Some(&creds), &path),
        Err(ConfigError::NotEnrolled)
    ));
}

#[test]
fn debug_prints_no_admin_pin_hash() {
    let hash = hash_pin("2468", &[3; 16]).unwrap();
    let mut cfg = Config::new("https://portal.school.example");
    cfg.admin_pin_hash = Some(PinHash::new(hash.clone()));
    let printed = format!("{cfg:?}");
    assert!(!printed.contains(&hash), "{printed}");
    assert!(printed.contains("redacted"), "{printed}");
    // Still the same hash where it is used.
    assert!(check_pin(cfg.admin_pin_hash.as_deref().unwrap(), "2468"));
}

/// A key this version does not know is refused by name, with its section, the likely fix and
/// where the settings are listed: in the top level, a table, and the launcher table.
#[test]
fn unknown_keys_are_named_with_their_section() {
    let p = Path::new("kiosk.toml");
    let base = "portal_url = \"https://portal.example\"\n";
    for (text, line, key, place, near) in [
        (
            format!("{base}idle_timout_secs = 60\n"),
            Some(2),
            "idle_timout_secs",
            "at the top level",
            Some("idle_timeout_secs"),
        ),
        (
            format!("{base}[enrolment]\nkiosk_id = \"k-1\"\ncredential_fil = \"cred\"\n"),
            Some(4),
            "credential_fil",
            "in [enrolment]",
            Some("credential_file"),
        ),
        (
            format!(
                "{base}[launcher]\ncommand = [\"b\", \"{{url}}\"]\nrun_as = \"apps\"\nsandbox = true\n"
            ),
            None,
            "sandbox",
            "in [launcher]",
            None,
        ),
        (
            format!("{base}[lanucher]\ncommand = []\n"),
            Some(2),
            "lanucher",
            "at the top level",
            Some("launcher"),
        ),
    ] {
        let e = Config::parse(&text, p).unwrap_err().to_string();
        assert!(e.starts_with("kiosk.toml: "), "{e}");
        assert!(
            e.contains(&format!("unknown key `{key}` {place}")),
            "{text:?}: {e}"
        );
        if let Some(n) = line {
            assert!(e.contains(&format!("line {n}: unknown key")), "{e}");
        }
        match near {
            Some(k) => assert!(e.contains(&format!("Did you mean `{k}`?")), "{e}"),
            None => assert!(!e.contains("Did you mean"), "{e}"),
        }
        assert!(
            e.contains("remove it") && e.contains("docs/lab-technicians.md"),
            "{e}"
        );
    }
}

#[test]
fn the_sound_section_sets_volume_and_mute_and_refuses_the_rest() {
    let p = Path::new("kiosk.toml");
    let base = "portal_url = \"https://portal.example\"\n";
    // Absent: 80 %, not muted, and a fresh config does not write the section.
    let c = Config::parse(base, p).unwrap();
    assert_eq!((c.sound.volume.percent(), c.sound.muted), (80, false));
    assert!(
        !Config::new("https://portal.example")
            .to_toml()
            .contains("[sound]")
    );

    let c = Config::parse(&format!("{base}[sound]\nvolume = 0.35\nmuted = true\n"), p).unwrap();
    assert_eq!((c.sound.volume.percent(), c.sound.muted), (35, true));
    assert_eq!(Config::parse(&c.to_toml(), p).unwrap(), c);
    let c = Config::parse(&format!("{base}[sound]\nvolume = 1\n"), p).unwrap();
    assert_eq!(c.sound.volume.percent(), 100);

    let e = Config::parse(&format!("{base}[sound]\nvolume = 1.5\n"), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("out of range") && e.contains("0.0"), "{e}");
    let e = Config::parse(&format!("{base}[sound]\nvolum = 0.5\n"), p)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 3: unknown key `volum` in [sound]") && e.contains("`volume`"),
        "{e}"
    );
}
