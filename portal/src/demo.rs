//! The demo portal: a complete portal in the caller's process, for the kiosk's demo mode and
//! for end-to-end tests of the kiosk.
//!
//! [`spawn`] starts it on its own thread with its own tokio runtime (so it never blocks or
//! needs the caller's runtime), on a loopback port, with an in-memory SQLite database, the
//! sample roster imported, the published demo key trusted (demo mode), the demo PIN set for
//! every adult on the roster, and one kiosk enrolled. It returns once the portal is listening.
//!
//! ```no_run
//! let portal = quickcard_portal::demo::spawn(Default::default()).unwrap();
//! println!("portal at {}, kiosk credential {} chars", portal.url, portal.kiosk_credential.len());
//! portal.shutdown();
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::store::{self, ImportReport};
use crate::domain::secrets::{Secret, hash_pin, hash_token};
use crate::error::PortalError;
use crate::{AppState, domain::roster_import, serve};

/// The PIN the demo sets for teachers, staff and administrators (second-factor cards).
pub const DEMO_PIN: &str = "1234";

/// Where the sample roster lives in the source tree, tried in order.
pub fn sample_roster() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("sample-cards");
    [
        root.join("roster.csv"),
        root.join("roster-oneroster"),
        root.join("roster"),
    ]
    .into_iter()
    .find(|p| p.exists())
}

/// How to start a demo portal. `Default` gives the sample roster on a free loopback port.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Roster to import (a OneRoster folder or simple CSV); `None`: [`sample_roster`].
    pub roster: Option<PathBuf>,
    /// Loopback port; 0 picks a free one.
    pub port: u16,
    /// Name of the enrolled demo kiosk.
    pub kiosk_name: String,
    /// School of the demo kiosk; `None`: the roster's first school.
    pub school_id: Option<String>,
    /// Settings to start from (the database, listen address and public URL are replaced).
    pub config: Config,
    /// The clock; `None`: the system clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// Chromebook sign-in: act as the SAML IdP of this service provider (key made in memory).
    pub saml: Option<crate::config::idp::DemoSaml>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            roster: None,
            port: 0,
            kiosk_name: "DEMO-KIOSK".into(),
            school_id: None,
            config: Config::default(),
            clock: None,
            saml: None,
        }
    }
}

/// A running demo portal. Dropping it (or [`DemoPortal::shutdown`]) stops the portal.
// Debug below: the credential and the admin token print as [redacted].
pub struct DemoPortal {
    /// Base URL, e.g. `http://127.0.0.1:38211` (no trailing slash).
    pub url: String,
    pub kiosk_id: String,
    /// The enrolled demo kiosk's credential (`Authorization: Bearer …`).
    pub kiosk_credential: String,
    /// The demo kiosk's school.
    pub school_id: String,
    /// A token for the admin API (`/v1/admin/…`), e.g. to read the audit log in tests.
    pub admin_token: String,
    /// What the roster import did.
    pub import: ImportReport,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DemoPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = crate::domain::redact::Redacted;
        f.debug_struct("DemoPortal")
            .field("url", &self.url)
            .field("kiosk_id", &self.kiosk_id)
            .field("kiosk_credential", &hidden)
            .field("school_id", &self.school_id)
            .field("admin_token", &hidden)
            .field("import", &self.import)
            .finish_non_exhaustive()
    }
}

