//! The IdP metadata document: what a SAML service provider (and the district admin) needs to
//! trust this IdP — entity id, signing certificate, sign-in URL (HTTP-Redirect binding).
//! Google's admin console takes the sign-in URL and the PEM certificate instead; the metadata
//! serves other SPs and the test SP, which pins the certificate from it.

use crate::c14n::El;
use crate::config::IdpConfig;
use crate::keys::IdpCertificate;
use crate::{BINDING_REDIRECT, NAMEID_EMAIL, NS_DSIG, NS_METADATA, NS_PROTOCOL};

/// `EntityDescriptor` with one `IDPSSODescriptor` (UTF-8 XML with declaration).
pub fn idp_metadata(config: &IdpConfig, certificate: &IdpCertificate) -> String {
    let descriptor = El::new("md:EntityDescriptor")
        .ns("md", NS_METADATA)
        .attr("entityID", config.entity_id())
        .child(
            El::new("md:IDPSSODescriptor")
                .attr("WantAuthnRequestsSigned", "false")
                .attr("protocolSupportEnumeration", NS_PROTOCOL)
                .child(
                    El::new("md:KeyDescriptor").attr("use", "signing").child(
                        El::new("ds:KeyInfo").ns("ds", NS_DSIG).child(
                            El::new("ds:X509Data")
                                .child(El::new("ds:X509Certificate").text(certificate.base64())),
                        ),
                    ),
                )
                .child(El::new("md:NameIDFormat").text(NAMEID_EMAIL))
                .child(
                    El::new("md:SingleSignOnService")
                        .attr("Binding", BINDING_REDIRECT)
                        .attr("Location", config.sso_url()),
                ),
        );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        descriptor.to_canonical()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_content() {
        let cfg = IdpConfig::new(
            "https://portal.example.edu/saml/metadata",
            "https://portal.example.edu/saml/sso?x=1&y=2",
            crate::SpAllowList::google("example.edu", &[]).unwrap(),
        )
        .unwrap();
        let cert = crate::keys::tests::test_key().certificate();
        let md = idp_metadata(&cfg, cert);
        assert!(md.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor"));
        let doc = roxmltree::Document::parse(&md).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().namespace(), Some(NS_METADATA));
        assert_eq!(
            root.attribute("entityID"),
            Some("https://portal.example.edu/saml/metadata")
        );
        let find = |name: &str| {
            doc.descendants()
                .find(|n| n.tag_name().name() == name)
                .unwrap()
        };
        let sso = find("SingleSignOnService");
        assert_eq!(sso.attribute("Binding"), Some(BINDING_REDIRECT));
        assert_eq!(
            sso.attribute("Location"),
            Some("https://portal.example.edu/saml/sso?x=1&y=2")
        );
        assert_eq!(find("KeyDescriptor").attribute("use"), Some("signing"));
        assert_eq!(find("X509Certificate").text(), Some(cert.base64().as_str()));
        assert_eq!(
            find("X509Certificate").tag_name().namespace(),
            Some(NS_DSIG)
        );
        assert_eq!(
            find("IDPSSODescriptor").attribute("protocolSupportEnumeration"),
            Some(NS_PROTOCOL)
        );
    }
}
