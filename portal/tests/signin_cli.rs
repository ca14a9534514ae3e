//! Chromebook sign-in as an admin and a demo see it: `saml keygen`, `saml metadata` and
//! `--check-config` on the real binary, and the demo portal (in-process `demo::spawn`, and
//! `serve --demo --saml-sp-entity … --saml-acs …`) acting as IdP for the pysaml2 SP, with the
//! sample roster and demo cards.

mod signin_support;

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quickcard::{Claims, Flags, IssuerKey, Role};
use quickcard_portal::config::idp::DemoSaml;
use quickcard_portal::demo::{DEMO_PIN, DemoOptions, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};
use signin_support::Sp;

const BIN: &str = env!("CARGO_BIN_EXE_quickcard-portal");

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("QUICKCARD_PORTAL_CONFIG")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn demo_card(user: &str, role: Role, school: &str, flags: Flags) -> String {
    let now = now();
    let c = Claims::new(user, role, school, now - 86_400, now + 86_400 * 300, flags).unwrap();
    quickcard::sign(&c, &IssuerKey::demo())
}

#[test]
fn keygen_metadata_and_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("idp.key");
    let cert = dir.path().join("idp.crt");
    let (k, c) = (key.to_str().unwrap(), cert.to_str().unwrap());
    let out = run(
        &[
            "saml", "keygen", "--key", k, "--cert", c, "--cn", "Test IdP",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(printed.contains("certificate SHA-256"), "{printed}");
    let key_pem = std::fs::read_to_string(&key).unwrap();
    assert!(key_pem.contains("BEGIN PRIVATE KEY"));
    assert!(!printed.contains("PRIVATE KEY"), "the key was printed");
    let body_line = key_pem.lines().nth(1).unwrap();
    assert!(!printed.contains(body_line), "the key was printed");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Never overwrites.
    let out = run(&["saml", "keygen", "--key", k, "--cert", c], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_pem);

    // The ChromeOS password key: private, never printed, never overwritten.
    let password_key = dir.path().join("chromeos-password.key");
    let pk = password_key.to_str().unwrap();
    let out = run(&["chromeos-password", "keygen", "--key", pk], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(printed.contains("chromeos_password_key_file"), "{printed}");
    let pk_text = std::fs::read_to_string(&password_key).unwrap();
    assert!(!printed.contains(pk_text.trim()), "the key was printed");
    assert_eq!(
        std::fs::metadata(&password_key)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let out = run(&["chromeos-password", "keygen", "--key", pk], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&password_key).unwrap(), pk_text);

    let config = dir.path().join("portal.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"https://portal.example.edu\"\n[saml]\nkey_file = {k:?}\ncert_file = {c:?}\n\
             chromeos_password_key_file = {pk:?}\n\
             google_domain = \"example.edu\"\nsso_profile_rpids = [\"03abc\"]\n\
             name_id_rule = \"{{username}}@students.example.edu\"\n\
             [saml.networks]\nsch-a = [\"203.0.113.0/24\"]\n"
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let out = run(&["--config", cfg, "--check-config"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    // Bound to networks only: said as a warning, with the ranges.
    assert!(
        s.contains("WARNING: Chromebook sign-in is bound to school networks only"),
        "{s}"
    );
    assert!(s.contains("network     sch-a: 203.0.113.0/24"), "{s}");
    assert!(s.contains("https://portal.example.edu/saml/sso"), "{s}");
    assert!(
        s.contains("google.com/a/example.edu -> https://www.google.com/a/example.edu/acs"),
        "{s}"
    );
    assert!(s.contains("rpid=03abc"), "{s}");
    assert!(s.contains("certificate SHA-256"), "{s}");

    let out = run(&["--config", cfg, "saml", "metadata"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(
        md.contains("entityID=\"https://portal.example.edu/saml/metadata\""),
        "{md}"
    );
    assert!(
        md.contains("Location=\"https://portal.example.edu/saml/sso\""),
        "{md}"
    );
    let cert_b64: String = std::fs::read_to_string(&cert)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(md.contains(&cert_b64));

    // A key in the service's writable state directory (systemd's StateDirectory=, or where
    // the SQLite database lives) is refused, with where to put it instead.
    let dir_str = dir.path().to_str().unwrap();
    let db_in_key_dir = format!("sqlite://{dir_str}/portal.db");
    for env in [
        [("STATE_DIRECTORY", dir_str)],
        [("QUICKCARD_PORTAL_DATABASE_URL", db_in_key_dir.as_str())],
    ] {
        let out = run(&["--config", cfg, "--check-config"], &env);
        assert!(!out.status.success(), "{env:?}");
        let e = text(&out.stderr);
        assert!(
            e.contains("writable state directory") && e.contains("LoadCredential="),
            "{e}"
        );
    }

    // A key readable by others is refused, with the fix named.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(&["--config", cfg, "--check-config"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("chmod 600"),
        "{}",
        text(&out.stderr)
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Bad sections are named.
    for (section, says) in [
        ("[saml]\nkey_file = \"k\"\n", "cert_file"),
        (
            "[saml]\ngoogle_domain = \"example.edu\"\nname_id_rule = \"everyone@example.edu\"\n",
            "NameID rule",
        ),
        (
            "[saml]\nkey_file = \"k\"\ncert_file = \"c\"\n",
            "service provider",
        ),
        (
            "[saml]\nkey_file = \"k\"\ncert_file = \"c\"\ngoogle_domain = \"example.edu\"\n",
            "bound to nothing",
        ),
        (
            "[saml]\ngoogle_domain = \"example.edu\"\n[saml.networks]\nsch-a = [\"10.0.0.0/33\"]\n",
            "not an address range",
        ),
    ] {
        std::fs::write(&config, section).unwrap();
        let out = run(&["--config", cfg, "--check-config"], &[]);
        assert!(!out.status.success(), "{section}");
        assert!(
            text(&out.stderr).contains(says),
            "{section}: {}",
            text(&out.stderr)
        );
    }
    // A config without the section: sign-in off.
    std::fs::write(&config, "").unwrap();
    let out = run(&["--config", cfg, "--check-config"], &[]);
    assert!(text(&out.stdout).contains("chromebook sign-in  off"));
}

/// The demo portal signs demo roster users in to the SP: students by the demo rule, staff by
/// their roster e-mail (with the demo PIN).
#[test]
fn demo_portal_is_an_idp_for_the_sp() {
    let sp = Sp::start("google.com/a/example.edu");
    let portal = spawn(DemoOptions {
        saml: Some(DemoSaml {
            sp_entity_id: sp.entity_id.clone(),
            acs_url: sp.acs.clone(),
        }),
        ..DemoOptions::default()
    })
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let md = http
            .get(format!("{}/saml/metadata", portal.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        std::fs::write(&sp.metadata, md).unwrap();
        let school = portal.school_id.clone();
        for (user, role, flags, pin, email) in [
            (
                "stu-1001",
                Role::Student,
                Flags::default(),
                None,
                "stu-1001@demo.quickcard.example",
            ),
            (
                "tea-rivera",
                Role::Teacher,
                Flags {
                    second_factor: true,
                },
                Some(DEMO_PIN),
                "srivera@lincoln.example.org",
            ),
        ] {
            let sso = sp.login(&http).await;
            let r = http.get(&sso).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            let loc = r.headers()["location"].to_str().unwrap().to_string();
            let id = loc
                .split("request=")
                .nth(1)
                .and_then(|rest| rest.split('&').next())
                .unwrap()
                .to_string();
            // A demo portal also tells the page to trust the demo key (loopback only).
            assert!(loc.ends_with("&demo=1"), "{loc}");
            assert!(loc.starts_with(&format!("{}/kiosk/?mode=signin&request=", portal.url)));
            let cfg: Value = http
                .get(format!("{}/v1/signin/{id}/config", portal.url))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(cfg["demo"], true);
            assert_eq!(cfg["school_id"], "");
            let mut body = json!({"card": demo_card(user, role, &school, flags)});
            if let Some(p) = pin {
                body["pin"] = json!(p);
            }
            let r: Value = http
                .post(format!("{}/v1/signin/{id}/exchange", portal.url))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(r["sign_in"]["email"], email, "{r}");
            let (status, text) = sp.post(&http, &r["sign_in"]).await;
            assert_eq!(status, StatusCode::OK, "{text}");
            assert!(text.contains(&format!("signed in as {email}")), "{text}");
        }
    });
    portal.shutdown();
}

/// `serve --demo --saml-sp-entity … --saml-acs …`: what the browser test starts.
#[test]
fn serve_demo_with_saml_flags() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    // The flags need --demo without --config.
    let out = run(
        &[
            "serve",
            "--saml-sp-entity",
            "sp",
            "--saml-acs",
            "http://127.0.0.1:9/acs",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--demo"),
        "{}",
        text(&out.stderr)
    );

    let mut child = Command::new(BIN)
        .args([
            "--demo",
            "serve",
            "--saml-sp-entity",
            "google.com/a/example.edu",
            "--saml-acs",
            "http://127.0.0.1:9/acs",
        ])
        .env("QUICKCARD_PORTAL_LISTEN", &listen)
        .env_remove("QUICKCARD_PORTAL_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        for _ in 0..200 {
            if let Ok(r) = http
                .get(format!("http://{listen}/saml/metadata"))
                .send()
                .await
            {
                return Some((r.status(), r.text().await.unwrap()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    });
    let _ = child.kill();
    let _ = child.wait();
    let (status, md) = got.expect("the demo portal answered");
    assert_eq!(status, StatusCode::OK);
    assert!(
        md.contains(&format!("Location=\"http://{listen}/saml/sso\"")),
        "{md}"
    );
}
