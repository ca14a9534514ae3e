//! Reading an `AuthnRequest` from the HTTP-Redirect binding: `SAMLRequest` is base64 of raw
//! DEFLATE of the XML, `RelayState` is opaque. The request is untrusted input from anyone who
//! can open the sign-in URL, so it is bounded at every step (encoded size, inflated size, node
//! count), read by a parser that refuses DTDs (no entity expansion, no XXE), and only accepted
//! when its issuer and ACS URL are on the configured allow-list. Google does not sign its
//! requests, so a `Signature`/`SigAlg` query parameter is ignored; trust comes from the
//! allow-list (we only ever post to a configured ACS URL) and from answering each id once.

use std::io::Read;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use flate2::read::DeflateDecoder;

use crate::config::IdpConfig;
use crate::xstime::parse_xs_datetime;
use crate::{BINDING_POST, NAMEID_EMAIL, NAMEID_UNSPECIFIED, NS_ASSERTION, NS_PROTOCOL};

/// Largest accepted `SAMLRequest` parameter (base64 characters).
pub const MAX_ENCODED_REQUEST: usize = 16 * 1024;
/// Largest accepted inflated request XML (bytes): Google's requests are well under 1 kB.
pub const MAX_INFLATED_REQUEST: usize = 32 * 1024;
/// Largest accepted `RelayState` (bytes). The SAML binding says 80, but Google sends a
/// continue URL that is longer; we pass it back unchanged, so only its size is bounded.
pub const MAX_RELAY_STATE: usize = 4096;
const MAX_NODES: u32 = 500;
const MAX_ID_LEN: usize = 256;

/// Why a request was refused. [`RequestError::code`] is a stable short code for audit rows.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    #[error("no SAMLRequest parameter")]
    Missing,
    #[error("the query string is malformed: {0}")]
    BadQuery(&'static str),
    #[error("SAMLRequest is larger than {MAX_ENCODED_REQUEST} characters")]
    EncodedTooLarge,
    #[error("SAMLRequest is not valid base64")]
    BadBase64,
    #[error("SAMLRequest is not valid raw DEFLATE data")]
    BadDeflate,
    #[error("the inflated request is larger than {MAX_INFLATED_REQUEST} bytes")]
    InflatedTooLarge,
    #[error("the request XML is not UTF-8")]
    NotUtf8,
    #[error("the request XML has a DTD or an entity reference; refused")]
    DtdOrEntity,
    #[error("the request XML is malformed: {0}")]
    BadXml(String),
    #[error("the document is not a SAML 2.0 AuthnRequest")]
    NotAuthnRequest,
    #[error("the request has no valid ID")]
    BadId,
    #[error("the request has no valid IssueInstant (UTC xs:dateTime)")]
    BadIssueInstant,
    #[error("the request was issued too long ago")]
    TooOld,
    #[error("the request was issued in the future")]
    FromTheFuture,
    #[error("the request has no Issuer")]
    MissingIssuer,
    #[error("issuer {0:?} is not an allowed service provider")]
    UnknownIssuer(String),
    #[error("ACS URL {0:?} is not the allowed ACS URL of this service provider")]
    AcsNotAllowed(String),
    #[error("the request asks for the binding {0:?}; only HTTP-POST is supported")]
    UnsupportedBinding(String),
    #[error("the request's Destination {0:?} is not this sign-in URL")]
    WrongDestination(String),
    #[error("the request asks for NameID format {0:?}; only emailAddress is supported")]
    UnsupportedNameIdFormat(String),
    #[error("RelayState is longer than {MAX_RELAY_STATE} bytes or has control characters")]
    BadRelayState,
}

impl RequestError {
    /// A short stable code for logs and audit rows.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Missing => "missing",
            RequestError::BadQuery(_) => "bad_query",
            RequestError::EncodedTooLarge | RequestError::InflatedTooLarge => "too_large",
            RequestError::BadBase64 => "bad_base64",
            RequestError::BadDeflate => "bad_deflate",
            RequestError::NotUtf8 | RequestError::BadXml(_) => "bad_xml",
            RequestError::DtdOrEntity => "dtd",
            RequestError::NotAuthnRequest => "not_authn_request",
            RequestError::BadId => "bad_id",
            RequestError::BadIssueInstant => "bad_issue_instant",
            RequestError::TooOld => "too_old",
            RequestError::FromTheFuture => "future",
            RequestError::MissingIssuer => "missing_issuer",
            RequestError::UnknownIssuer(_) => "unknown_issuer",
            RequestError::AcsNotAllowed(_) => "acs_not_allowed",
            RequestError::UnsupportedBinding(_) => "binding",
            RequestError::WrongDestination(_) => "destination",
            RequestError::UnsupportedNameIdFormat(_) => "nameid_format",
            RequestError::BadRelayState => "bad_relay_state",
        }
    }
}

