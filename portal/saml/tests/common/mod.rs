//! Shared fixtures for the integration tests: one IdP key per test binary, the Google-like
//! configuration, and hand-made HTTP-Redirect requests.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quickcard_saml::*;

mod xmlsec_check;
#[allow(unused_imports)] // not every test file that includes `common` checks signatures
pub use xmlsec_check::{xmlsec_verify, xmlsec1};

pub const DOMAIN: &str = "example.edu";
pub const SP_ENTITY: &str = "google.com/a/example.edu";
pub const ACS: &str = "https://www.google.com/a/example.edu/acs";
pub const IDP_ENTITY: &str = "https://portal.example.edu/saml/metadata";
pub const SSO_URL: &str = "https://portal.example.edu/saml/sso";

pub fn key() -> &'static IdpKey {
    static KEY: OnceLock<IdpKey> = OnceLock::new();
    KEY.get_or_init(|| IdpKey::generate("QuickCard SAML IdP test", now() - 3600).unwrap())
}

pub fn config() -> IdpConfig {
    IdpConfig::new(
        IDP_ENTITY,
        SSO_URL,
        SpAllowList::google(DOMAIN, &["rp123"]).unwrap(),
    )
    .unwrap()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Raw DEFLATE + base64, as the HTTP-Redirect binding wants.
pub fn encode_request(xml: &str) -> String {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes()).unwrap();
    STANDARD.encode(enc.finish().unwrap())
}

/// An AuthnRequest like Google's.
pub fn request_xml(id: &str, issue_instant: u64, issuer: &str, acs: Option<&str>) -> String {
    let acs = acs
        .map(|a| format!(" AssertionConsumerServiceURL=\"{a}\""))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"{id}\" \
         Version=\"2.0\" IssueInstant=\"{}\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"\
         {acs} IsPassive=\"false\" ForceAuthn=\"false\">\
         <saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{issuer}</saml:Issuer>\
         <samlp:NameIDPolicy AllowCreate=\"true\" Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\"/>\
         </samlp:AuthnRequest>",
        format_xs_datetime(issue_instant)
    )
}

/// A parsed request for the Google legacy profile.
pub fn google_request(id: &str, now: u64) -> AuthnRequest {
    let enc = encode_request(&request_xml(id, now, SP_ENTITY, Some(ACS)));
    parse_authn_request(
        &enc,
        Some("https://www.google.com/a/example.edu/ServiceLogin?continue=x"),
        &config(),
        now,
    )
    .unwrap()
}

pub fn sign_in(email: &str, at: u64) -> SignIn {
    SignIn {
        name_id: EmailNameId::parse(email).unwrap(),
        authn_instant: at,
        attributes: vec![Attribute {
            name: "role".into(),
            values: vec!["student".into()],
        }],
    }
}

pub fn response_for(req: &AuthnRequest, email: &str, now: u64) -> SignedResponse {
    build_response(
        &config(),
        key(),
        req,
        &sign_in(email, now),
        &ResponseIds::generate().unwrap(),
        now,
    )
    .unwrap()
}

/// Writes the IdP certificate (PEM) and metadata into `dir`.
pub fn write_idp_files(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = dir.join("idp.crt");
    std::fs::write(&cert, key().certificate().to_pem()).unwrap();
    let md = dir.join("idp-metadata.xml");
    std::fs::write(&md, idp_metadata(&config(), key().certificate())).unwrap();
    (cert, md)
}

/// The value of attribute `name` on the first element starting with `tag_start`.
pub fn attr_of(xml: &str, tag_start: &str, name: &str) -> String {
    let at = xml.find(tag_start).unwrap();
    let rest = &xml[at..];
    let end = rest.find('>').unwrap();
    let tag = &rest[..end];
    let k = format!(" {name}=\"");
    let i = tag.find(&k).unwrap() + k.len();
    let j = tag[i..].find('"').unwrap();
    tag[i..i + j].to_owned()
}
