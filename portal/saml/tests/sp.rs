//! End to end against an independent service provider: pysaml2 (Debian `python3-pysaml2`,
//! signatures checked by `xmlsec1`) configured as Google is — certificate pinned from our
//! metadata, Response and Assertion signatures required, audience, destination, recipient and
//! InResponseTo checked, unsolicited and replayed responses refused, SHA-256 only.
//! The SP creates real AuthnRequests; we parse them, answer them, and the SP judges the answer.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quickcard_saml::*;
use serde_json::Value;

struct Sp {
    dir: tempfile::TempDir,
    metadata: PathBuf,
    cert: PathBuf,
}

impl Sp {
    fn new() -> Sp {
        let dir = tempfile::tempdir().unwrap();
        let (cert, metadata) = write_idp_files(dir.path());
        Sp {
            dir,
            metadata,
            cert,
        }
    }

    fn command(&self, extra: &[&str]) -> Command {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sp/google_like_sp.py");
        let mut c = Command::new("/usr/bin/python3");
        c.arg(script)
            .arg("--idp-metadata")
            .arg(&self.metadata)
            .args(extra);
        c
    }

    /// A real HTTP-Redirect AuthnRequest from the SP: (redirect URL, request id).
    fn authn_request(&self, extra: &[&str]) -> (String, String) {
        let out = self.command(extra).arg("authn-request").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            v["url"].as_str().unwrap().to_owned(),
            v["request_id"].as_str().unwrap().to_owned(),
        )
    }

    /// Posts each base64 response, in order, to one SP instance whose outstanding requests are
    /// `outstanding`; one verdict per response.
    fn accept(&self, responses: &[String], outstanding: &[&str], extra: &[&str]) -> Vec<Value> {
        let mut c = self.command(extra);
        c.arg("accept");
        for id in outstanding {
            c.arg("--outstanding").arg(id);
        }
        for (i, r) in responses.iter().enumerate() {
            let p = self.dir.path().join(format!("response-{i}.b64"));
            std::fs::write(&p, r).unwrap();
            c.arg(p);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if std::env::var_os("QC_SP_VERBOSE").is_some() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
        let verdicts: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(verdicts.len(), responses.len());
        verdicts
    }

    fn accept_one(&self, xml: &str, outstanding: &str) -> Value {
        self.accept(&[STANDARD.encode(xml)], &[outstanding], &[])
            .remove(0)
    }
}

fn refused(v: &Value) -> bool {
    eprintln!("SP verdict: {v}");
    v["ok"] == Value::Bool(false)
}

fn query_of(url: &str) -> &str {
    url.split_once('?').unwrap().1
}

#[test]
fn pysaml2_request_parsed_answered_and_accepted_once() {
    let sp = Sp::new();
    let (url, request_id) = sp.authn_request(&[]);
    assert!(url.starts_with(SSO_URL), "{url}");
    let now = now();
    let req = parse_redirect_query(query_of(&url), &config(), now).unwrap();
    assert_eq!(req.id(), request_id);
    assert_eq!(req.issuer(), SP_ENTITY);
    assert_eq!(req.acs_url(), ACS);
    assert_eq!(req.destination(), Some(SSO_URL));
    assert_eq!(
        req.relay_state(),
        Some(
            "https://www.google.com/a/example.edu/ServiceLogin?continue=https%3A%2F%2Fmail.google.com"
        )
    );
    let record = req.replay_record();
    assert_eq!(record.request_id, request_id);
    assert_eq!(record.expires_at, req.issue_instant() + 600);

    let resp = response_for(&req, "Ana.Lopez@example.edu", now);
    assert_eq!(resp.relay_state(), req.relay_state());
    let page = resp.post_page(&PostPageOptions::default());
    assert!(page.contains(&resp.base64()));
    assert!(page.contains("action=\"https://www.google.com/a/example.edu/acs\""));

    // The same response twice: accepted once, then refused as a replay (InResponseTo is no
    // longer outstanding).
    // What the browser posts is the form's value, taken from the page itself.
    let marker = "name=\"SAMLResponse\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let posted = page[start..start + page[start..].find('"').unwrap()].to_owned();
    assert_eq!(posted, resp.base64());
    let verdicts = sp.accept(&[posted.clone(), posted], &[&request_id], &[]);
    assert_eq!(verdicts[0]["ok"], Value::Bool(true), "{}", verdicts[0]);
    assert_eq!(verdicts[0]["name_id"], "Ana.Lopez@example.edu");
    assert_eq!(verdicts[0]["name_id_format"], NAMEID_EMAIL);
    assert_eq!(verdicts[0]["in_response_to"], request_id.as_str());
    assert_eq!(verdicts[0]["attributes"]["role"][0], "student");
    assert!(refused(&verdicts[1]));
}