impl DemoPortal {
    /// Stops the portal and waits for its thread to finish.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for DemoPortal {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// What [`prepare`] set up.
// Debug: crate::domain::redact (no secrets in logs).
pub struct Prepared {
    pub state: AppState,
    pub kiosk_id: String,
    pub kiosk_credential: String,
    /// A second, unused enrolment code for the same school (for a real kiosk to enrol with).
    pub enrolment_code: String,
    pub school_id: String,
    pub admin_token: String,
    pub import: ImportReport,
}

/// Sets up a demo state on `config` (whose database should be empty): migrations, roster,
/// demo PINs, one enrolled kiosk, an admin token. Used by [`spawn`] and `serve --demo`.
pub async fn prepare(
    mut config: Config,
    roster: Option<PathBuf>,
    kiosk_name: &str,
    school_id: Option<String>,
    clock: Arc<dyn Clock>,
) -> Result<Prepared, PortalError> {
    let admin_token = Secret::token("qca_");
    config.admin.token_sha256 = Some(admin_token.hash());
    let state = AppState::connect(config, clock, true).await?;
    let now = state.now();
    let roster = roster.or_else(sample_roster).ok_or_else(|| {
        PortalError::Invalid("no sample roster found under sample-cards/; pass one".into())
    })?;
    let import = roster_import::import(&state.db, &roster, now).await?;
    let pin_hash = tokio::task::spawn_blocking(|| hash_pin(DEMO_PIN))
        .await
        .map_err(|e| PortalError::Invalid(e.to_string()))?
        .map_err(|e| PortalError::Invalid(e.to_string()))?;
    let adults: Vec<String> = {
        use sqlx::Row;
        sqlx::query(
            "SELECT id FROM users WHERE role <> 'student' AND removed_at IS NULL ORDER BY id",
        )
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()?
    };
    for id in adults {
        store::set_pin(&state.db, &id, &pin_hash, now).await?;
    }
    let school_id = match school_id {
        Some(s) => s,
        None => {
            use sqlx::Row;
            sqlx::query("SELECT id FROM schools ORDER BY id LIMIT 1")
                .fetch_optional(&state.db.pool)
                .await?
                .map(|r| r.try_get::<String, _>("id"))
                .transpose()?
                .ok_or_else(|| PortalError::Invalid("the demo roster has no school".into()))?
        }
    };
    let ttl = state.config.kiosk.enrolment_code_ttl_secs as i64;
    let (kiosk_id, code) = store::add_kiosk(&state.db, kiosk_name, &school_id, now, ttl).await?;
    let (_, credential) = store::enrol_kiosk(&state.db, &hash_token(code.expose()), now)
        .await?
        .ok_or_else(|| PortalError::Invalid("demo kiosk enrolment failed".into()))?;
    let (_, spare) =
        store::add_kiosk(&state.db, &format!("{kiosk_name}-2"), &school_id, now, ttl).await?;
    Ok(Prepared {
        state,
        kiosk_id,
        kiosk_credential: credential.expose().to_string(),
        enrolment_code: spare.expose().to_string(),
        school_id,
        admin_token: admin_token.expose().to_string(),
        import,
    })
}

/// Starts a demo portal on its own thread and returns once it is listening.
pub fn spawn(opts: DemoOptions) -> Result<DemoPortal, PortalError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("quickcard-demo-portal".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("quickcard-demo-portal")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(PortalError::Io(e)));
                    return;
                }
            };
            rt.block_on(async move {
                let started = async {
                    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
                    let addr = listener.local_addr()?;
                    let mut config = opts.config;
                    config.database_url = "sqlite::memory:".into();
                    config.listen = addr;
                    config.public_url = Some(format!("http://{addr}"));
                    let clock = opts.clock.unwrap_or_else(|| Arc::new(SystemClock));
                    crate::config::idp::apply_demo(&mut config, opts.saml.as_ref(), clock.now())?;
                    let prepared =
                        prepare(config, opts.roster, &opts.kiosk_name, opts.school_id, clock)
                            .await?;
                    Ok::<_, PortalError>((listener, addr, prepared))
                }
                .await;
                match started {
                    Ok((listener, addr, p)) => {
                        let state = p.state.clone();
                        let _ = ready_tx.send(Ok((addr, p)));
                        let stop = async {
                            let _ = stop_rx.await;
                        };
                        if let Err(e) = serve(state, listener, stop).await {
                            tracing::error!(error = %e, "demo portal stopped");
                        }
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })?;
    let (addr, p) = ready_rx
        .recv()
        .map_err(|_| PortalError::Invalid("the demo portal thread stopped".into()))??;
    Ok(DemoPortal {
        url: format!("http://{addr}"),
        kiosk_id: p.kiosk_id,
        kiosk_credential: p.kiosk_credential,
        school_id: p.school_id,
        admin_token: p.admin_token,
        import: p.import,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_demo_portal_prints_its_credential_and_token_redacted() {
        let p = super::DemoPortal {
            url: "http://127.0.0.1:1".into(),
            kiosk_id: "kio-demo".into(),
            kiosk_credential: "qck_0123456789abcdef".into(),
            school_id: "sch".into(),
            admin_token: "qca_fedcba9876543210".into(),
            import: Default::default(),
            stop: None,
            thread: None,
        };
        let dbg = format!("{p:?}");
        assert!(
            !dbg.contains("0123456789abcdef") && !dbg.contains("fedcba9876543210"),
            "{dbg}"
        );
        assert!(
            dbg.contains("[redacted]") && dbg.contains("kio-demo"),
            "{dbg}"
        );
    }
}
