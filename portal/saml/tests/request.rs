//! Hostile and malformed `AuthnRequest`s: each is refused with its own error, none panics.
//! (Good requests from pysaml2's own SP client are in `sp.rs`.)

mod common;
use common::*;

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quickcard_saml::*;

fn parse(xml: &str, now: u64) -> Result<AuthnRequest, RequestError> {
    parse_authn_request(&encode_request(xml), None, &config(), now)
}

#[test]
fn a_google_style_request_is_accepted() {
    let now = now();
    let req = parse(
        &request_xml("ojhbdidnplffnkpafad", now - 5, SP_ENTITY, Some(ACS)),
        now,
    )
    .unwrap();
    assert_eq!(req.id(), "ojhbdidnplffnkpafad");
    assert_eq!(req.issue_instant(), now - 5);
    assert_eq!(req.issuer(), SP_ENTITY);
    assert_eq!(req.acs_url(), ACS);
    assert_eq!(req.destination(), None);
    assert!(!req.is_passive() && !req.force_authn());
    assert_eq!(req.answer_by(), now - 5 + 600);
    // Without an ACS URL the allow-listed one is used.
    let req = parse(&request_xml("id2", now, SP_ENTITY, None), now).unwrap();
    assert_eq!(req.acs_url(), ACS);
}

#[test]
fn malformed_transport_refused() {
    let now = now();
    let cfg = config();
    let e = |s: &str| parse_authn_request(s, None, &cfg, now).unwrap_err();
    assert_eq!(e("!!!not base64!!!"), RequestError::BadBase64);
    assert_eq!(e(""), RequestError::Missing);
    assert_eq!(e("  \n"), RequestError::Missing);
    // Plain (not deflated) XML in base64.
    assert_eq!(
        e(&STANDARD.encode(request_xml("id", now, SP_ENTITY, Some(ACS)))),
        RequestError::BadDeflate
    );
    // Deflated bytes that are not UTF-8.
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&[0xff, 0xfe, 0x00, 0x3c]).unwrap();
    assert_eq!(
        e(&STANDARD.encode(enc.finish().unwrap())),
        RequestError::NotUtf8
    );
    // Oversized parameter.
    assert_eq!(
        e(&"A".repeat(MAX_ENCODED_REQUEST + 4)),
        RequestError::EncodedTooLarge
    );
    // A deflate bomb: 10 MB of spaces is ~10 kB compressed, refused after 32 kB of output.
    let bomb = encode_request(&format!("{}{}", " ".repeat(10 * 1024 * 1024), "<x/>"));
    assert!(bomb.len() < MAX_ENCODED_REQUEST);
    assert_eq!(e(&bomb), RequestError::InflatedTooLarge);
    // Not XML.
    assert!(matches!(
        e(&encode_request("<samlp:AuthnRequest")),
        RequestError::BadXml(_)
    ));
    // Relay state too long or with control characters.
    let good = encode_request(&request_xml("id", now, SP_ENTITY, Some(ACS)));
    let long = "x".repeat(MAX_RELAY_STATE + 1);
    assert_eq!(
        parse_authn_request(&good, Some(&long), &cfg, now).unwrap_err(),
        RequestError::BadRelayState
    );
    assert_eq!(
        parse_authn_request(&good, Some("a\nb"), &cfg, now).unwrap_err(),
        RequestError::BadRelayState
    );
}

#[test]
fn query_string_handling() {
    let now = now();
    let cfg = config();
    let enc = encode_request(&request_xml("id-q", now, SP_ENTITY, Some(ACS)));
    let pct = enc
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let q = format!("SAMLRequest={pct}&RelayState=https%3A%2F%2Fx%2F%3Fa%3D1&SigAlg=ignored");
    let req = parse_redirect_query(&q, &cfg, now).unwrap();
    assert_eq!(req.relay_state(), Some("https://x/?a=1"));
    assert_eq!(
        parse_redirect_query("RelayState=x", &cfg, now).unwrap_err(),
        RequestError::Missing
    );
    assert!(matches!(
        parse_redirect_query(&format!("SAMLRequest={pct}&SAMLRequest={pct}"), &cfg, now),
        Err(RequestError::BadQuery(_))
    ));
    assert!(matches!(
        parse_redirect_query("SAMLRequest=%G1", &cfg, now),
        Err(RequestError::BadQuery(_))
    ));
}