#[test]
fn sso_profile_form_accepted() {
    let sp = Sp::new();
    let entity = "https://accounts.google.com/samlrp/metadata?rpid=rp123";
    let acs = "https://accounts.google.com/samlrp/acs?rpid=rp123";
    let extra = ["--entity-id", entity, "--acs", acs];
    let (url, request_id) = sp.authn_request(&extra);
    let now = now();
    let req = parse_redirect_query(query_of(&url), &config(), now).unwrap();
    assert_eq!(req.acs_url(), acs);
    let resp = response_for(&req, "ana@example.edu", now);
    let v = sp
        .accept(&[resp.base64()], &[&request_id], &extra)
        .remove(0);
    assert_eq!(v["ok"], Value::Bool(true), "{v}");
    assert_eq!(v["name_id"], "ana@example.edu");
}

#[test]
fn expired_response_refused() {
    let sp = Sp::new();
    let then = now() - 700;
    let req = google_request("id-expired", then);
    let resp = response_for(&req, "ana@example.edu", then + 10);
    assert!(refused(&sp.accept_one(resp.xml(), "id-expired")));
    // And our crate refuses to answer a request that old at all.
    assert!(matches!(
        build_response(
            &config(),
            key(),
            &req,
            &sign_in("ana@example.edu", now()),
            &ResponseIds::generate().unwrap(),
            now()
        ),
        Err(BuildError::RequestExpired { .. })
    ));
}

#[test]
fn unsolicited_response_refused() {
    let sp = Sp::new();
    let now = now();
    let resp = response_for(
        &google_request("id-nobody-asked", now),
        "ana@example.edu",
        now,
    );
    assert!(refused(&sp.accept_one(resp.xml(), "id-something-else")));
}

#[test]
fn wrong_audience_refused() {
    let sp = Sp::new();
    let now = now();
    // 1. An IdP that also serves another domain answers that domain's request; the response
    //    is then presented to example.edu's SP (wrong Destination, Recipient and Audience).
    let mut sps = SpAllowList::google("example.edu", &[])
        .unwrap()
        .providers()
        .to_vec();
    sps.extend_from_slice(SpAllowList::google("other.edu", &[]).unwrap().providers());
    let cfg = IdpConfig::new(IDP_ENTITY, SSO_URL, SpAllowList::new(sps).unwrap()).unwrap();
    let xml = request_xml(
        "id-other-aud",
        now,
        "google.com/a/other.edu",
        Some("https://www.google.com/a/other.edu/acs"),
    );
    let req = parse_authn_request(&encode_request(&xml), None, &cfg, now).unwrap();
    let resp = build_response(
        &cfg,
        key(),
        &req,
        &sign_in("ana@example.edu", now),
        &ResponseIds::generate().unwrap(),
        now,
    )
    .unwrap();
    assert!(
        resp.xml()
            .contains("<saml:Audience>google.com/a/other.edu</saml:Audience>")
    );
    assert!(refused(&sp.accept_one(resp.xml(), "id-other-aud")));

    // 2. Only the Audience is wrong: a misconfigured allow-list pairs another entity id with
    //    example.edu's ACS URL, so Destination and Recipient match and the audience check alone
    //    must refuse.
    let cfg = IdpConfig::new(
        IDP_ENTITY,
        SSO_URL,
        SpAllowList::new(vec![
            ServiceProvider::new("google.com/a/other.edu", ACS).unwrap(),
        ])
        .unwrap(),
    )
    .unwrap();
    let xml = request_xml("id-aud-only", now, "google.com/a/other.edu", Some(ACS));
    let req = parse_authn_request(&encode_request(&xml), None, &cfg, now).unwrap();
    let resp = build_response(
        &cfg,
        key(),
        &req,
        &sign_in("ana@example.edu", now),
        &ResponseIds::generate().unwrap(),
        now,
    )
    .unwrap();
    let v = sp.accept_one(resp.xml(), "id-aud-only");
    assert!(refused(&v));
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("AudienceRestrictions"),
        "{v}"
    );
}

#[test]
fn wrong_recipient_refused() {
    // A misconfigured allow-list pairs Google's entity id with a foreign ACS URL.
    let sp = Sp::new();
    let now = now();
    let evil = "https://evil.example/acs";
    let cfg = IdpConfig::new(
        IDP_ENTITY,
        SSO_URL,
        SpAllowList::new(vec![ServiceProvider::new(SP_ENTITY, evil).unwrap()]).unwrap(),
    )
    .unwrap();
    let req = parse_authn_request(
        &encode_request(&request_xml("id-evil-acs", now, SP_ENTITY, Some(evil))),
        None,
        &cfg,
        now,
    )
    .unwrap();
    let resp = build_response(
        &cfg,
        key(),
        &req,
        &sign_in("ana@example.edu", now),
        &ResponseIds::generate().unwrap(),
        now,
    )
    .unwrap();
    assert_eq!(
        attr_of(resp.xml(), "<saml:SubjectConfirmationData", "Recipient"),
        evil
    );
    assert!(refused(&sp.accept_one(resp.xml(), "id-evil-acs")));
}

