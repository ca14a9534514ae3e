//! `serve`: runs the portal until SIGINT or SIGTERM, from the config, or as an in-memory demo
//! (`serve --demo`, which prints the demo kiosk's credential, codes and tokens). Its own
//! module because it is the only command that keeps running, and the demo set-up is long.

use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::AppState;
use crate::clock::Clock;
use crate::config::Config;
use crate::demo;

use super::{Cli, ServeArgs, load_config};

/// Runs the portal (see `Command::Serve`).
pub(super) async fn serve(cli: &Cli, args: &ServeArgs, clock: Arc<dyn Clock>) -> Result<()> {
    let demo_saml = match (&args.saml_sp_entity, &args.saml_acs) {
        (Some(entity), Some(acs)) => Some(crate::config::idp::DemoSaml {
            sp_entity_id: entity.clone(),
            acs_url: acs.clone(),
        }),
        _ => None,
    };
    if demo_saml.is_some() && !(cli.demo && cli.config.is_none()) {
        bail!(
            "--saml-sp-entity/--saml-acs are for `serve --demo` without --config; \
             configure Chromebook sign-in in the [saml] section of the config"
        );
    }
    if cli.demo && cli.config.is_none() {
        let mut config = Config::from_env()?;
        config.database_url = "sqlite::memory:".into();
        crate::config::idp::apply_demo(&mut config, demo_saml.as_ref(), clock.now())?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let p = demo::prepare(config, None, "DEMO-KIOSK", None, clock).await?;
        eprintln!(
            "DEMO MODE: the published demo key is trusted; never use this for a school.\n\
             demo kiosk {} (school {}) credential: {}\n\
             enrolment code for another kiosk: {}\n\
             admin token: {}\n\
             demo PIN for staff cards: {}",
            p.kiosk_id,
            p.school_id,
            p.kiosk_credential,
            p.enrolment_code,
            p.admin_token,
            demo::DEMO_PIN
        );
        if p.state.web.is_some() {
            eprintln!(
                "browser kiosk: http://{}{}?demo=1#credential={}",
                listener.local_addr()?,
                crate::http::web::MOUNT,
                p.kiosk_credential
            );
        }
        #[cfg(feature = "saml")]
        if let Some(idp) = &p.state.saml {
            eprintln!(
                "Chromebook sign-in (SAML IdP, key made in memory) for {}: metadata \
                 http://{}/saml/metadata",
                idp.idp
                    .allow_list()
                    .providers()
                    .iter()
                    .map(|sp| sp.entity_id())
                    .collect::<Vec<_>>()
                    .join(", "),
                listener.local_addr()?
            );
        }
        tracing::info!(addr = %listener.local_addr()?, "portal listening (demo)");
        crate::serve(p.state, listener, shutdown_signal()).await?;
        return Ok(());
    }
    let config = load_config(cli)?;
    let listen = config.listen;
    let state = AppState::connect(config, clock, cli.demo).await?;
    if cli.demo {
        tracing::warn!("DEMO MODE: the published demo key is trusted");
    }
    if state.trust.is_empty() {
        tracing::warn!("no trusted issuer keys: every card will be refused");
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(addr = %listener.local_addr()?, db = ?state.db.kind, "portal listening");
    crate::serve(state, listener, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
        tracing::info!("shutting down");
    }
}
