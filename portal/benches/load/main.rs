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
//!
//! Here: the arguments, the cards, the raw verification cost, the order of the runs and the
//! report. The servers are started in `servers`, one level of load is run and measured in
//! `level`, and `cpu` tells whose threads spent the CPU.

use std::sync::Arc;
use std::time::Instant;

use ed25519_dalek::{Signer, SigningKey};
use quickcard::{Claims, Flags, IssuerKey, Role, TrustedKey, VerifyOptions};
use quickcard_portal::Db;

use level::{Target, run_level};
use servers::{start_portal, start_verify_floor};

#[path = "../../../benches/harness/mod.rs"]
mod harness;

mod cpu;
mod level;
mod servers;

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