fn fresh(id: &str) -> (Sp, String) {
    let sp = Sp::new();
    let now = now();
    let resp = response_for(&google_request(id, now), "ana@example.edu", now);
    // Sanity: the untouched response is accepted by this SP.
    let ok = sp.accept_one(resp.xml(), id);
    assert_eq!(ok["ok"], Value::Bool(true), "{ok}");
    (sp, resp.xml().to_owned())
}

#[test]
fn tampered_name_id_and_attribute_refused() {
    let (sp, xml) = fresh("id-tampered");
    let t = xml.replace(">ana@example.edu<", ">principal@example.edu<");
    assert_ne!(t, xml);
    assert!(refused(&sp.accept_one(&t, "id-tampered")));
    let t = xml.replace(">student<", ">admin<");
    assert_ne!(t, xml);
    assert!(refused(&sp.accept_one(&t, "id-tampered")));
}

/// The signed assertion, and an unsigned evil copy for another user with another ID.
fn assertion_parts(xml: &str) -> (String, String) {
    let start = xml.find("<saml:Assertion ").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let signed = xml[start..end].to_owned();
    let sig_start = signed.find("<ds:Signature ").unwrap();
    let sig_end = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let mut evil = format!("{}{}", &signed[..sig_start], &signed[sig_end..]);
    evil = evil.replace(">ana@example.edu<", ">principal@example.edu<");
    (signed, evil)
}

#[test]
fn signature_wrapping_variants_refused() {
    let (sp, xml) = fresh("id-xsw");
    let (signed, evil) = assertion_parts(&xml);
    let aid = attr_of(&signed, "<saml:Assertion", "ID");
    let evil_new_id = evil.replacen(&format!("ID=\"{aid}\""), "ID=\"_evil\"", 1);

    // XSW1: a second, unsigned assertion before the signed one.
    let v1 = xml.replacen(&signed, &format!("{evil_new_id}{signed}"), 1);
    // XSW2: the same after it.
    let v2 = xml.replacen(&signed, &format!("{signed}{evil_new_id}"), 1);
    // XSW3: the signed assertion moved under samlp:Extensions, the evil one in its place.
    let without = xml.replacen(&signed, "", 1);
    let status = without.find("<samlp:Status>").unwrap();
    let v3 = format!(
        "{}<samlp:Extensions>{signed}</samlp:Extensions>{}",
        &without[..status],
        &without[status..]
    )
    .replacen(
        "</samlp:Response>",
        &format!("{evil_new_id}</samlp:Response>"),
        1,
    );
    // XSW4: the evil assertion keeps the signed assertion's ID (duplicate ID), before it.
    let v4 = xml.replacen(&signed, &format!("{evil}{signed}"), 1);
    // XSW5: the signed assertion wrapped inside the evil one.
    let v5 = xml.replacen(
        &signed,
        &evil_new_id.replacen(
            "</saml:Assertion>",
            &format!("{signed}</saml:Assertion>"),
            1,
        ),
        1,
    );
    // XSW6/7: the whole signed Response wrapped in an evil Response (new ID, or the same ID)
    // whose own assertion is the evil one.
    let head_end = xml.find("><saml:Issuer").unwrap() + 1;
    let rid = attr_of(&xml, "<samlp:Response", "ID");
    let issuer_end = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let issuer = &xml[head_end..issuer_end];
    let wrapper = |root_id: &str| {
        format!(
            "{}{issuer}<samlp:Extensions>{xml}</samlp:Extensions>\
             <samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\">\
             </samlp:StatusCode></samlp:Status>{evil_new_id}</samlp:Response>",
            xml[..head_end].replacen(&format!("ID=\"{rid}\""), &format!("ID=\"{root_id}\""), 1)
        )
    };
    let v6 = wrapper("_evilresponse");
    let v7 = wrapper(&rid);
    for (name, v) in [
        ("XSW1", v1),
        ("XSW2", v2),
        ("XSW3", v3),
        ("XSW4", v4),
        ("XSW5", v5),
        ("XSW6", v6),
        ("XSW7", v7),
    ] {
        assert_ne!(v, xml);
        assert!(v.contains("principal@example.edu"), "{name}");
        assert!(refused(&sp.accept_one(&v, "id-xsw")), "{name} accepted");
    }
}

