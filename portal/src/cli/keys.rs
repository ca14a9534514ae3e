//! The commands that make keys and tokens: `admin-token`, `saml keygen|metadata` and
//! `chromeos-password keygen`. Grouped because none of them opens the database: they write a
//! secret (or print the IdP's public description) and say which config line to add.

use anyhow::Result;
#[cfg(feature = "saml")]
use anyhow::bail;

#[cfg(feature = "saml")]
use crate::clock::Clock;
use crate::domain::secrets::Secret;

use super::outln;
#[cfg(feature = "saml")]
use super::{Cli, SamlCommand, load_config};

/// `admin-token`: the token on stdout, the config line on stderr.
pub(super) fn admin_token() -> Result<()> {
    let token = Secret::token("qca_");
    eprintln!(
        "put this in the config ([admin] section) and keep the token itself secret:\n  token_sha256 = \"{}\"",
        token.hash()
    );
    outln!("{}", token.expose())?;
    Ok(())
}

/// `saml keygen|metadata`.
#[cfg(feature = "saml")]
pub(super) fn saml(cli: &Cli, command: &SamlCommand, clock: &dyn Clock) -> Result<()> {
    match command {
        SamlCommand::Keygen { key, cert, cn } => {
            let k = quickcard_saml::IdpKey::generate(cn, clock.now())?;
            k.save(key, cert)?;
            let c = k.certificate();
            outln!(
                "wrote the private key {} (mode 0600; never share it) and the certificate {}\n\
                 certificate SHA-256 {}, valid until {}\n\
                 config:\n  [saml]\n  key_file = {:?}\n  cert_file = {:?}",
                key.display(),
                cert.display(),
                c.sha256_fingerprint(),
                quickcard::time::format_utc(c.not_after()),
                key.display().to_string(),
                cert.display().to_string(),
            )?;
        }
        SamlCommand::Metadata => {
            let config = load_config(cli)?;
            let Some(idp) = crate::config::idp::Idp::load(&config)? else {
                bail!("the config has no [saml] section: Chromebook sign-in is not set up");
            };
            print!(
                "{}",
                quickcard_saml::idp_metadata(&idp.idp, idp.key.certificate())
            );
        }
    }
    Ok(())
}
