//! The generated key and certificate read by an independent X.509 implementation (OpenSSL's
//! command line): what Google's admin console will parse on upload.

use std::process::Command;

use quickcard_saml::IdpKey;

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn openssl_reads_key_and_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("idp.key");
    let cert_path = dir.path().join("idp.crt");
    // 2026-11-18T11:06:40Z
    let key = IdpKey::generate("QuickCard SAML IdP example.edu", 1_795_000_000).unwrap();
    key.save(&key_path, &cert_path).unwrap();
    let (k, c) = (key_path.to_str().unwrap(), cert_path.to_str().unwrap());

    let text = openssl(&["x509", "-in", c, "-noout", "-text"]);
    assert!(
        text.contains("Signature Algorithm: sha256WithRSAEncryption"),
        "{text}"
    );
    assert!(text.contains("Public-Key: (2048 bit)"));
    assert!(text.contains("Subject: CN = QuickCard SAML IdP example.edu"));
    assert!(text.contains("Issuer: CN = QuickCard SAML IdP example.edu"));
    assert!(text.contains("Not Before: Nov 18 11:06:40 2026 GMT"));
    assert!(text.contains("Not After : Nov 18 11:06:40 2036 GMT"));
    assert!(text.contains("CA:FALSE"));
    // The self-signature verifies (at a time inside the validity period).
    let v = openssl(&["verify", "-attime", "1795000100", "-CAfile", c, c]);
    assert!(v.trim_end().ends_with(": OK"), "{v}");
    // The PKCS#8 key is readable and belongs to the certificate.
    let pk = openssl(&["pkey", "-in", k, "-pubout"]);
    let cert_pk = openssl(&["x509", "-in", c, "-noout", "-pubkey"]);
    assert_eq!(pk, cert_pk);
    // Our fingerprint equals OpenSSL's.
    let fp = openssl(&["x509", "-in", c, "-noout", "-fingerprint", "-sha256"]);
    assert_eq!(
        fp.trim().rsplit('=').next().unwrap(),
        key.certificate().sha256_fingerprint()
    );
}
