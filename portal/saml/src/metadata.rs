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