#[test]
fn dtd_and_entities_refused() {
    let now = now();
    let body = request_xml("id", now, SP_ENTITY, Some(ACS));
    let body = body.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    // XXE: an external entity reading a local file.
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE samlp:AuthnRequest [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
        body.replace(SP_ENTITY, "&xxe;")
    );
    assert_eq!(parse(&xxe, now).unwrap_err(), RequestError::DtdOrEntity);
    // Billion laughs.
    let lol = format!(
        "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>{}",
        body.replace(SP_ENTITY, "&lol2;")
    );
    assert_eq!(parse(&lol, now).unwrap_err(), RequestError::DtdOrEntity);
    // A DTD alone, and an undeclared entity without a DTD.
    assert_eq!(
        parse(&format!("<!DOCTYPE x>{body}"), now).unwrap_err(),
        RequestError::DtdOrEntity
    );
    assert_eq!(
        parse(&body.replace(SP_ENTITY, "&ent;"), now).unwrap_err(),
        RequestError::DtdOrEntity
    );
}

/// The request's ACS URL is parsed and compared by its parts: a URL that only starts like the
/// allowed one, or hides another host in its user info, is refused; another spelling of the
/// allowed one is accepted, and the answer goes to the configured URL as configured.
#[test]
fn acs_urls_that_only_look_allowed_are_refused() {
    let now = now();
    for acs in [
        "https://www.google.com/a/example.edu/acs.evil.com",
        "https://www.google.com/a/example.edu/acs/../x",
        "https://www.google.com/a/example.edu/acs?x",
        "https://www.google.com/a/example.edu/acs#x",
        "https://www.google.com@evil.example/a/example.edu/acs",
        "https://www.google.com:443@evil.example/a/example.edu/acs",
        "https://user:pw@www.google.com/a/example.edu/acs",
        "https://www.google.com.evil.example/a/example.edu/acs",
    ] {
        assert_eq!(
            parse(&request_xml("id", now, SP_ENTITY, Some(acs)), now).unwrap_err(),
            RequestError::AcsNotAllowed(acs.into()),
            "{acs}"
        );
    }
    let req = parse(
        &request_xml(
            "id",
            now,
            SP_ENTITY,
            Some("https://WWW.GOOGLE.COM:443/a/example.edu/acs"),
        ),
        now,
    )
    .unwrap();
    assert_eq!(req.acs_url(), ACS);
}

#[test]
fn allow_list_enforced() {
    let now = now();
    let e = |issuer: &str, acs: Option<&str>| {
        parse(&request_xml("id", now, issuer, acs), now).unwrap_err()
    };
    assert_eq!(
        e(SP_ENTITY, Some("https://evil.example/acs")),
        RequestError::AcsNotAllowed("https://evil.example/acs".into())
    );
    // The ACS URL of another allowed SP is not this issuer's.
    assert!(matches!(
        e(
            SP_ENTITY,
            Some("https://accounts.google.com/samlrp/acs?rpid=rp123")
        ),
        RequestError::AcsNotAllowed(_)
    ));
    assert_eq!(
        e(
            "google.com/a/other.edu",
            Some("https://www.google.com/a/other.edu/acs")
        ),
        RequestError::UnknownIssuer("google.com/a/other.edu".into())
    );
    // The bare legacy issuer is not tied to a domain and is not allowed.
    assert!(matches!(
        e("google.com", Some(ACS)),
        RequestError::UnknownIssuer(_)
    ));
    assert_eq!(e("", Some(ACS)), RequestError::MissingIssuer);
}

