//! # QuickCard portal
//!
//! The portal is the authority behind every kiosk: a kiosk's offline check only gives quick
//! feedback, the portal verifies each card again ([`quickcard::verify()`]) and decides. It turns a
//! card into a session, ends sessions, hands out one-time app launch URLs, keeps revocations,
//! PIN lockouts, rate limits and the audit log — all in the database, so any number of
//! replicas on one PostgreSQL behave as one portal.
//!
//! - [`app`] builds the HTTP API (documented in `portal/API.md`) over an [`AppState`];
//! - [`serve`] runs it on a listener until a shutdown signal;
//! - [`demo::spawn`] starts a complete in-process demo portal for the kiosk's demo and tests;
//! - [`cli`] holds the `quickcard-portal` commands (the binary is a thin `main.rs`).

pub mod api;
pub mod catalogue;
pub mod chromeos_password;
pub mod cli;
pub mod clock;
pub mod config;
mod config_keys;
pub mod db;
pub mod demo;
pub mod device_binding;
pub mod error;
pub mod exchange;
pub mod exchange_reads;
pub mod group;
pub mod idp;
pub mod key_location;
pub mod metrics;
pub mod name_id_domains;
pub mod person;
pub mod pin_attempts;
pub mod policy;
pub mod ratelimit;
pub mod redact;
pub mod retention;
pub mod roster_import;
pub mod secrets;
pub mod session_writer;
/// Chromebook sign-in routes (the SAML identity provider); see the module docs.
#[cfg(feature = "saml")]
pub mod signin;
#[cfg(feature = "saml")]
mod signin_device;
pub mod store;
/// Chrome Verified Access (device attestation on the sign-in path).
#[cfg(feature = "saml")]
pub mod verified_access;
pub mod web;
/// Without the `saml` feature there are no sign-in routes (every path answers 404).
#[cfg(not(feature = "saml"))]
pub mod signin {
    /// No routes.
    pub fn routes() -> axum::Router<crate::AppState> {
        axum::Router::new()
    }
}

use std::future::Future;
use std::sync::Arc;

use quickcard::TrustList;

pub use api::app;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use db::{Db, DbKind};
pub use error::{ApiError, PortalError};

/// Everything a request handler needs. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub trust: TrustList,
    pub apps: Vec<catalogue::App>,
    pub clock: Arc<dyn Clock>,
    pub demo: bool,
    /// Kiosk and card scan counters, counted in groups (see [`ratelimit`]).
    pub rate: ratelimit::RateCounter,
    /// Session starts, committed in groups (see [`session_writer::SessionWriter`]).
    pub sessions: session_writer::SessionWriter,
    /// What exchanges read, read in groups (see [`exchange_reads`]).
    pub reads: exchange_reads::ExchangeReads,
    /// The browser kiosk's files (`web_dir`), served at `/kiosk/`.
    pub web: Option<web::WebBundle>,
    /// What `/metrics` shows (see [`metrics`]).
    pub metrics: metrics::Metrics,
    /// The SAML identity provider for Chromebook sign-in (`[saml]`), when configured.
    #[cfg(feature = "saml")]
    pub saml: Option<Arc<idp::Idp>>,
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
            Some(dir) => Some(web::WebBundle::load(dir)?),
            None => None,
        };
        #[cfg(feature = "saml")]
        let saml = idp::Idp::load(&config)?.map(Arc::new);
        let sessions = session_writer::SessionWriter::new(db.clone());
        Ok(AppState(Arc::new(Inner {
            rate: ratelimit::RateCounter::new(db.clone()),
            reads: exchange_reads::ExchangeReads::new(db.clone()),
            sessions,
            db,
            config,
            trust,
            apps,
            clock,
            demo,
            web,
            metrics: metrics::Metrics::new(),
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
                if let Err(e) = store::prune_rate_buckets(&state.db, before).await {
                    tracing::warn!(error = %e, "could not prune rate-limit windows");
                }
            }
        })
    };
    // Retention: old rows go at start-up and then hourly (see retention).
    let retention = tokio::spawn(retention::run(state.clone()));
    // `[metrics] listen`: the metrics page alone, on a loopback address.
    let metrics_listener = match state.config.metrics.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(%addr, "metrics on /metrics (loopback only)");
            let app = metrics::loopback_app(state.clone());
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
    // The peer address is the per-address rate-limit key (crate::ratelimit::ClientAddr).
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
