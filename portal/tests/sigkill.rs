//! Killing the real `quickcard-portal` binary with SIGKILL under load loses nothing it had
//! acknowledged: every session it answered 200 for, every revocation, every audit row is
//! there after a restart.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{TestDb, reply};
use quickcard::{Claims, Flags, Role};
use serde_json::{Value, json};
use tokio::sync::Mutex;

both_databases!(sigkill_under_load_loses_no_committed_row);

const BIN: &str = env!("CARGO_BIN_EXE_quickcard-portal");
const ADMIN: &str = "qca_sigkill_test_token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(dir: &std::path::Path, db: &TestDb, port: u16) -> std::path::PathBuf {
    let path = dir.join("portal.toml");
    let text = format!(
        "listen = \"127.0.0.1:{port}\"\n\
         database_url = \"{}\"\n\
         [[trust]]\npublic = \"{}\"\nname = \"test\"\n\
         [rate_limit]\nkiosk_max = 1000000\ncard_max = 1000000\n\
         [admin]\ntoken_sha256 = \"{}\"\n",
        db.url,
        common::issuer().public(),
        quickcard_portal::domain::secrets::hash_token(ADMIN)
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn run(config: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

// The caller kills and waits for the returned child.
#[allow(clippy::zombie_processes)]
async fn start(config: &std::path::Path, url: &str) -> Child {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = common::client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{url}/healthz")).send().await
            && r.status() == 200
        {
            return child;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the portal did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn card(user: &str, issued: u64) -> String {
    let c = Claims::new(
        user,
        Role::Student,
        "sch-lincoln",
        issued,
        issued + 400 * 86_400,
        Flags::default(),
    )
    .unwrap();
    quickcard::sign(&c, &common::issuer())
}

async fn sigkill_under_load_loses_no_committed_row(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let config = write_config(dir.path(), &db, port);
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, common::ROSTER).unwrap();
    run(&config, &["import", "--roster", roster.to_str().unwrap()]);
    let code = run(
        &config,
        &["kiosk", "add", "--name", "LAB-1", "--school", "sch-lincoln"],
    );
    let mut child = start(&config, &url).await;
    let http = common::client();
    let enrolled = reply(
        http.post(format!("{url}/v1/kiosks/enroll"))
            .json(&json!({"code": code.trim()}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(enrolled.status, 200, "{enrolled:?}");
    let kiosk = enrolled.body["credential"].as_str().unwrap().to_string();

    // Load: exchanges of distinct cards from 8 tasks, and revocations of one user.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let revoked_acks: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let base = now() - 2 * 86_400;
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let (http, url, kiosk, acked, stop) = (
            http.clone(),
            url.clone(),
            kiosk.clone(),
            acked.clone(),
            stop.clone(),
        );
        let user = [
            "stu-maya",
            "stu-omar",
            "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
        ][t as usize % 3];
        tasks.push(tokio::spawn(async move {
            for i in 0..100_000u64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let c = card(user, base - t * 100_000 - i);
                match http
                    .post(format!("{url}/v1/exchange"))
                    .bearer_auth(&kiosk)
                    .json(&json!({"card": c}))
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {
                        if let Ok(v) = r.json::<Value>().await {
                            acked
                                .lock()
                                .await
                                .push(v["token"].as_str().unwrap().to_string());
                        }
                    }
                    Ok(r) => panic!("unexpected refusal under load: {}", r.status()),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    {
        let (http, url, revoked_acks, stop) = (
            http.clone(),
            url.clone(),
            revoked_acks.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match http
                    .post(format!("{url}/v1/admin/users/stu-ben/revoke"))
                    .bearer_auth(ADMIN)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {
                        let v: Value = r.json().await.unwrap_or_default();
                        if let Some(t) = v["issued_before"].as_i64() {
                            revoked_acks.lock().await.push(t);
                        }
                    }
                    Ok(r) => panic!("revocation refused: {}", r.status()),
                    Err(_) => break,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    // Let the load run until a good number of sessions were acknowledged, then kill -9.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().await.len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    let revoked_acks = revoked_acks.lock().await.clone();
    assert!(
        acked.len() >= 50,
        "load produced only {} sessions",
        acked.len()
    );
    assert!(!revoked_acks.is_empty());

    let mut child = start(&config, &url).await;
    // Every acknowledged session survived.
    let mut lost = 0;
    for token in &acked {
        let r = http
            .get(format!("{url}/v1/session"))
            .bearer_auth(&kiosk)
            .header("QuickCard-Session", token)
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            lost += 1;
        }
    }
    assert_eq!(
        lost,
        0,
        "{lost} of {} acknowledged sessions lost",
        acked.len()
    );
    // Every acknowledged revocation and every audit row of them survived.
    let audit = reply(
        http.get(format!("{url}/v1/admin/audit?limit=10000&user=stu-ben"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let revocations = audit.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "revocation")
        .count();
    assert!(
        revocations >= revoked_acks.len(),
        "{revocations} < {}",
        revoked_acks.len()
    );
    let last = *revoked_acks.iter().max().unwrap() as u64;
    let r = reply(
        http.post(format!("{url}/v1/exchange"))
            .bearer_auth(&kiosk)
            .json(&json!({"card": card("stu-ben", last - 1)}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.code(), "card_revoked");
    let all = reply(
        http.get(format!("{url}/v1/admin/audit?limit=10000"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ok_exchanges = all.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "exchange" && r["result"] == "ok")
        .count();
    assert!(
        ok_exchanges >= acked.len(),
        "{ok_exchanges} audit rows < {} sessions",
        acked.len()
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
