//! Load benchmark: exchanges per second and p50/p99 latency at several concurrency levels,
//! against a real portal over loopback HTTP with a real database, beside the raw cost of one
//! Ed25519 verification measured in the same run.
//!
//! ```text
//! cargo bench -p quickcard-portal --bench load                  # SQLite (+ PostgreSQL when
//! QUICKCARD_TEST_POSTGRES_URL=... cargo bench -p quickcard-portal --bench load   #  the URL is set)
//! cargo bench -p quickcard-portal --bench load -- --secs 10 --levels 1,8,32
//! ```
//!
//! Under `cargo test --all-targets` or `cargo nextest run` it runs a few hundred exchanges as
//! a smoke test and reports nothing (the rule of every bench: `benches/harness/mod.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use quickcard::{Claims, Flags, IssuerKey, Role, TrustedKey, VerifyOptions};
use quickcard_portal::config::Config;
use quickcard_portal::{AppState, Db, SystemClock, store};
use serde_json::json;

#[path = "../../benches/harness/mod.rs"]
mod harness;

const SCHOOL: &str = "sch-bench";
const USERS: usize = 2000;
const KIOSKS: usize = 30;

struct Args {
    full: bool,
    secs: f64,
    levels: Vec<usize>,
    /// The portal's database pool size (`database_max_connections`); its default when unset.
    connections: Option<u32>,
}

/// `None` when there is nothing to run (a test listing).
fn args() -> Option<Args> {
    let full = match harness::mode(false) {
        harness::Mode::Measure => true,
        harness::Mode::Smoke => false,
        harness::Mode::Done => return None,
    };
    let a = harness::args();
    let val = |name: &str| {
        a.iter()
            .position(|x| x == name)
            .and_then(|i| a.get(i + 1))
            .cloned()
    };
    Some(Args {
        full,
        secs: val("--secs")
            .and_then(|s| s.parse().ok())
            .unwrap_or(if full { 5.0 } else { 0.3 }),
        levels: val("--levels")
            .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or(if full { vec![1, 4, 16, 64] } else { vec![2] }),
        connections: val("--connections").and_then(|s| s.parse().ok()),
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Microseconds per raw Ed25519 `verify_strict`, and per full `quickcard::verify`.
fn raw_verify_cost(n: u32, key: &IssuerKey, card: &str) -> (f64, f64) {
    let sk = SigningKey::from_bytes(&[5; 32]);
    let vk = sk.verifying_key();
    let msg = [7u8; 60];
    let sig = sk.sign(&msg);
    let t = Instant::now();
    for _ in 0..n {
        assert!(vk.verify_strict(std::hint::black_box(&msg), &sig).is_ok());
    }
    let raw = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let trust =
        quickcard::TrustList::new(vec![TrustedKey::new(key.public(), "bench")], false).unwrap();
    let opts = VerifyOptions {
        now: now(),
        skew_secs: 300,
        school: Some(SCHOOL.into()),
        ..VerifyOptions::default()
    };
    let t = Instant::now();
    for _ in 0..n {
        assert!(quickcard::verify(std::hint::black_box(card.as_bytes()), &trust, &opts).is_ok());
    }
    let full = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    (raw, full)
}

struct Portal {
    url: String,
    kiosks: Vec<String>,
    /// The portal's state (for its group statistics); none for the verify-only floor.
    state: Option<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Portal {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A portal on its own 2-thread runtime, with a generated roster and enrolled kiosks.
fn start_portal(database_url: String, key: &IssuerKey, connections: Option<u32>) -> Portal {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("sourced_id,given_name,family_name,role,school_id,grade\n");
    for i in 0..USERS {
        csv.push_str(&format!("stu-{i:05},Kid{i},Bench,student,{SCHOOL},02\n"));
    }
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, csv).unwrap();
    let database_url = if database_url.is_empty() {
        format!("sqlite://{}", dir.path().join("bench.db").display())
    } else {
        database_url
    };
    let public = key.public();
    spawn_server(dir, move |listener, ready, stop| async move {
        let mut config = Config {
            database_url,
            listen: listener.local_addr().unwrap(),
            trust: vec![TrustedKey::new(public, "bench")],
            database_max_connections: connections,
            ..Config::default()
        };
        config.rate_limit.kiosk_max = u32::MAX as u64;
        config.rate_limit.card_max = u32::MAX as u64;
        let state = AppState::connect(config, Arc::new(SystemClock), false)
            .await
            .unwrap();
        let t = now() as i64;
        quickcard_portal::roster_import::import(&state.db, &roster, t)
            .await
            .unwrap();
        let mut kiosks = Vec::new();
        for k in 0..KIOSKS {
            let (_, code) = store::add_kiosk(&state.db, &format!("LAB-{k}"), SCHOOL, t, 600)
                .await
                .unwrap();
            let (_, cred) = store::enrol_kiosk(
                &state.db,
                &quickcard_portal::secrets::hash_token(code.expose()),
                t,
            )
            .await
            .unwrap()
            .unwrap();
            kiosks.push(cred.expose().to_string());
        }
        ready.send((kiosks, Some(state.clone()))).unwrap();
        quickcard_portal::serve(state, listener, async {
            let _ = stop.await;
        })
        .await
        .unwrap();
    })
}

/// Runs a server on its own 2-thread runtime named `portal`, as the portal runs: `run` gets a
/// loopback listener, sends the kiosks' credentials and the portal's state once it is ready,
/// and serves until `stop` completes.
fn spawn_server<F, Fut>(dir: tempfile::TempDir, run: F) -> Portal
where
    F: FnOnce(
            tokio::net::TcpListener,
            std::sync::mpsc::Sender<(Vec<String>, Option<AppState>)>,
            tokio::sync::oneshot::Receiver<()>,
        ) -> Fut
        + Send
        + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("portal")
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            run(listener, ready_tx, stop_rx).await
        });
    });
    let addr = addr_rx.recv().unwrap();
    let (kiosks, state) = ready_rx.recv().unwrap();
    Portal {
        url: format!("http://{addr}"),
        kiosks,
        state,
        stop: Some(stop_tx),
        thread: Some(thread),
        _dir: dir,
    }
}