/// A checked SP-initiated request. It can only be made by parsing, so its issuer and ACS URL
/// are always on the allow-list: [`crate::build_response`] takes the audience and the ACS URL
/// from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    id: String,
    issue_instant: u64,
    issuer: String,
    acs_url: String,
    destination: Option<String>,
    relay_state: Option<String>,
    force_authn: bool,
    is_passive: bool,
    answer_by: u64,
}

impl AuthnRequest {
    /// The request `ID` (our response's `InResponseTo`).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// `IssueInstant`, Unix seconds.
    pub fn issue_instant(&self) -> u64 {
        self.issue_instant
    }
    /// The SP entity id (our `Audience`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The allow-listed ACS URL the response goes to (`Destination`, `Recipient`).
    pub fn acs_url(&self) -> &str {
        &self.acs_url
    }
    /// The request's `Destination`, when it had one (then it equals the sign-in URL).
    pub fn destination(&self) -> Option<&str> {
        self.destination.as_deref()
    }
    /// `RelayState`, to be posted back unchanged.
    pub fn relay_state(&self) -> Option<&str> {
        self.relay_state.as_deref()
    }
    /// `ForceAuthn="true"`: the SP wants a fresh card scan (we always scan, so informative).
    pub fn force_authn(&self) -> bool {
        self.force_authn
    }
    /// `IsPassive="true"`: the SP wants no user interaction. A card sign-in always needs the
    /// child, so the portal should answer with a `NoPassive` status (not built here) or refuse.
    pub fn is_passive(&self) -> bool {
        self.is_passive
    }
    /// The last second (Unix) at which this request may still be answered.
    pub fn answer_by(&self) -> u64 {
        self.answer_by
    }
    /// What the portal must persist to answer this request at most once.
    pub fn replay_record(&self) -> ReplayRecord {
        ReplayRecord {
            issuer: self.issuer.clone(),
            request_id: self.id.clone(),
            expires_at: self.answer_by,
        }
    }
}

/// "This request id has been answered": the portal inserts it (unique on
/// `(issuer, request_id)`) in the same transaction that records the sign-in, before sending the
/// response, and refuses when the insert conflicts. Rows may be deleted after `expires_at`,
/// because [`parse_authn_request`] refuses the request as too old from then on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRecord {
    /// SP entity id.
    pub issuer: String,
    /// The `AuthnRequest` ID.
    pub request_id: String,
    /// Unix seconds after which the row may be purged.
    pub expires_at: u64,
}

/// Parses the raw query string of a redirect (`SAMLRequest=…&RelayState=…`, percent-encoded)
/// and then the request as [`parse_authn_request`] does. Other parameters (`SigAlg`,
/// `Signature`) are ignored; a repeated `SAMLRequest` or `RelayState` is refused.
pub fn parse_redirect_query(
    raw_query: &str,
    config: &IdpConfig,
    now: u64,
) -> Result<AuthnRequest, RequestError> {
    if raw_query.len() > MAX_ENCODED_REQUEST * 3 + MAX_RELAY_STATE * 3 + 4096 {
        return Err(RequestError::EncodedTooLarge);
    }
    let mut saml_request = None;
    let mut relay_state = None;
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match k {
            "SAMLRequest" => &mut saml_request,
            "RelayState" => &mut relay_state,
            _ => continue,
        };
        if slot.is_some() {
            return Err(RequestError::BadQuery("a parameter is repeated"));
        }
        *slot = Some(percent_decode(v)?);
    }
    let saml_request = saml_request.ok_or(RequestError::Missing)?;
    parse_authn_request(&saml_request, relay_state.as_deref(), config, now)
}

fn percent_decode(s: &str) -> Result<String, RequestError> {
    let bytes = quickcard::util::percent_decode(s, quickcard::util::BadEscape::Refuse)
        .ok_or(RequestError::BadQuery("bad percent escape"))?;
    String::from_utf8(bytes).map_err(|_| RequestError::BadQuery("not UTF-8"))
}

/// Checks an HTTP-Redirect `AuthnRequest`: `saml_request` is the (already URL-decoded)
/// `SAMLRequest` value, `relay_state` the `RelayState` value, `now` Unix seconds.
pub fn parse_authn_request(
    saml_request: &str,
    relay_state: Option<&str>,
    config: &IdpConfig,
    now: u64,
) -> Result<AuthnRequest, RequestError> {
    if saml_request.len() > MAX_ENCODED_REQUEST {
        return Err(RequestError::EncodedTooLarge);
    }
    if let Some(rs) = relay_state
        && (rs.len() > MAX_RELAY_STATE || rs.chars().any(char::is_control))
    {
        return Err(RequestError::BadRelayState);
    }
    let compact: String = saml_request
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(RequestError::Missing);
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let deflated = engine
        .decode(compact.as_bytes())
        .map_err(|_| RequestError::BadBase64)?;
    let mut xml = Vec::new();
    DeflateDecoder::new(deflated.as_slice())
        .take(MAX_INFLATED_REQUEST as u64 + 1)
        .read_to_end(&mut xml)
        .map_err(|_| RequestError::BadDeflate)?;
    if xml.len() > MAX_INFLATED_REQUEST {
        return Err(RequestError::InflatedTooLarge);
    }
    let xml = String::from_utf8(xml).map_err(|_| RequestError::NotUtf8)?;
    parse_request_xml(&xml, relay_state, config, now)
}