fn strip_signature(xml: &str, which: usize) -> String {
    let starts: Vec<usize> = xml
        .match_indices("<ds:Signature ")
        .map(|(i, _)| i)
        .collect();
    let s = starts[which];
    let e = xml[s..].find("</ds:Signature>").unwrap() + s + "</ds:Signature>".len();
    format!("{}{}", &xml[..s], &xml[e..])
}

#[test]
fn unsigned_or_half_signed_refused() {
    let (sp, xml) = fresh("id-unsigned");
    // Signature 0 is the Response's (after its Issuer), 1 the Assertion's.
    let no_response_sig = strip_signature(&xml, 0);
    let no_assertion_sig = strip_signature(&xml, 1);
    let unsigned = strip_signature(&no_response_sig, 0);
    assert!(!unsigned.contains("Signature"));
    for (name, v) in [
        ("no response signature", no_response_sig),
        ("no assertion signature", no_assertion_sig),
        ("unsigned", unsigned),
    ] {
        assert!(
            refused(&sp.accept_one(&v, "id-unsigned")),
            "{name} accepted"
        );
    }
}

/// Empties every `DigestValue` and `SignatureValue`, making a signing template for xmlsec1.
fn blank_signature_values(xml: &str) -> String {
    let mut doc = xml.to_owned();
    for tag in ["ds:DigestValue", "ds:SignatureValue"] {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut out = String::new();
        let mut rest = doc.as_str();
        while let Some(i) = rest.find(&open) {
            let j = rest[i..].find(&close).unwrap() + i;
            out.push_str(&rest[..i + open.len()]);
            rest = &rest[j..];
        }
        out.push_str(rest);
        doc = out;
    }
    doc
}

/// Signs the template's signatures under the elements `ids` (in order) with xmlsec1 itself.
fn xmlsec_sign(template: &str, key_path: &Path, ids: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = template.to_owned();
    for id in ids {
        let input = dir.path().join("in.xml");
        let output = dir.path().join("out.xml");
        std::fs::write(&input, &doc).unwrap();
        let _ = std::fs::remove_file(&output);
        let out = common::xmlsec1("--sign")
            .arg("--privkey-pem")
            .arg(key_path)
            .args(["--node-id", id])
            .arg("--output")
            .arg(&output)
            .arg(&input)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        doc = std::fs::read_to_string(&output).unwrap();
    }
    doc
}

fn saved_key(dir: &Path) -> PathBuf {
    let key_path = dir.join("idp.key");
    key().save(&key_path, &dir.join("idp.crt")).unwrap();
    key_path
}

#[test]
fn signed_response_with_unsigned_assertion_refused() {
    // The Response signature is valid (made by xmlsec1 with our key over the document without
    // the assertion's signature); the assertion itself is unsigned. Google-like SPs want both.
    let (sp, xml) = fresh("id-assertion-unsigned");
    let dir = tempfile::tempdir().unwrap();
    let key_path = saved_key(dir.path());
    let rid = attr_of(&xml, "<samlp:Response", "ID");
    let template = blank_signature_values(&strip_signature(&xml, 1));
    let doc = xmlsec_sign(&template, &key_path, &[&rid]);
    assert!(xmlsec_verify(&doc, &sp.cert, &rid));
    assert_eq!(doc.matches("<ds:Signature ").count(), 1);
    assert!(refused(&sp.accept_one(&doc, "id-assertion-unsigned")));
}

#[test]
fn sha1_signed_response_refused() {
    let (sp, xml) = fresh("id-sha1");
    let dir = tempfile::tempdir().unwrap();
    let key_path = saved_key(dir.path());
    // A template: our response with SHA-1 algorithms and empty values, signed by xmlsec1
    // itself with our key (assertion first, then the response).
    let template = blank_signature_values(
        &xml.replace(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        )
        .replace(
            "http://www.w3.org/2001/04/xmlenc#sha256",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        ),
    );
    let rid = attr_of(&xml, "<samlp:Response", "ID");
    let aid = attr_of(&xml, "<saml:Assertion", "ID");
    let doc = xmlsec_sign(&template, &key_path, &[&aid, &rid]);
    // It is a validly signed document — only the algorithms are wrong.
    assert!(doc.contains("xmldsig#rsa-sha1"));
    assert!(xmlsec_verify(&doc, &sp.cert, &rid));
    assert!(xmlsec_verify(&doc, &sp.cert, &aid));
    let v = sp.accept_one(&doc, "id-sha1");
    assert!(refused(&v));
    assert!(v["error"].as_str().unwrap().contains("not allowed"), "{v}");
}
