//! Test harness: a real portal on a loopback port over a real database (a SQLite file, or a
//! fresh database on the PostgreSQL server named by `QUICKCARD_TEST_POSTGRES_URL`), driven over
//! HTTP with reqwest. Time is a `ManualClock` the test moves.
#![allow(dead_code)]

use std::sync::Arc;

use quickcard::{Claims, Flags, IssuerKey, Role, TrustedKey};
use quickcard_portal::config::Config;
use quickcard_portal::db::store::{self, AuditRow};
use quickcard_portal::{AppState, Db, ManualClock};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The tests' "now": 2027-01-15.
pub const T0: u64 = 1_800_000_000;

pub const ROSTER: &str = "\
sourced_id,given_name,family_name,role,school_id,school_name,class_id,class_name,grade
stu-maya,Maya,Lopez,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01
stu-omar,Omar,Haddad,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01
stu-ben,Ben,Adler,student,sch-lincoln,Lincoln Elementary,cls-5,Room 5,05
tch-ito,Kenji,Ito,teacher,sch-lincoln,Lincoln Elementary,cls-1,Room 1,
par-lopez,Ana,Lopez,parent,sch-lincoln,Lincoln Elementary,,,
stu-wes,Wes,Tern,student,sch-west,West Primary,cls-w,West 1,02
0F8E2A4C-1B3D-4E5F-8A9B-0C1D2E3F4A5B,Zoe,Quinn,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01
";

/// A database for one test.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub kind: &'static str,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    TestDb {
        url,
        kind: "sqlite",
        _dir: Some(dir),
    }
}

/// A fresh database on the test PostgreSQL server. `None` (test skipped) when
/// `QUICKCARD_TEST_POSTGRES_URL` is unset — except under CI (`CI` set), where that fails.
pub async fn postgres_db() -> Option<TestDb> {
    let Ok(base) = std::env::var("QUICKCARD_TEST_POSTGRES_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI is set but QUICKCARD_TEST_POSTGRES_URL is not: the PostgreSQL tests must run in CI \
                 (scripts/test.sh starts a server with scripts/start-postgres.sh)"
            );
        }
        eprintln!("QUICKCARD_TEST_POSTGRES_URL is not set: skipping the PostgreSQL variant");
        return None;
    };
    let admin = Db::connect(&base, Some(1))
        .await
        .expect("connect to test PostgreSQL");
    let name = format!(
        "qc_test_{}",
        &quickcard_portal::domain::secrets::Secret::token("").hash()[..16]
    );
    let create: &'static str = Box::leak(format!("CREATE DATABASE {name}").into_boxed_str());
    sqlx::query(create).execute(&admin.pool).await.unwrap();
    admin.pool.close().await;
    let (prefix, rest) = base.rsplit_once('/').expect("URL with a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Some(TestDb {
        url: format!("{prefix}/{name}{query}"),
        kind: "postgres",
        _dir: None,
    })
}

/// Runs a test body against SQLite, and against PostgreSQL when configured.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::common::sqlite_db()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = super::common::postgres_db().await {
                    super::$name(db).await
                }
            }
        }
    )*};
}

pub fn issuer() -> IssuerKey {
    IssuerKey::from_seed([7; 32], "Test district 2026-27")
}

/// The test config: trusts [`issuer`], generous rate limits.
pub fn config(db: &TestDb) -> Config {
    let mut c = Config {
        database_url: db.url.clone(),
        trust: vec![TrustedKey::new(issuer().public(), "Test district 2026-27")],
        ..Config::default()
    };
    c.rate_limit.kiosk_max = 10_000;
    c.rate_limit.card_max = 10_000;
    c
}

/// One portal replica on a loopback port.
#[derive(Debug)]
pub struct Server {
    pub url: String,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start(config: Config, clock: &ManualClock) -> Server {
        Server::start_with(config, clock, false).await
    }