/// The floor under any exchange: a server on the same kind of runtime (2 threads, named
/// `portal`, axum over hyper) whose `POST /v1/exchange` only parses the body and verifies the
/// card with `quickcard::verify` against the same trust list — no kiosk, no database, no
/// session. No exchange that checks its card can be faster than this on this machine.
fn start_verify_floor(key: &IssuerKey) -> Portal {
    let trust =
        quickcard::TrustList::new(vec![TrustedKey::new(key.public(), "bench")], false).unwrap();
    let trust = Arc::new(trust);
    spawn_server(
        tempfile::tempdir().unwrap(),
        move |listener, ready, stop| async move {
            let app = axum::Router::new().route(
                "/v1/exchange",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let trust = trust.clone();
                    async move {
                        #[derive(serde::Deserialize)]
                        struct Req {
                            card: String,
                        }
                        let req: Req = serde_json::from_slice(&body).unwrap();
                        let opts = VerifyOptions {
                            now: now(),
                            skew_secs: 300,
                            school: Some(SCHOOL.into()),
                            ..VerifyOptions::default()
                        };
                        let card = quickcard::verify(req.card.as_bytes(), &trust, &opts).unwrap();
                        axum::Json(json!({ "user_id": card.claims.subject.to_string() }))
                    }
                }),
            );
            ready.send((vec!["none".into()], None)).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await
                .unwrap();
        },
    )
}

struct LevelResult {
    concurrency: usize,
    done: u64,
    errors: u64,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU seconds spent during the level, by whom.
    cpu: Cpu,
    /// Requests per group during the level: reads, rate-limit counts, session starts.
    groups: Option<[f64; 3]>,
    /// The share of the level's time SQLite's single write turn was held (0 on PostgreSQL).
    writer_busy: f64,
}

/// The portal's group statistics: reads, rate-limit counts, session starts.
fn group_stats(state: &AppState) -> [quickcard_portal::group::GroupStats; 3] {
    [
        state.reads.stats(),
        state.rate.stats(),
        state.sessions.stats(),
    ]
}

/// CPU time (seconds) of the parts of this run: the portal's runtime threads, the database
/// (SQLite's worker threads in this process, or the PostgreSQL server's processes), and the
/// load generator's runtime threads. From `/proc` (Linux), in USER_HZ ticks (100 per second).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    portal: f64,
    database: f64,
    loadgen: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, o: Cpu) -> Cpu {
        Cpu {
            portal: self.portal - o.portal,
            database: self.database - o.database,
            loadgen: self.loadgen - o.loadgen,
        }
    }
}

