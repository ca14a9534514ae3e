//! The signed SAML `Response` for Google (HTTP-POST binding): one bearer `Assertion` for the
//! user's primary e-mail, audience and recipient taken from the checked [`AuthnRequest`],
//! short validity, the Assertion signed and then the whole Response signed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::rand_core::{OsRng, RngCore};

use crate::c14n::{El, is_xml_text};
use crate::config::IdpConfig;
use crate::dsig::sign_enveloped;
use crate::keys::{IdpKey, KeyError};
use crate::post::{PostPageOptions, render_post_page};
use crate::request::{AuthnRequest, is_xml_id};
use crate::xstime::format_xs_datetime;
use crate::{NAMEID_EMAIL, NS_ASSERTION, NS_PROTOCOL};

/// Google's limit for all attributes together.
pub const MAX_ATTRIBUTE_BYTES: usize = 2048;

/// Why a response could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0:?} is not a valid e-mail address for a NameID")]
    BadEmail(String),
    #[error("{0:?} is not a valid XML ID")]
    BadId(String),
    #[error("the response id and the assertion id must differ")]
    SameIds,
    #[error("attribute {0:?} has an invalid name or value")]
    BadAttribute(String),
    #[error("attributes are larger than Google's {MAX_ATTRIBUTE_BYTES} bytes")]
    AttributesTooLarge,
    #[error("the request {id} may only be answered until {answer_by}; it is too late")]
    RequestExpired { id: String, answer_by: u64 },
    #[error("the authentication instant lies in the future or before the request")]
    BadAuthnInstant,
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A user's primary Google e-mail, used verbatim as the `NameID` (Google compares it
/// case-sensitively, so it is not case-folded here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailNameId(String);

impl EmailNameId {
    /// Checks the shape: one `@`, non-empty local part and a dotted domain, at most 254 bytes,
    /// no whitespace or control characters.
    pub fn parse(email: &str) -> Result<EmailNameId, BuildError> {
        let bad = || BuildError::BadEmail(email.to_owned());
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || !is_xml_text(email)
        {
            return Err(bad());
        }
        Ok(EmailNameId(email.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One SAML attribute (basic name format, string values). Google ignores attributes for
/// sign-in; they are for other SPs and for tests. No sensitive personal data belongs here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Values.
    pub values: Vec<String>,
}

/// Who signed in, and how.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The `NameID`.
    pub name_id: EmailNameId,
    /// When the card (and PIN) was verified, Unix seconds.
    pub authn_instant: u64,
    /// Extra attributes (normally none for Google).
    pub attributes: Vec<Attribute>,
}

/// The ids of one response. Use [`ResponseIds::generate`]; tests pass fixed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseIds {
    response_id: String,
    assertion_id: String,
    session_index: String,
}

impl ResponseIds {
    /// Fixed ids (each a safe `xs:ID`: ASCII letter or `_` first, then letters, digits, `_-.`).
    pub fn new(
        response_id: &str,
        assertion_id: &str,
        session_index: &str,
    ) -> Result<ResponseIds, BuildError> {
        for id in [response_id, assertion_id, session_index] {
            if !is_xml_id(id) {
                return Err(BuildError::BadId(id.to_owned()));
            }
        }
        if response_id == assertion_id {
            return Err(BuildError::SameIds);
        }
        Ok(ResponseIds {
            response_id: response_id.to_owned(),
            assertion_id: assertion_id.to_owned(),
            session_index: session_index.to_owned(),
        })
    }

    /// Three fresh random ids (`_` + 32 hex digits, 128 bits each) from the OS.
    pub fn generate() -> Result<ResponseIds, BuildError> {
        let id = || -> Result<String, BuildError> {
            let mut b = [0u8; 16];
            OsRng
                .try_fill_bytes(&mut b)
                .map_err(|e| BuildError::Random(e.to_string()))?;
            Ok(format!("_{}", quickcard::util::hex(&b)))
        };
        Ok(ResponseIds {
            response_id: id()?,
            assertion_id: id()?,
            session_index: id()?,
        })
    }

