//! # QuickCard portal
//!
//! The portal is the authority behind every kiosk: a kiosk's offline check only gives quick
//! feedback, the portal verifies each card again ([`quickcard::verify()`]) and decides. It turns a
//! card into a session, ends sessions, hands out one-time app launch URLs, keeps revocations,
//! PIN lockouts, rate limits and the audit log — all in the database, so any number of
//! replicas on one PostgreSQL behave as one portal.
//!
//! The modules, in the order a request passes through them:
//!
//! - `http` (private): the routes of the API (`portal/API.md`), the browser kiosk's files, the
//!   Chromebook sign-in pages and `/metrics`; it turns requests into calls of the domain and
//!   the domain's answers and [`ApiError`]s into replies;
//! - [`domain`]: the decisions: the card exchange and its PIN step, the policy, the app
//!   catalogue, the ChromeOS password, device binding, a person's data, retention, the roster
//!   import and how secrets are made and compared;
//! - [`db`]: the database pool and migrations, every query ([`db::store`], one file per table),
//!   and the machinery that groups many requests' reads and writes into one round trip;
//! - [`config`]: the TOML config with its sections and checks.
//!
//! Data flows one way: `http` → [`domain`] → [`db`], each reading [`config`]. Outside callers
//! use the facade:
//!
//! - [`app`] builds the HTTP API over an [`AppState`]; [`serve`] runs it on a listener until a
//!   shutdown signal;
//! - [`demo::spawn`] starts a complete in-process demo portal for the kiosk's demo and tests;
//! - [`cli`] holds the `quickcard-portal` commands (the binary is a thin `main.rs`).

pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
mod http;

use std::future::Future;
use std::sync::Arc;

use quickcard::TrustList;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use db::{Db, DbKind};
pub use error::{ApiError, PortalError};
pub use http::api::app;

/// Everything a request handler needs. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub trust: TrustList,
    pub apps: Vec<domain::catalogue::App>,
    pub clock: Arc<dyn Clock>,
    pub demo: bool,
    /// Kiosk and card scan counters, counted in groups (see [`db::ratelimit`]).
    pub rate: db::ratelimit::RateCounter,
    /// Session starts, committed in groups (see [`db::session_writer::SessionWriter`]).
    pub sessions: db::session_writer::SessionWriter,
    /// What exchanges read, read in groups (see [`db::exchange_reads`]).
    pub reads: db::exchange_reads::ExchangeReads,
    /// The browser kiosk's files (`web_dir`), served at `/kiosk/`.
    pub web: Option<http::web::WebBundle>,
    /// What `/metrics` shows (see `http::metrics`).
    pub metrics: http::metrics::Metrics,
    /// The SAML identity provider for Chromebook sign-in (`[saml]`), when configured.
    #[cfg(feature = "saml")]
    pub saml: Option<Arc<config::idp::Idp>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state from a loaded config and an open database. Fails when the trust list
    /// is invalid, including when it holds the demo key and `demo` is false.
    pub fn new(
        config: Config,
        db: Db,
        clock: Arc<dyn Clock>,
        demo: bool,
    ) -> Result<AppState, PortalError> {
        let trust = config.trust_list(demo)?;
        let apps = config.catalogue();
        let web = match &config.web_dir {
            Some(dir) => Some(http::web::WebBundle::load(dir)?),
            None => None,
        };
        #[cfg(feature = "saml")]
        let saml = config::idp::Idp::load(&config)?.map(Arc::new);
        let sessions = db::session_writer::SessionWriter::new(db.clone());
        Ok(AppState(Arc::new(Inner {
            rate: db::ratelimit::RateCounter::new(db.clone()),
            reads: db::exchange_reads::ExchangeReads::new(db.clone()),
            sessions,
            db,
            config,
            trust,
            apps,
            clock,
            demo,
            web,
            metrics: http::metrics::Metrics::new(),
            #[cfg(feature = "saml")]
            saml,
        })))
    }

    /// Connects to the configured database, runs the migrations and builds the state.
    pub async fn connect(
        config: Config,
        clock: Arc<dyn Clock>,
        demo: bool,
    ) -> Result<AppState, PortalError> {
        // Check the trust list before touching the database.
        config.trust_list(demo)?;
        let db = Db::connect(&config.database_url, config.database_max_connections).await?;
        db.migrate().await?;
        AppState::new(config, db, clock, demo)
    }

    /// The current time from the state's clock, as the database stores it.
    pub fn now(&self) -> i64 {
        self.clock.now() as i64
    }
}

/// How often SQLite's write-ahead log is checkpointed while it is written, and while idle.
const CHECKPOINT_BUSY: std::time::Duration = std::time::Duration::from_millis(20);
const CHECKPOINT_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Serves the API on `listener` until `shutdown` completes, then finishes open requests.
/// Also prunes old rate-limit windows once a minute, and checkpoints SQLite's write-ahead log
/// in the background ([`Db::checkpoint`]: every 20 ms while it is written, so no request pays
/// for a large checkpoint and the log stays small).
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pruner = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                let before = state.now() - 2 * state.config.rate_limit.window_secs as i64;
                if let Err(e) = db::store::prune_rate_buckets(&state.db, before).await {
                    tracing::warn!(error = %e, "could not prune rate-limit windows");
                }
            }
        })
    };
    // Retention: old rows go at start-up and then hourly (see retention).
    let retention = tokio::spawn(domain::retention::run(state.clone()));
    // `[metrics] listen`: the metrics page alone, on a loopback address.
    let metrics_listener = match state.config.metrics.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(%addr, "metrics on /metrics (loopback only)");
            let app = http::metrics::loopback_app(state.clone());
            Some(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::warn!(error = %e, "the metrics listener stopped");
                }
            }))
        }
        None => None,
    };
    let checkpointer = {
        let db = state.db.clone();
        tokio::spawn(async move {
            loop {
                // Often while exchanges write (each checkpoint then has little to copy, and
                // the write-ahead log stays a few megabytes), seldom when the portal is idle.
                let pause = match db.checkpoint().await {
                    Ok(frames) if frames > 0 => CHECKPOINT_BUSY,
                    Ok(_) => CHECKPOINT_IDLE,
                    Err(e) => {
                        tracing::warn!(error = %e, "SQLite checkpoint failed");
                        CHECKPOINT_IDLE
                    }
                };
                tokio::time::sleep(pause).await;
            }
        })
    };
    // The peer address is the per-address rate-limit key (crate::db::ratelimit::ClientAddr).
    let result = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    pruner.abort();
    retention.abort();
    if let Some(task) = metrics_listener {
        task.abort();
    }
    checkpointer.abort();
    result
}