/// `(comm, utime + stime in seconds)` from a `/proc/.../stat` file.
fn stat_cpu(path: &std::path::Path) -> Option<(String, f64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((comm, (utime + stime) / 100.0))
}

fn cpu_now() -> Cpu {
    let mut cpu = Cpu::default();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Some((comm, secs)) = stat_cpu(&t.path().join("stat")) {
                if comm.starts_with("portal") {
                    cpu.portal += secs;
                } else if comm.starts_with("sqlx-sqlite") {
                    cpu.database += secs;
                } else if comm.starts_with("loadgen") {
                    cpu.loadgen += secs;
                }
            }
        }
    }
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for p in procs.flatten() {
            if p.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
                && let Some((comm, secs)) = stat_cpu(&p.path().join("stat"))
                && comm == "postgres"
            {
                cpu.database += secs;
            }
        }
    }
    cpu
}

/// What each request of a level is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A full card exchange.
    Exchange,
    /// `GET /healthz`: HTTP plus one `SELECT 1`, the floor under any request that reads the
    /// database.
    Health,
}

fn run_level(
    rt: &tokio::runtime::Runtime,
    portal: &Portal,
    cards: &Arc<Vec<String>>,
    concurrency: usize,
    secs: f64,
    target: Target,
) -> LevelResult {
    let cpu_before = cpu_now();
    let groups_before = portal.state.as_ref().map(group_stats);
    let turn_before = portal
        .state
        .as_ref()
        .map_or(0, |s| s.db.write_turn_busy_us());
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        let next = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        let start = Instant::now();
        let mut tasks = Vec::new();
        // Requests are built before the clock starts (a real fleet of kiosks does not share
        // the load generator's CPU): the URL parsed once, each card's body and each kiosk's
        // header made once.
        let url = reqwest::Url::parse(&match target {
            Target::Exchange => format!("{}/v1/exchange", portal.url),
            Target::Health => format!("{}/healthz", portal.url),
        })
        .unwrap();
        let bodies: Arc<Vec<axum::body::Bytes>> = Arc::new(
            cards
                .iter()
                .map(|c| axum::body::Bytes::from(json!({ "card": c }).to_string()))
                .collect(),
        );
        let kiosks: Arc<Vec<reqwest::header::HeaderValue>> = Arc::new(
            portal
                .kiosks
                .iter()
                .map(|k| format!("Bearer {k}").parse().unwrap())
                .collect(),
        );
        for _ in 0..concurrency {
            let (http, next, errors, bodies, kiosks, url) = (
                http.clone(),
                next.clone(),
                errors.clone(),
                bodies.clone(),
                kiosks.clone(),
                url.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let t = Instant::now();
                    let r = match target {
                        Target::Exchange => {
                            http.post(url.clone())
                                .header(
                                    reqwest::header::AUTHORIZATION,
                                    kiosks[i % kiosks.len()].clone(),
                                )
                                .header(reqwest::header::CONTENT_TYPE, "application/json")
                                .body(bodies[i % bodies.len()].clone())
                                .send()
                                .await
                        }
                        Target::Health => http.get(url.clone()).send().await,
                    };
                    let ok = match r {
                        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    lat.push(t.elapsed());
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let elapsed = start.elapsed().as_secs_f64();
        all.sort();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .map(|d| d.as_secs_f64() * 1e3)
                .unwrap_or(0.0)
        };
        LevelResult {
            concurrency,
            done: all.len() as u64,
            errors: errors.load(Ordering::Relaxed),
            per_sec: all.len() as f64 / elapsed,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            cpu: cpu_now() - cpu_before,
            writer_busy: portal.state.as_ref().map_or(0.0, |s| {
                (s.db.write_turn_busy_us() - turn_before) as f64 / 1e6 / elapsed
            }),
            groups: portal.state.as_ref().zip(groups_before).map(|(s, before)| {
                let after = group_stats(s);
                std::array::from_fn(|i| {
                    (after[i].jobs - before[i].jobs) as f64
                        / (after[i].groups - before[i].groups).max(1) as f64
                })
            }),
        }
    })
}

fn fresh_postgres(base: &str) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let admin = Db::connect(base, Some(1)).await.unwrap();
        let name = format!("qc_bench_{}", now());
        let sql: &'static str = Box::leak(format!("CREATE DATABASE {name}").into_boxed_str());
        sqlx::query(sql).execute(&admin.pool).await.unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        format!("{prefix}/{name}")
    })
}