    /// The `Response` ID.
    pub fn response_id(&self) -> &str {
        &self.response_id
    }
    /// The `Assertion` ID.
    pub fn assertion_id(&self) -> &str {
        &self.assertion_id
    }
    /// The `SessionIndex`.
    pub fn session_index(&self) -> &str {
        &self.session_index
    }
}

/// A signed response ready to post.
#[derive(Debug, Clone)]
pub struct SignedResponse {
    xml: String,
    acs_url: String,
    relay_state: Option<String>,
    in_response_to: String,
    not_on_or_after: u64,
}

impl SignedResponse {
    /// The XML document (UTF-8, no XML declaration).
    pub fn xml(&self) -> &str {
        &self.xml
    }
    /// The `SAMLResponse` form value: base64 of the XML.
    pub fn base64(&self) -> String {
        STANDARD.encode(self.xml.as_bytes())
    }
    /// Where to POST it.
    pub fn acs_url(&self) -> &str {
        &self.acs_url
    }
    /// The `RelayState` to post back.
    pub fn relay_state(&self) -> Option<&str> {
        self.relay_state.as_deref()
    }
    /// The request this answers.
    pub fn in_response_to(&self) -> &str {
        &self.in_response_to
    }
    /// End of the assertion's validity, Unix seconds.
    pub fn not_on_or_after(&self) -> u64 {
        self.not_on_or_after
    }
    /// The auto-submitting HTML page that POSTs this response to the ACS URL.
    pub fn post_page(&self, options: &PostPageOptions) -> String {
        render_post_page(
            &self.acs_url,
            &self.base64(),
            self.relay_state.as_deref(),
            options,
        )
    }
}

/// Builds and signs the response to `request` for `sign_in` at `now` (Unix seconds). The
/// caller must already have recorded the request's [`crate::ReplayRecord`] (answered once).
pub fn build_response(
    config: &IdpConfig,
    key: &IdpKey,
    request: &AuthnRequest,
    sign_in: &SignIn,
    ids: &ResponseIds,
    now: u64,
) -> Result<SignedResponse, BuildError> {
    if now > request.answer_by() {
        return Err(BuildError::RequestExpired {
            id: request.id().to_owned(),
            answer_by: request.answer_by(),
        });
    }
    if sign_in.authn_instant > now.saturating_add(config.clock_skew_secs()) {
        return Err(BuildError::BadAuthnInstant);
    }
    check_attributes(&sign_in.attributes)?;

    let issue_instant = format_xs_datetime(now);
    let not_on_or_after_secs = now.saturating_add(config.response_validity_secs());
    let not_on_or_after = format_xs_datetime(not_on_or_after_secs);
    let not_before = format_xs_datetime(now.saturating_sub(config.clock_skew_secs()));

    let mut assertion = El::new("saml:Assertion")
        .ns("saml", NS_ASSERTION)
        .attr("ID", ids.assertion_id.as_str())
        .attr("IssueInstant", issue_instant.as_str())
        .attr("Version", "2.0")
        .child(El::new("saml:Issuer").text(config.entity_id()))
        .child(
            El::new("saml:Subject")
                .child(
                    El::new("saml:NameID")
                        .attr("Format", NAMEID_EMAIL)
                        .text(sign_in.name_id.as_str()),
                )
                .child(
                    El::new("saml:SubjectConfirmation")
                        .attr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
                        .child(
                            El::new("saml:SubjectConfirmationData")
                                .attr("InResponseTo", request.id())
                                .attr("NotOnOrAfter", not_on_or_after.as_str())
                                .attr("Recipient", request.acs_url()),
                        ),
                ),
        )
        .child(
            El::new("saml:Conditions")
                .attr("NotBefore", not_before.as_str())
                .attr("NotOnOrAfter", not_on_or_after.as_str())
                .child(
                    El::new("saml:AudienceRestriction")
                        .child(El::new("saml:Audience").text(request.issuer())),
                ),
        )
        .child(
            El::new("saml:AuthnStatement")
                .attr("AuthnInstant", format_xs_datetime(sign_in.authn_instant))
                .attr("SessionIndex", ids.session_index.as_str())
                .child(
                    El::new("saml:AuthnContext").child(
                        El::new("saml:AuthnContextClassRef")
                            .text("urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"),
                    ),
                ),
        );
    if !sign_in.attributes.is_empty() {
        let mut statement = El::new("saml:AttributeStatement");
        for a in &sign_in.attributes {
            let mut attr = El::new("saml:Attribute")
                .attr("Name", a.name.as_str())
                .attr(
                    "NameFormat",
                    "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
                );
            for v in &a.values {
                attr = attr.child(El::new("saml:AttributeValue").text(v.as_str()));
            }
            statement = statement.child(attr);
        }
        assertion = assertion.child(statement);
    }
    sign_enveloped(&mut assertion, &ids.assertion_id, 1, key)?;

    let mut response = El::new("samlp:Response")
        .ns("samlp", NS_PROTOCOL)
        .attr("Destination", request.acs_url())
        .attr("ID", ids.response_id.as_str())
        .attr("InResponseTo", request.id())
        .attr("IssueInstant", issue_instant.as_str())
        .attr("Version", "2.0")
        .child(
            El::new("saml:Issuer")
                .ns("saml", NS_ASSERTION)
                .text(config.entity_id()),
        )
        .child(El::new("samlp:Status").child(
            El::new("samlp:StatusCode").attr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success"),
        ))
        .child(assertion);
    sign_enveloped(&mut response, &ids.response_id, 1, key)?;

    tracing::debug!(
        request_id = request.id(),
        response_id = ids.response_id.as_str(),
        audience = request.issuer(),
        "signed SAML response"
    );
    Ok(SignedResponse {
        xml: response.to_canonical(),
        acs_url: request.acs_url().to_owned(),
        relay_state: request.relay_state().map(str::to_owned),
        in_response_to: request.id().to_owned(),
        not_on_or_after: not_on_or_after_secs,
    })
}

fn check_attributes(attrs: &[Attribute]) -> Result<(), BuildError> {
    let mut total = 0;
    for a in attrs {
        let ok_name = !a.name.is_empty()
            && a.name.len() <= 256
            && a.name.chars().all(|c| c.is_ascii_graphic());
        if !ok_name || a.values.iter().any(|v| !is_xml_text(v)) {
            return Err(BuildError::BadAttribute(a.name.clone()));
        }
        total += a.name.len() + a.values.iter().map(String::len).sum::<usize>();
    }
    if total > MAX_ATTRIBUTE_BYTES {
        return Err(BuildError::AttributesTooLarge);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(EmailNameId::parse("Ana.B@example.edu").is_ok());
        for bad in [
            "",
            "ana",
            "@example.edu",
            "ana@",
            "ana@edu",
            "a b@example.edu",
            "a@b@c.edu",
            "a@.edu",
            "a@example.edu.",
        ] {
            assert!(EmailNameId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            EmailNameId::parse("Ana@Example.edu").unwrap().as_str(),
            "Ana@Example.edu"
        );
    }

    #[test]
    fn response_ids() {
        assert!(ResponseIds::new("_r", "_a", "_s").is_ok());
        assert!(matches!(
            ResponseIds::new("_r", "_r", "_s"),
            Err(BuildError::SameIds)
        ));
        assert!(matches!(
            ResponseIds::new("1r", "_a", "_s"),
            Err(BuildError::BadId(_))
        ));
        let g = ResponseIds::generate().unwrap();
        assert_eq!(g.response_id().len(), 33);
        assert_ne!(g.response_id(), g.assertion_id());
        assert!(is_xml_id(g.session_index()));
    }

    #[test]
    fn attributes_checked() {
        let a = |n: &str, v: &str| Attribute {
            name: n.into(),
            values: vec![v.into()],
        };
        assert!(check_attributes(&[a("role", "student")]).is_ok());
        assert!(check_attributes(&[a("bad name", "x")]).is_err());
        assert!(check_attributes(&[a("x", "\u{1}")]).is_err());
        assert!(matches!(
            check_attributes(&[a("x", &"v".repeat(3000))]),
            Err(BuildError::AttributesTooLarge)
        ));
    }

    fn parsed_request(now: u64) -> (IdpConfig, AuthnRequest) {
        use std::io::Write as _;
        let cfg = IdpConfig::new(
            "https://portal.example.edu/saml/metadata",
            "https://portal.example.edu/saml/sso",
            crate::SpAllowList::google("example.edu", &[]).unwrap(),
        )
        .unwrap();
        let xml = format!(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"req-1\" \
             Version=\"2.0\" IssueInstant=\"{}\" AssertionConsumerServiceURL=\"https://www.google.com/a/example.edu/acs\">\
             <saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">google.com/a/example.edu</saml:Issuer>\
             </samlp:AuthnRequest>",
            format_xs_datetime(now - 30)
        );
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(xml.as_bytes()).unwrap();
        let b64 = STANDARD.encode(enc.finish().unwrap());
        let req = crate::parse_authn_request(&b64, Some("rs"), &cfg, now).unwrap();
        (cfg, req)
    }

    #[test]
    fn response_fields() {
        let now = 1_795_000_000;
        let (cfg, req) = parsed_request(now);
        let key = crate::keys::tests::test_key();
        let ids = ResponseIds::new("_resp1", "_assert1", "_sess1").unwrap();
        let sign_in = SignIn {
            name_id: EmailNameId::parse("ana@example.edu").unwrap(),
            authn_instant: now - 5,
            attributes: vec![],
        };
        let r = build_response(&cfg, key, &req, &sign_in, &ids, now).unwrap();
        assert_eq!(r.acs_url(), "https://www.google.com/a/example.edu/acs");
        assert_eq!(r.relay_state(), Some("rs"));
        assert_eq!(r.in_response_to(), "req-1");
        assert_eq!(r.not_on_or_after(), now + 300);
        assert_eq!(STANDARD.decode(r.base64()).unwrap(), r.xml().as_bytes());

        let doc = roxmltree::Document::parse(r.xml()).unwrap();
        let root = doc.root_element();
        let find = |name: &str| {
            doc.descendants()
                .find(|n| n.tag_name().name() == name)
                .unwrap()
        };
        assert_eq!(root.tag_name().name(), "Response");
        assert_eq!(root.attribute("ID"), Some("_resp1"));
        assert_eq!(root.attribute("InResponseTo"), Some("req-1"));
        assert_eq!(
            root.attribute("Destination"),
            Some("https://www.google.com/a/example.edu/acs")
        );
        assert_eq!(root.attribute("IssueInstant"), Some("2026-11-18T11:06:40Z"));
        // Schema order: Issuer, Signature, Status, Assertion.
        let kids: Vec<&str> = root.children().map(|n| n.tag_name().name()).collect();
        assert_eq!(kids, ["Issuer", "Signature", "Status", "Assertion"]);
        let assertion = find("Assertion");
        let kids: Vec<&str> = assertion.children().map(|n| n.tag_name().name()).collect();
        assert_eq!(
            kids,
            [
                "Issuer",
                "Signature",
                "Subject",
                "Conditions",
                "AuthnStatement"
            ]
        );
        assert_eq!(assertion.attribute("ID"), Some("_assert1"));
        assert_eq!(find("NameID").text(), Some("ana@example.edu"));
        assert_eq!(find("NameID").attribute("Format"), Some(NAMEID_EMAIL));
        let scd = find("SubjectConfirmationData");
        assert_eq!(
            scd.attribute("Recipient"),
            Some("https://www.google.com/a/example.edu/acs")
        );
        assert_eq!(scd.attribute("InResponseTo"), Some("req-1"));
        assert_eq!(scd.attribute("NotOnOrAfter"), Some("2026-11-18T11:11:40Z"));
        let cond = find("Conditions");
        assert_eq!(cond.attribute("NotBefore"), Some("2026-11-18T11:05:40Z"));
        assert_eq!(cond.attribute("NotOnOrAfter"), Some("2026-11-18T11:11:40Z"));
        assert_eq!(find("Audience").text(), Some("google.com/a/example.edu"));
        let authn = find("AuthnStatement");
        assert_eq!(
            authn.attribute("AuthnInstant"),
            Some("2026-11-18T11:06:35Z")
        );
        assert_eq!(authn.attribute("SessionIndex"), Some("_sess1"));
        let refs: Vec<&str> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "Reference")
            .filter_map(|n| n.attribute("URI"))
            .collect();
        assert_eq!(refs, ["#_resp1", "#_assert1"]);
        // No whitespace-only text nodes: the document is compact canonical XML.
        assert!(
            doc.descendants()
                .filter(|n| n.is_text())
                .all(|n| !n.text().unwrap().trim().is_empty())
        );
    }

    #[test]
    fn refuses_late_answers_and_future_authn() {
        let now = 1_795_000_000;
        let (cfg, req) = parsed_request(now);
        let key = crate::keys::tests::test_key();
        let mut sign_in = SignIn {
            name_id: EmailNameId::parse("ana@example.edu").unwrap(),
            authn_instant: now,
            attributes: vec![],
        };
        let ids = ResponseIds::generate().unwrap();
        assert!(matches!(
            build_response(&cfg, key, &req, &sign_in, &ids, req.answer_by() + 1),
            Err(BuildError::RequestExpired { .. })
        ));
        sign_in.authn_instant = now + 3600;
        assert!(matches!(
            build_response(&cfg, key, &req, &sign_in, &ids, now),
            Err(BuildError::BadAuthnInstant)
        ));
    }
}
