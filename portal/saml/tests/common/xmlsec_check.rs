//! `xmlsec1 --verify` as an independent check of our XML signatures, shared by the SAML
//! crate's tests and the portal's sign-in tests (`#[path]`-included there).

use std::path::Path;
use std::process::Command;

/// `xmlsec1 COMMAND` (`--sign`, `--verify`; it must come first), told that SAML Responses and
/// Assertions carry their XML id in `ID`.
pub fn xmlsec1(command: &str) -> Command {
    let mut cmd = Command::new("xmlsec1");
    cmd.arg(command).args([
        "--id-attr:ID",
        "urn:oasis:names:tc:SAML:2.0:protocol:Response",
        "--id-attr:ID",
        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
    ]);
    cmd
}

/// `xmlsec1 --verify` of the signature under the element with `node_id`; true if it verifies.
pub fn xmlsec_verify(xml: &str, cert_pem: &Path, node_id: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, xml).unwrap();
    let out = xmlsec1("--verify")
        .arg("--pubkey-cert-pem")
        .arg(cert_pem)
        .args(["--node-id", node_id])
        .arg(&file)
        .output()
        .expect("xmlsec1 is installed (apt-get install xmlsec1)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // xmlsec1 prints "OK" on success and "FAIL" on a failed check.
    let ok = out.status.success() && stderr.contains("OK");
    if !ok {
        eprintln!("xmlsec1 refused {node_id}: {stderr}");
    }
    ok
}
