//! `--check-config`: loads the config as `serve` would (syntax, values, trust list, the
//! `[saml]` key and certificate, the web kiosk's files) and prints what it found, without
//! opening the database. Its own module because it is the longest report the command line
//! prints, and the only one that reads every section of the config.

use anyhow::Result;
#[cfg(not(feature = "saml"))]
use anyhow::bail;

#[cfg(feature = "saml")]
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::redact_url;

use super::{Cli, load_config, outln};

/// Prints the checked config of `cli`, or fails on the first problem.
pub(super) fn check_config(cli: &Cli) -> Result<()> {
    let config = load_config(cli)?;
    let trust = config.trust_list(cli.demo)?;
    outln!("config ok")?;
    outln!("  listen        {}", config.listen)?;
    outln!("  database      {}", redact_url(&config.database_url))?;
    outln!("  trusted keys  {}", trust.keys().len())?;
    for k in trust.keys() {
        outln!(
            "    {} {} {}",
            k.public.key_id(),
            k.name,
            if k.public.is_demo() { "(DEMO KEY)" } else { "" }
        )?;
    }
    outln!("  apps          {}", config.catalogue().len())?;
    outln!("  retention     (days; older rows are deleted hourly)")?;
    for (key, days) in config.retention.periods() {
        outln!("    {key:<22} {days}")?;
    }
    match config.metrics.listen {
        Some(addr) => outln!("  metrics       /metrics with the admin token; on {addr} without")?,
        None => {
            outln!("  metrics       /metrics with the admin token")?;
        }
    }
    check_saml(&config)?;
    if let Some(dir) = &config.web_dir {
        crate::http::web::WebBundle::load(dir)?;
        outln!("  web kiosk     {} (served at /kiosk/)", dir.display())?;
    }
    if trust.is_empty() {
        outln!("  warning: no trusted keys: every card will be refused")?;
    }
    Ok(())
}

/// `--check-config`: the `[saml]` section, with its key and certificate loaded.
fn check_saml(config: &Config) -> Result<()> {
    if config.saml.is_none() {
        outln!("  chromebook sign-in  off (no [saml] section)")?;
        return Ok(());
    }
    #[cfg(feature = "saml")]
    {
        let idp = crate::config::idp::Idp::load(config)?
            .ok_or_else(|| anyhow::anyhow!("the [saml] section did not load"))?;
        let cert = idp.key.certificate();
        outln!("  chromebook sign-in  SAML IdP")?;
        outln!("    entity id   {}", idp.idp.entity_id())?;
        outln!("    sign-in URL {}", idp.idp.sso_url())?;
        for sp in idp.idp.allow_list().providers() {
            outln!("    allows      {} -> {}", sp.entity_id(), sp.acs_url())?;
        }
        outln!("    {}", idp.binding.describe())?;
        for (school, ranges) in &idp.settings.networks {
            outln!("    network     {school}: {}", ranges.join(", "))?;
        }
        outln!(
            "    certificate SHA-256 {}, valid until {}",
            cert.sha256_fingerprint(),
            quickcard::time::format_utc(cert.not_after())
        )?;
        if cert.not_after() < SystemClock.now() + 90 * 86_400 {
            outln!(
                "    warning: the certificate expires within 90 days: make a new one and add it to Google first"
            )?;
        }
        if let Some(p) = &idp.settings.chromeos_password_key_file {
            outln!(
                "    ChromeOS passwords derived from the key {}",
                p.display()
            )?;
        }
        if !idp.settings.name_id_domains.is_set() {
            outln!(
                "    warning: saml.name_id_domains is not set: a NameID (roster e-mail) in any domain is accepted"
            )?;
        }
        Ok(())
    }
    #[cfg(not(feature = "saml"))]
    {
        bail!(
            "the config has a [saml] section, but this portal was built without the `saml` feature"
        )
    }
}
