//! The pysaml2 service provider of `tests/sp/google_sp.py`, driven from Rust tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

/// The ACS URL of the second ("other") service provider the test portals allow; a form for it
/// is posted to this SP's ACS instead (to show the SP refuses another audience).
pub const OTHER_ACS: &str = "https://other.example/acs";

/// The pysaml2 service provider (`tests/sp/google_sp.py`) as a child process.
pub struct Sp {
    pub child: Child,
    pub url: String,
    pub entity_id: String,
    pub acs: String,
    pub metadata: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sp {
    /// Starts the SP; it reads the IdP metadata from `self.metadata` on first use.
    pub fn start(entity_id: &str) -> Sp {
        let dir = tempfile::tempdir().unwrap();
        let metadata = dir.path().join("idp-metadata.xml");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sp/google_sp.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg("--idp-metadata")
            .arg(&metadata)
            .args(["--entity-id", entity_id])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with python3-pysaml2 (apt-get install python3-pysaml2 xmlsec1)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // google_sp listening on http://127.0.0.1:PORT entity_id=… acs=…
        let url = line
            .split_whitespace()
            .nth(3)
            .unwrap_or_else(|| panic!("SP did not start: {line:?}"))
            .to_string();
        Sp {
            child,
            acs: format!("{url}/acs"),
            url,
            entity_id: entity_id.to_string(),
            metadata,
            _dir: dir,
        }
    }

    /// `GET /login`: the portal's `/saml/sso?…` URL the SP redirects to.
    pub async fn login(&self, http: &reqwest::Client) -> String {
        let r = http
            .get(format!("{}/login", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        r.headers()["location"].to_str().unwrap().to_string()
    }

    /// Posts the form the sign-in page posts: (status, body text).
    pub async fn post(&self, http: &reqwest::Client, form: &Value) -> (StatusCode, String) {
        self.post_raw(
            http,
            &form["acs_url"]
                .as_str()
                .unwrap()
                .replace(OTHER_ACS, &self.acs),
            form["saml_response"].as_str().unwrap(),
            form["relay_state"].as_str().unwrap(),
        )
        .await
    }

    pub async fn post_raw(
        &self,
        http: &reqwest::Client,
        acs: &str,
        saml_response: &str,
        relay_state: &str,
    ) -> (StatusCode, String) {
        let body = format!(
            "SAMLResponse={}&RelayState={}",
            urlencode(saml_response),
            urlencode(relay_state)
        );
        let r = http
            .post(acs)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    pub async fn results(&self, http: &reqwest::Client) -> Vec<Value> {
        let r = http
            .get(format!("{}/results", self.url))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }
}

impl Drop for Sp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