fn main() {
    let Some(args) = args() else {
        return;
    };
    let key = IssuerKey::from_seed([11; 32], "bench");
    let t = now();
    let cards: Arc<Vec<String>> = Arc::new(
        (0..USERS)
            .map(|i| {
                let c = Claims::new(
                    &format!("stu-{i:05}"),
                    Role::Student,
                    SCHOOL,
                    t - 86_400,
                    t + 86_400 * 200,
                    Flags::default(),
                )
                .unwrap();
                quickcard::sign(&c, &key)
            })
            .collect(),
    );
    let (raw_us, card_us) = raw_verify_cost(if args.full { 20_000 } else { 200 }, &key, &cards[0]);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let ceiling = cores as f64 * 1e6 / raw_us;

    let mut backends = vec![("SQLite (file, WAL)", String::new())];
    if let Ok(url) = std::env::var("QUICKCARD_TEST_POSTGRES_URL") {
        backends.push(("PostgreSQL 15 (loopback)", fresh_postgres(&url)));
    }
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("loadgen")
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    // The floor: HTTP and the card's verification, nothing else, at the highest level.
    if let Some(&c) = args.levels.last() {
        let floor = start_verify_floor(&key);
        run_level(&client_rt, &floor, &cards, 4, 0.2, Target::Exchange);
        let r = run_level(&client_rt, &floor, &cards, c, args.secs, Target::Exchange);
        if !args.full {
            assert_eq!(r.errors, 0, "the verify-only floor failed");
        }
        rows.push((
            "no database: HTTP and card verification only".to_string(),
            r,
        ));
    }
    for (name, url) in backends {
        let portal = start_portal(url, &key, args.connections);
        // Warm up connections and caches.
        run_level(
            &client_rt,
            &portal,
            &cards,
            4,
            if args.full { 1.0 } else { 0.1 },
            Target::Exchange,
        );
        for &c in &args.levels {
            let r = run_level(&client_rt, &portal, &cards, c, args.secs, Target::Exchange);
            if !args.full {
                assert!(r.done > 0, "no exchange completed");
                assert_eq!(r.errors, 0, "exchanges failed under load");
            }
            rows.push((name.to_string(), r));
        }
        // The floor: the same load generator and server with requests that do no exchange.
        if let Some(&c) = args.levels.last() {
            let r = run_level(&client_rt, &portal, &cards, c, args.secs, Target::Health);
            if !args.full {
                assert_eq!(r.errors, 0, "health checks failed under load");
            }
            rows.push((format!("{name}: `GET /healthz` only"), r));
        }
    }
    if !args.full {
        return;
    }
    println!();
    println!(
        "raw Ed25519 verify_strict: {raw_us:.1} µs (ceiling on {cores} cores: {ceiling:.0}/s); \
         full quickcard::verify of a card: {card_us:.1} µs"
    );
    println!();
    println!(
        "| database | concurrency | exchanges/s | % of raw-verify ceiling | p50 ms | p99 ms | errors \
         | CPU µs per exchange: portal + database = server | load generator \
         | requests per group: reads / counts / sessions (SQLite's writer busy) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, r) in rows {
        let per = |secs: f64| secs * 1e6 / r.done.max(1) as f64;
        let groups = match r.groups {
            Some([reads, counts, sessions]) if r.writer_busy > 0.0 => format!(
                "{reads:.1} / {counts:.1} / {sessions:.1} ({:.0} %)",
                100.0 * r.writer_busy
            ),
            Some([reads, counts, sessions]) => {
                format!("{reads:.1} / {counts:.1} / {sessions:.1}")
            }
            None => "–".into(),
        };
        println!(
            "| {name} | {} | {:.0} | {:.1} % | {:.2} | {:.2} | {} / {} | {:.0} + {:.0} = {:.0} | {:.0} | {groups} |",
            r.concurrency,
            r.per_sec,
            100.0 * r.per_sec / ceiling,
            r.p50_ms,
            r.p99_ms,
            r.errors,
            r.done,
            per(r.cpu.portal),
            per(r.cpu.database),
            per(r.cpu.portal + r.cpu.database),
            per(r.cpu.loadgen),
        );
    }
}
