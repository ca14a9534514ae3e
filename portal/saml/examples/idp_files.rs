//! Writes a fresh IdP key, its certificate and the IdP metadata into a directory, for trying
//! the IdP by hand (`openssl x509 -text`, `xmlsec1`, an SP). The portal's own command does this
//! for real deployments.
//!
//! `cargo run -p quickcard-saml --example idp_files -- DIR DOMAIN SIGN_IN_URL`

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use quickcard_saml::{IdpConfig, IdpKey, SpAllowList, idp_metadata};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(domain), Some(sso)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: idp_files DIR DOMAIN SIGN_IN_URL".into());
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let config = IdpConfig::new(
        &format!("{sso}/metadata"),
        &sso,
        SpAllowList::google(&domain, &[])?,
    )?;
    let key = IdpKey::generate(&format!("QuickCard SAML IdP {domain}"), now)?;
    key.save(&dir.join("idp.key"), &dir.join("idp.crt"))?;
    std::fs::write(
        dir.join("idp-metadata.xml"),
        idp_metadata(&config, key.certificate()),
    )?;
    println!("{key:?}");
    Ok(())
}
