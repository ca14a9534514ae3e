//! One level of load: a fixed number of concurrent requests for a fixed time, with the
//! latencies, errors, CPU shares and the portal's group statistics it produced.
//!
//! Why a module of its own: this is the measurement itself, the part whose method the
//! reported numbers depend on; keeping it apart from set-up and reporting makes it easy to
//! check.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quickcard_portal::AppState;
use serde_json::json;

use super::cpu::{Cpu, cpu_now};
use super::servers::Portal;

pub(super) struct LevelResult {
    pub(super) concurrency: usize,
    pub(super) done: u64,
    pub(super) errors: u64,
    pub(super) per_sec: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    /// CPU seconds spent during the level, by whom.
    pub(super) cpu: Cpu,
    /// Requests per group during the level: reads, rate-limit counts, session starts.
    pub(super) groups: Option<[f64; 3]>,
    /// The share of the level's time SQLite's single write turn was held (0 on PostgreSQL).
    pub(super) writer_busy: f64,
}

/// The portal's group statistics: reads, rate-limit counts, session starts.
fn group_stats(state: &AppState) -> [quickcard_portal::db::group::GroupStats; 3] {
    [
        state.reads.stats(),
        state.rate.stats(),
        state.sessions.stats(),
    ]
}

/// What each request of a level is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// A full card exchange.
    Exchange,
    /// `GET /healthz`: HTTP plus one `SELECT 1`, the floor under any request that reads the
    /// database.
    Health,
}

pub(super) fn run_level(
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
