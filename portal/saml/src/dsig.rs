//! Enveloped XML-DSig over an element we generated: RSA-SHA256, SHA-256 digest, exclusive
//! C14N, the certificate in `KeyInfo`. Because [`crate::c14n::El`] writes canonical XML, the
//! digest input is simply the element's text without its signature (the enveloped-signature
//! transform removes exactly that), and the signed bytes are `SignedInfo` as exc-c14n renders
//! it on its own: with `xmlns:ds` on the `SignedInfo` start tag.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::NS_DSIG;
use crate::c14n::El;
use crate::keys::{IdpKey, KeyError};

pub(crate) const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub(crate) const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub(crate) const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub(crate) const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Signs `el` (whose `ID` attribute is `id`) and inserts the `ds:Signature` as its child at
/// `position` (right after `Issuer`, where the SAML schema wants it).
pub(crate) fn sign_enveloped(
    el: &mut El,
    id: &str,
    position: usize,
    key: &IdpKey,
) -> Result<(), KeyError> {
    let digest = STANDARD.encode(Sha256::digest(el.to_canonical().as_bytes()));
    let signed_info = El::new("ds:SignedInfo")
        .child(El::new("ds:CanonicalizationMethod").attr("Algorithm", ALG_EXC_C14N))
        .child(El::new("ds:SignatureMethod").attr("Algorithm", ALG_RSA_SHA256))
        .child(
            El::new("ds:Reference")
                .attr("URI", format!("#{id}"))
                .child(
                    El::new("ds:Transforms")
                        .child(El::new("ds:Transform").attr("Algorithm", ALG_ENVELOPED))
                        .child(El::new("ds:Transform").attr("Algorithm", ALG_EXC_C14N)),
                )
                .child(El::new("ds:DigestMethod").attr("Algorithm", ALG_SHA256))
                .child(El::new("ds:DigestValue").text(digest)),
        );
    // Alone, SignedInfo's exc-c14n form declares the `ds` prefix it uses.
    let to_sign = signed_info.clone().ns("ds", NS_DSIG).to_canonical();
    let signature = STANDARD.encode(key.sign_rsa_sha256(to_sign.as_bytes())?);
    let sig_el = El::new("ds:Signature")
        .ns("ds", NS_DSIG)
        .child(signed_info)
        .child(El::new("ds:SignatureValue").text(signature))
        .child(
            El::new("ds:KeyInfo").child(
                El::new("ds:X509Data")
                    .child(El::new("ds:X509Certificate").text(key.certificate().base64())),
            ),
        );
    el.insert_child(position, sig_el);
    Ok(())
}
