//! How long the IdP's cryptographic steps take: key generation (once per district), parsing
//! an AuthnRequest and building + signing a Response (once per sign-in: two RSA-2048
//! signatures). A plain bench binary (`harness = false`): `cargo bench -p quickcard-saml`,
//! or in the dev profile `cargo test -p quickcard-saml --bench sign -- --bench`. The smoke run
//! (`cargo test`, `cargo nextest run`; `benches/harness/mod.rs`) does each step a few times.

use std::io::Write as _;
use std::time::Instant;

use base64::Engine as _;
use quickcard_saml::*;

#[path = "../../../benches/harness/mod.rs"]
mod harness;

fn main() {
    // Requests parsed and responses signed.
    let (parses, signs) = match harness::mode(false) {
        harness::Mode::Measure => (2000, 200),
        harness::Mode::Smoke => (20, 2),
        harness::Mode::Done => return,
    };
    let now = 1_795_000_000;
    let t = Instant::now();
    let key = IdpKey::generate("QuickCard bench", now).unwrap();
    println!(
        "key + certificate generation: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let cfg = IdpConfig::new(
        "https://portal.example.edu/saml/metadata",
        "https://portal.example.edu/saml/sso",
        SpAllowList::google("example.edu", &[]).unwrap(),
    )
    .unwrap();
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"req-1\" \
         Version=\"2.0\" IssueInstant=\"{}\" AssertionConsumerServiceURL=\"https://www.google.com/a/example.edu/acs\">\
         <saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">google.com/a/example.edu</saml:Issuer>\
         </samlp:AuthnRequest>",
        format_xs_datetime(now)
    );
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(enc.finish().unwrap());

    let n = parses;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(parse_authn_request(&b64, Some("rs"), &cfg, now).unwrap());
    }
    println!(
        "parse AuthnRequest: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );

    let req = parse_authn_request(&b64, Some("rs"), &cfg, now).unwrap();
    let sign_in = SignIn {
        name_id: EmailNameId::parse("ana@example.edu").unwrap(),
        authn_instant: now,
        attributes: vec![],
    };
    let n = signs;
    let t = Instant::now();
    let mut size = 0;
    for _ in 0..n {
        let r = build_response(
            &cfg,
            &key,
            &req,
            &sign_in,
            &ResponseIds::generate().unwrap(),
            now,
        )
        .unwrap();
        size = r.xml().len();
    }
    println!(
        "build + sign Response (2 RSA-2048 signatures): {:.2} ms, {size} bytes of XML",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
