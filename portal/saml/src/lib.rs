//! SAML 2.0 identity-provider building blocks for Chromebook sign-in.
//!
//! A Chromebook's sign-in screen can only show Google's page or the district's SAML sign-in
//! page, so the portal acts as the district's SAML identity provider for Google Workspace. This
//! crate is the self-contained part of that: everything that touches SAML XML, the RSA key and
//! the X.509 certificate, as pure functions whose inputs (clock, keys, ids) are passed in.
//! The portal mounts them as routes; the kiosk and the browser build never depend on this crate.
//!
//! The flow (SP-initiated, the only one Google uses):
//! 1. Google redirects the Chromebook to the sign-in URL with `SAMLRequest` (+ `RelayState`):
//!    [`parse_redirect_query`] / [`parse_authn_request`] check it against the [`IdpConfig`]
//!    allow-list and return a checked [`AuthnRequest`]. The portal stores its
//!    [`ReplayRecord`] so that the request is answered at most once.
//! 2. After a verified card, [`build_response`] returns a [`SignedResponse`] (Response and
//!    Assertion both signed, RSA-2048/SHA-256, exclusive C14N) and [`SignedResponse::post_page`]
//!    the auto-submitting HTML form that POSTs it to Google's ACS URL.
//! 3. [`idp_metadata`] and [`IdpCertificate::to_pem`] are what the district uploads to Google;
//!    [`IdpKey::generate`] / [`IdpKey::save`] / [`IdpKey::load`] manage the signing key.
//!
//! Why the XML is written directly in canonical form instead of using a general XML-DSig
//! library: see `docs/saml-design.md`.

mod c14n;
mod config;
mod dsig;
mod keys;
mod metadata;
mod post;
mod request;
mod response;
mod xstime;

pub use config::{ConfigError, IdpConfig, ServiceProvider, SpAllowList};
pub use keys::{CERT_VALIDITY_SECS, IdpCertificate, IdpKey, KEY_BITS, KeyError};
pub use metadata::idp_metadata;
pub use post::{PostPageOptions, html_escape};
pub use request::{
    AuthnRequest, MAX_ENCODED_REQUEST, MAX_INFLATED_REQUEST, MAX_RELAY_STATE, ReplayRecord,
    RequestError, parse_authn_request, parse_redirect_query,
};
pub use response::{
    Attribute, BuildError, EmailNameId, MAX_ATTRIBUTE_BYTES, ResponseIds, SignIn, SignedResponse,
    build_response,
};
pub use xstime::{format_xs_datetime, parse_xs_datetime};

/// SAML 2.0 protocol namespace.
pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 assertion namespace.
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 metadata namespace.
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig namespace.
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// HTTP-Redirect binding URI.
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding URI.
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// NameID format of a Google user: the primary e-mail address.
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// NameID format "unspecified" (Google sends this in some requests).
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