#[test]
fn request_shape_checked() {
    let now = now();
    let good = request_xml("id-shape", now, SP_ENTITY, Some(ACS));
    let e = |xml: String| parse(&xml, now).unwrap_err();
    assert_eq!(e(good.replace("ID=\"id-shape\" ", "")), RequestError::BadId);
    assert_eq!(
        e(good.replace("ID=\"id-shape\"", "ID=\"1&lt;bad\"")),
        RequestError::BadId
    );
    assert_eq!(
        e(good.replace("Version=\"2.0\"", "Version=\"1.1\"")),
        RequestError::NotAuthnRequest
    );
    assert_eq!(
        e(good.replace("samlp:AuthnRequest", "samlp:LogoutRequest")),
        RequestError::NotAuthnRequest
    );
    assert_eq!(
        e(good.replace(
            "urn:oasis:names:tc:SAML:2.0:protocol\"",
            "urn:example:other\""
        )),
        RequestError::NotAuthnRequest
    );
    assert!(matches!(
        e(good.replace("bindings:HTTP-POST", "bindings:HTTP-Artifact")),
        RequestError::UnsupportedBinding(_)
    ));
    assert!(matches!(
        e(good
            .replace("nameid-format:unspecified", "nameid-format:persistent")
            .replace(
                "SAML:1.1:nameid-format:persistent",
                "SAML:2.0:nameid-format:persistent"
            )),
        RequestError::UnsupportedNameIdFormat(_)
    ));
    assert!(matches!(
        e(good.replace(
            "ID=\"id-shape\"",
            "ID=\"id-shape\" Destination=\"https://evil.example/sso\""
        )),
        RequestError::WrongDestination(_)
    ));
    let with_dest = good.replace(
        "ID=\"id-shape\"",
        &format!("ID=\"id-shape\" Destination=\"{SSO_URL}\""),
    );
    assert_eq!(parse(&with_dest, now).unwrap().destination(), Some(SSO_URL));
    let dup = good.replace("</saml:Issuer>", "</saml:Issuer><saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">x</saml:Issuer>");
    assert!(matches!(e(dup), RequestError::BadXml(_)));
    let passive = good.replace("IsPassive=\"false\"", "IsPassive=\"true\"");
    assert!(parse(&passive, now).unwrap().is_passive());
}

#[test]
fn request_age_checked() {
    let now = now();
    let at = |t: u64| parse(&request_xml("id-age", t, SP_ENTITY, Some(ACS)), now);
    assert!(at(now - 600).is_ok());
    assert_eq!(at(now - 601).unwrap_err(), RequestError::TooOld);
    assert!(at(now + 60).is_ok());
    assert_eq!(at(now + 61).unwrap_err(), RequestError::FromTheFuture);
    let bad_time = request_xml("id-age", now, SP_ENTITY, Some(ACS)).replace('Z', "+01:00");
    assert_eq!(
        parse(&bad_time, now).unwrap_err(),
        RequestError::BadIssueInstant
    );
    assert_eq!(RequestError::TooOld.code(), "too_old");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any query string gives a request or an error, never a panic.
        #[test]
        fn any_query(q in ".{0,300}") {
            let _ = parse_redirect_query(&q, &config(), 1_795_000_000);
        }

        /// Any deflated bytes (valid transport, arbitrary content).
        #[test]
        fn any_inflated_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&bytes).unwrap();
            let b64 = STANDARD.encode(enc.finish().unwrap());
            let _ = parse_authn_request(&b64, None, &config(), 1_795_000_000);
        }

        /// Mutations of a valid request XML (one byte replaced) never panic, and a request
        /// that still parses keeps an allow-listed ACS URL.
        #[test]
        fn mutated_request(pos in 0usize..700, byte in any::<u8>()) {
            let now = 1_795_000_000;
            let mut xml = request_xml("id-mut", now, SP_ENTITY, Some(ACS)).into_bytes();
            let i = pos % xml.len();
            xml[i] = byte;
            let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&xml).unwrap();
            let b64 = STANDARD.encode(enc.finish().unwrap());
            if let Ok(req) = parse_authn_request(&b64, None, &config(), now) {
                prop_assert_eq!(req.acs_url(), ACS);
                prop_assert_eq!(req.issuer(), SP_ENTITY);
            }
        }
    }
}