    /// [`Server::start`], trusting the published demo key when `demo` (as `--demo` does).
    pub async fn start_with(mut config: Config, clock: &ManualClock, demo: bool) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        config.listen = addr;
        config.public_url = Some(format!("http://{addr}"));
        let state = AppState::connect(config, Arc::new(clock.clone()), demo)
            .await
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = state.clone();
        let task = tokio::spawn(async move {
            quickcard_portal::serve(s, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Server {
            url: format!("http://{addr}"),
            state,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.state.db.pool.close().await;
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A reply: status and JSON body (Null when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        body,
        headers,
    }
}

/// A portal with the test roster imported and one enrolled kiosk at Lincoln.
#[derive(Debug)]
pub struct World {
    pub db: TestDb,
    pub clock: ManualClock,
    pub server: Server,
    pub http: reqwest::Client,
    pub kiosk: String,
    pub kiosk_id: String,
    _roster_dir: tempfile::TempDir,
}

impl World {
    pub async fn new(db: TestDb) -> World {
        World::with(db, |_| {}).await
    }

    pub async fn with(db: TestDb, tweak: impl FnOnce(&mut Config)) -> World {
        let clock = ManualClock::new(T0);
        let mut cfg = config(&db);
        tweak(&mut cfg);
        let server = Server::start(cfg, &clock).await;
        let roster_dir = tempfile::tempdir().unwrap();
        let path = roster_dir.path().join("roster.csv");
        std::fs::write(&path, ROSTER).unwrap();
        quickcard_portal::domain::roster_import::import(&server.state.db, &path, T0 as i64)
            .await
            .unwrap();
        let mut w = World {
            db,
            clock,
            server,
            http: client(),
            kiosk: String::new(),
            kiosk_id: String::new(),
            _roster_dir: roster_dir,
        };
        let (id, cred) = w.enrol("LAB-1", "sch-lincoln").await;
        w.kiosk = cred;
        w.kiosk_id = id;
        w
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    pub fn roster_path(&self) -> std::path::PathBuf {
        self._roster_dir.path().join("roster.csv")
    }

    /// `kiosk add` + the kiosk's enrolment call over HTTP: (kiosk id, credential).
    pub async fn enrol(&self, name: &str, school: &str) -> (String, String) {
        let (id, code) = store::add_kiosk(
            &self.server.state.db,
            name,
            school,
            self.clock.now_i64(),
            86_400,
        )
        .await
        .unwrap();
        let r = reply(
            self.http
                .post(self.url("/v1/kiosks/enroll"))
                .json(&json!({"code": code.expose(), "name": name}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["kiosk_id"], id.as_str());
        (id, r.body["credential"].as_str().unwrap().to_string())
    }

    /// A card signed by the test issuer, issued a day before `T0`, valid for a year.
    pub fn card(&self, user: &str, role: Role, school: &str) -> String {
        self.card_issued(user, role, school, T0 - 86_400, Flags::default())
    }

    pub fn card_issued(
        &self,
        user: &str,
        role: Role,
        school: &str,
        issued: u64,
        flags: Flags,
    ) -> String {
        let claims = Claims::new(user, role, school, issued, issued + 365 * 86_400, flags).unwrap();
        quickcard::sign(&claims, &issuer())
    }

    pub async fn exchange_with(&self, kiosk: &str, card: &str, pin: Option<&str>) -> Reply {
        let mut body = json!({ "card": card });
        if let Some(p) = pin {
            body["pin"] = json!(p);
        }
        reply(
            self.http
                .post(self.url("/v1/exchange"))
                .bearer_auth(kiosk)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn exchange(&self, card: &str) -> Reply {
        self.exchange_with(&self.kiosk, card, None).await
    }

    pub async fn session(&self, kiosk: &str, token: &str) -> Reply {
        reply(
            self.http
                .get(self.url("/v1/session"))
                .bearer_auth(kiosk)
                .header("QuickCard-Session", token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn sign_out(&self, kiosk: &str, token: &str) -> Reply {
        reply(
            self.http
                .delete(self.url("/v1/session"))
                .bearer_auth(kiosk)
                .header("QuickCard-Session", token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn audit(&self) -> Vec<AuditRow> {
        store::audit_rows(&self.server.state.db, None, 0, 100_000)
            .await
            .unwrap()
    }

    pub async fn set_pin(&self, user: &str, pin: &str) {
        let hash = quickcard_portal::domain::secrets::hash_pin(pin).unwrap();
        assert!(
            store::set_pin(&self.server.state.db, user, &hash, self.clock.now_i64())
                .await
                .unwrap()
        );
    }
}

pub trait ClockExt {
    fn now_i64(&self) -> i64;
}

impl ClockExt for ManualClock {
    fn now_i64(&self) -> i64 {
        use quickcard_portal::Clock;
        self.now() as i64
    }
}
