//! The generated Response checked by an independent XML-DSig implementation: `xmlsec1`
//! (libxml2's canonicaliser, libxmlsec1's digests and RSA), as pysaml2 and many SPs use it.

mod common;
use common::*;

#[test]
fn both_signatures_verify_with_xmlsec1() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = write_idp_files(dir.path());
    let now = now();
    let req = google_request("ojhbdidnplffnkpafadbp", now);
    let resp = response_for(&req, "Ana.Lopez@example.edu", now);
    let xml = resp.xml();
    let response_id = attr_of(xml, "<samlp:Response", "ID");
    let assertion_id = attr_of(xml, "<saml:Assertion", "ID");
    assert!(
        xmlsec_verify(xml, &cert, &response_id),
        "Response signature"
    );
    assert!(
        xmlsec_verify(xml, &cert, &assertion_id),
        "Assertion signature"
    );
    // Exactly two signatures, RSA-SHA256 / SHA-256 / exc-c14n only.
    assert_eq!(xml.matches("<ds:Signature ").count(), 2);
    assert_eq!(xml.matches("xmldsig-more#rsa-sha256").count(), 2);
    assert_eq!(xml.matches("xmlenc#sha256").count(), 2);
    assert!(!xml.contains("sha1"));
    assert!(!xml.contains("<!DOCTYPE"));
}

#[test]
fn signatures_fail_with_another_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let other = quickcard_saml::IdpKey::generate("Other IdP", now()).unwrap();
    let cert = dir.path().join("other.crt");
    std::fs::write(&cert, other.certificate().to_pem()).unwrap();
    let now = now();
    let resp = response_for(
        &google_request("id-other-cert", now),
        "ana@example.edu",
        now,
    );
    let rid = attr_of(resp.xml(), "<samlp:Response", "ID");
    assert!(!xmlsec_verify(resp.xml(), &cert, &rid));
}

#[test]
fn tampering_breaks_the_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = write_idp_files(dir.path());
    let now = now();
    let resp = response_for(&google_request("id-tamper", now), "ana@example.edu", now);
    let xml = resp.xml();
    let rid = attr_of(xml, "<samlp:Response", "ID");
    let aid = attr_of(xml, "<saml:Assertion", "ID");

    // Another user's NameID: both signatures break.
    let t = xml.replace(">ana@example.edu<", ">principal@example.edu<");
    assert_ne!(t, xml);
    assert!(!xmlsec_verify(&t, &cert, &aid));
    assert!(!xmlsec_verify(&t, &cert, &rid));

    // A SAML attribute value.
    let t = xml.replace(">student<", ">admin<");
    assert_ne!(t, xml);
    assert!(!xmlsec_verify(&t, &cert, &aid));
    assert!(!xmlsec_verify(&t, &cert, &rid));

    // An XML attribute inside the assertion (the Recipient).
    let t = xml.replace(
        "Recipient=\"https://www.google.com/",
        "Recipient=\"https://evil.example/",
    );
    assert_ne!(t, xml);
    assert!(!xmlsec_verify(&t, &cert, &aid));

    // An attribute of the Response only: its signature breaks, the assertion's still holds.
    let t = xml.replacen(
        "Destination=\"https://www.google.com/a/example.edu/acs\"",
        "Destination=\"https://evil.example/acs\"",
        1,
    );
    assert_ne!(t, xml);
    assert!(!xmlsec_verify(&t, &cert, &rid));
    assert!(xmlsec_verify(&t, &cert, &aid));
}

#[test]
fn escaping_matches_libxml2_canonical_form() {
    // Characters that c14n escapes differently in text and in attributes, non-ASCII, and
    // markup characters in the NameID and attribute values: if our writer's output were not
    // canonical, libxml2's digest would differ and verification would fail.
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = write_idp_files(dir.path());
    let now = now();
    let req = google_request("id-escape", now);
    let sign_in = quickcard_saml::SignIn {
        name_id: quickcard_saml::EmailNameId::parse("o'brien&co<x>@example.edu").unwrap(),
        authn_instant: now - 3,
        attributes: vec![quickcard_saml::Attribute {
            name: "note".into(),
            values: vec!["a&b<c>\"d'\t\n\r ü 😀 ]]>".into(), "".into()],
        }],
    };
    let resp = quickcard_saml::build_response(
        &config(),
        key(),
        &req,
        &sign_in,
        &quickcard_saml::ResponseIds::generate().unwrap(),
        now,
    )
    .unwrap();
    let xml = resp.xml();
    assert!(xml.contains("o'brien&amp;co&lt;x&gt;@example.edu"));
    assert!(xml.contains("a&amp;b&lt;c&gt;\"d'\t\n&#xD; ü 😀 ]]&gt;"));
    let rid = attr_of(xml, "<samlp:Response", "ID");
    let aid = attr_of(xml, "<saml:Assertion", "ID");
    assert!(xmlsec_verify(xml, &cert, &rid));
    assert!(xmlsec_verify(xml, &cert, &aid));
}