fn parse_request_xml(
    xml: &str,
    relay_state: Option<&str>,
    config: &IdpConfig,
    now: u64,
) -> Result<AuthnRequest, RequestError> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = roxmltree::Document::parse_with_options(xml, opts).map_err(|e| match e {
        roxmltree::Error::DtdDetected
        | roxmltree::Error::UnknownEntityReference(..)
        | roxmltree::Error::EntityReferenceLoop(..) => RequestError::DtdOrEntity,
        other => RequestError::BadXml(other.to_string()),
    })?;
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(NS_PROTOCOL)
        || root.tag_name().name() != "AuthnRequest"
        || root.attribute("Version") != Some("2.0")
    {
        return Err(RequestError::NotAuthnRequest);
    }
    let id = root.attribute("ID").ok_or(RequestError::BadId)?;
    if !is_xml_id(id) {
        return Err(RequestError::BadId);
    }
    let issue_instant = root
        .attribute("IssueInstant")
        .and_then(parse_xs_datetime)
        .ok_or(RequestError::BadIssueInstant)?;
    if issue_instant > now.saturating_add(config.clock_skew_secs()) {
        return Err(RequestError::FromTheFuture);
    }
    let answer_by = issue_instant.saturating_add(config.request_max_age_secs());
    if now > answer_by {
        return Err(RequestError::TooOld);
    }

    let mut issuer = None;
    let mut name_id_format = None;
    for child in root.children().filter(|n| n.is_element()) {
        match (child.tag_name().namespace(), child.tag_name().name()) {
            (Some(NS_ASSERTION), "Issuer") => {
                if issuer.is_some() {
                    return Err(RequestError::BadXml("more than one Issuer".into()));
                }
                if let Some(f) = child.attribute("Format")
                    && f != "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
                {
                    return Err(RequestError::BadXml("Issuer is not an entity id".into()));
                }
                issuer = Some(child.text().unwrap_or("").trim().to_owned());
            }
            (Some(NS_PROTOCOL), "NameIDPolicy") => {
                name_id_format = child.attribute("Format");
            }
            _ => {}
        }
    }
    let issuer = issuer
        .filter(|s| !s.is_empty())
        .ok_or(RequestError::MissingIssuer)?;
    let sp = config
        .allow_list()
        .find(&issuer)
        .ok_or_else(|| RequestError::UnknownIssuer(issuer.clone()))?;
    if let Some(acs) = root.attribute("AssertionConsumerServiceURL")
        && !sp.accepts_acs(acs)
    {
        return Err(RequestError::AcsNotAllowed(acs.to_owned()));
    }
    if root.attribute("AssertionConsumerServiceIndex").is_some()
        && root.attribute("AssertionConsumerServiceURL").is_none()
    {
        // An index refers to SP metadata we do not hold; the allow-listed URL is used instead,
        // which is what Google expects (it sends the URL).
        tracing::debug!(
            "AuthnRequest uses AssertionConsumerServiceIndex; using the allow-listed ACS URL"
        );
    }
    if let Some(binding) = root.attribute("ProtocolBinding")
        && binding != BINDING_POST
    {
        return Err(RequestError::UnsupportedBinding(binding.to_owned()));
    }
    let destination = root.attribute("Destination");
    if let Some(d) = destination
        && d != config.sso_url()
    {
        return Err(RequestError::WrongDestination(d.to_owned()));
    }
    if let Some(f) = name_id_format
        && f != NAMEID_EMAIL
        && f != NAMEID_UNSPECIFIED
    {
        return Err(RequestError::UnsupportedNameIdFormat(f.to_owned()));
    }
    let flag = |name: &str| matches!(root.attribute(name), Some("true" | "1"));
    Ok(AuthnRequest {
        id: id.to_owned(),
        issue_instant,
        issuer,
        acs_url: sp.acs_url().to_owned(),
        destination: destination.map(str::to_owned),
        relay_state: relay_state.map(str::to_owned),
        force_authn: flag("ForceAuthn"),
        is_passive: flag("IsPassive"),
        answer_by,
    })
}

/// An `xs:ID` value restricted to a safe ASCII subset of NCName.
pub(crate) fn is_xml_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && id.len() <= MAX_ID_LEN
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Bb+c%3d").unwrap(), "a+b c=");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%ff").is_err());
    }

    #[test]
    fn ids() {
        assert!(is_xml_id("_abc-1.2"));
        assert!(is_xml_id("id-8d7f"));
        assert!(!is_xml_id("1abc"));
        assert!(!is_xml_id(""));
        assert!(!is_xml_id("a\"b"));
        assert!(!is_xml_id(&"a".repeat(300)));
    }
}
