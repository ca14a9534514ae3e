//! The servers the load generator talks to: the real portal (a generated roster, enrolled
//! kiosks, a real database) and the verify-only floor, each on its own 2-thread runtime named
//! `portal`, as the portal runs.
//!
//! Why a module of its own: starting and stopping a server is set-up, not measurement; the
//! numbers the benchmark reports come from [`super::level`].

use std::sync::Arc;

use quickcard::{IssuerKey, TrustedKey, VerifyOptions};
use quickcard_portal::config::Config;
use quickcard_portal::{AppState, SystemClock, db::store};
use serde_json::json;

use super::{KIOSKS, SCHOOL, USERS, now};

pub(super) struct Portal {
    pub(super) url: String,
    pub(super) kiosks: Vec<String>,
    /// The portal's state (for its group statistics); none for the verify-only floor.
    pub(super) state: Option<AppState>,
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
pub(super) fn start_portal(
    database_url: String,
    key: &IssuerKey,
    connections: Option<u32>,
) -> Portal {
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
        quickcard_portal::domain::roster_import::import(&state.db, &roster, t)
            .await
            .unwrap();
        let mut kiosks = Vec::new();
        for k in 0..KIOSKS {
            let (_, code) = store::add_kiosk(&state.db, &format!("LAB-{k}"), SCHOOL, t, 600)
                .await
                .unwrap();
            let (_, cred) = store::enrol_kiosk(
                &state.db,
                &quickcard_portal::domain::secrets::hash_token(code.expose()),
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
pub(super) fn start_verify_floor(key: &IssuerKey) -> Portal {
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
