//! Chrome Verified Access: proof that a sign-in comes from one of the district's Chromebooks.
//!
//! The flow, as Google documents it for SAML identity providers on ChromeOS's sign-in screen
//! (device policy `DeviceWebBasedAttestationAllowedUrls` lists the portal's address):
//!
//! 1. The portal asks Google for a challenge (`POST /v2/challenge:generate`) and redirects the
//!    Chromebook to the same sign-in URL with the challenge in an `X-Verified-Access-Challenge`
//!    header.
//! 2. ChromeOS signs the challenge with the device's TPM-held enterprise machine key and
//!    follows the redirect with the answer in `X-Verified-Access-Challenge-Response`.
//! 3. The portal asks Google to check the answer (`POST /v2/challenge:verify`, with the
//!    enrolled domain as `expectedIdentity`); Google replies with the device's ids and its
//!    customer id, which must be the district's.
//!
//! The portal authenticates to the API as a service account: an RS256-signed JWT exchanged for
//! an access token at the key file's `token_uri` (Google's documented two-legged OAuth flow).
//! That JWT is small enough to build here with the `rsa` crate the SAML signing already uses;
//! a general OAuth/JOSE crate would add a second TLS stack and many dependencies for one
//! fixed, documented request.

use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde::Deserialize;
use sha2::Sha256;

use crate::domain::device_binding::VerifiedAccessConfig;

/// The header carrying Google's challenge to the Chromebook.
pub const CHALLENGE_HEADER: &str = "x-verified-access-challenge";
/// The header carrying the Chromebook's signed answer back.
pub const RESPONSE_HEADER: &str = "x-verified-access-challenge-response";
const SCOPE: &str = "https://www.googleapis.com/auth/verifiedaccess";

/// Why a device could not be attested.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("the service account key file {path}: {why}")]
    KeyFile { path: String, why: String },
    #[error("Google's Verified Access API could not be reached or failed: {0}")]
    Api(String),
    #[error("Google did not accept the device's answer: {0}")]
    Refused(String),
    #[error("the device belongs to Google customer {found:?}, not to the district ({expected:?})")]
    OtherCustomer { found: String, expected: String },
    #[error("Google's answer names no device id")]
    NoDeviceId,
}

/// A device Google vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedDevice {
    /// The device's permanent id (its serial-based id in the Admin console), else its attested
    /// or virtual device id.
    pub device_id: String,
    pub customer_id: String,
}

#[derive(Deserialize)]
struct ServiceAccountFile {
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    token_uri: String,
}

/// The service account's private key: never printed.
struct AccountKey(rsa::RsaPrivateKey);

impl std::fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountKey([redacted])")
    }
}

/// A Verified Access API client (one per portal; tokens are cached until shortly before they
/// expire).
#[derive(Debug)]
pub struct VerifiedAccess {
    api_url: String,
    customer_id: String,
    expected_identity: Option<String>,
    client_email: String,
    key_id: Option<String>,
    key: AccountKey,
    token_uri: String,
    http: reqwest::Client,
    token: Mutex<Option<(String, i64)>>,
}

impl VerifiedAccess {
    /// Reads the service account key file named in the config.
    pub fn load(
        cfg: &VerifiedAccessConfig,
        default_identity: Option<&str>,
    ) -> Result<VerifiedAccess, AttestError> {
        let path = cfg.service_account_key_file.display().to_string();
        let bad = |why: String| AttestError::KeyFile {
            path: path.clone(),
            why,
        };
        let text = std::fs::read_to_string(&cfg.service_account_key_file)
            .map_err(|e| bad(e.to_string()))?;
        let file: ServiceAccountFile = serde_json::from_str(&text).map_err(|e| {
            bad(format!(
                "not a Google service account key (JSON with client_email, private_key, \
                 token_uri): {e}"
            ))
        })?;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&file.private_key)
            .map_err(|e| bad(format!("private_key is not a PKCS#8 RSA key: {e}")))?;
        if !(file.token_uri.starts_with("https://") || is_loopback_http(&file.token_uri)) {
            return Err(bad("token_uri must be https://".into()));
        }
        if !(cfg.api_url.starts_with("https://") || is_loopback_http(&cfg.api_url)) {
            return Err(bad("saml.verified_access.api_url must be https://".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| AttestError::Api(e.to_string()))?;
        Ok(VerifiedAccess {
            api_url: cfg.api_url.trim_end_matches('/').to_string(),
            customer_id: cfg.customer_id.clone(),
            expected_identity: cfg
                .expected_identity
                .clone()
                .or_else(|| default_identity.map(str::to_string)),
            client_email: file.client_email,
            key_id: file.private_key_id,
            key: AccountKey(key),
            token_uri: file.token_uri,
            http,
            token: Mutex::new(None),
        })
    }

    /// The signed JWT that asks `token_uri` for an access token.
    fn assertion(&self, now: i64) -> Result<String, AttestError> {
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.key_id {
            header["kid"] = kid.clone().into();
        }
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signer = SigningKey::<Sha256>::new(self.key.0.clone());
        let sig = signer
            .try_sign(input.as_bytes())
            .map_err(|e| AttestError::Api(format!("signing the token request: {e}")))?;
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(sig.to_bytes())
        ))
    }

    async fn access_token(&self, now: i64) -> Result<String, AttestError> {
        if let Some((t, until)) = self.token.lock().map_err(poisoned)?.as_ref()
            && *until > now + 60
        {
            return Ok(t.clone());
        }
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            #[serde(default)]
            expires_in: Option<i64>,
        }
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &self.assertion(now)?),
        ];
        let body = serde_urlencode(&form);
        let resp = self
            .http
            .post(&self.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| AttestError::Api(format!("token request: {e}")))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            return Err(AttestError::Api(format!(
                "token request answered {status}: {}",
                short(&text)
            )));
        }
        let t: Token = resp
            .json()
            .await
            .map_err(|e| AttestError::Api(format!("token reply: {e}")))?;
        let until = now + t.expires_in.unwrap_or(3600);
        *self.token.lock().map_err(poisoned)? = Some((t.access_token.clone(), until));
        Ok(t.access_token)
    }

    /// A fresh challenge for one Chromebook (base64, as Google returns it).
    pub async fn challenge(&self, now: i64) -> Result<String, AttestError> {
        #[derive(Deserialize)]
        struct Challenge {
            challenge: String,
        }
        let token = self.access_token(now).await?;
        let resp = self
            .http
            .post(format!("{}/v2/challenge:generate", self.api_url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .map_err(|e| AttestError::Api(format!("challenge:generate: {e}")))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            return Err(AttestError::Api(format!(
                "challenge:generate answered {status}: {}",
                short(&text)
            )));
        }
        let c: Challenge = resp
            .json()
            .await
            .map_err(|e| AttestError::Api(format!("challenge:generate reply: {e}")))?;
        Ok(c.challenge)
    }

    /// Checks a Chromebook's answer with Google, and that the device is the district's.
    pub async fn verify(&self, answer: &str, now: i64) -> Result<AttestedDevice, AttestError> {
        // Only what base64 can hold goes to Google (the header is the client's to choose).
        let answer = answer.trim();
        if answer.is_empty() || answer.len() > 16 * 1024 || STANDARD.decode(answer).is_err() {
            return Err(AttestError::Refused(
                "the device's answer is not base64 data".into(),
            ));
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Verified {
            #[serde(default)]
            device_permanent_id: Option<String>,
            #[serde(default)]
            attested_device_id: Option<String>,
            #[serde(default)]
            virtual_device_id: Option<String>,
            #[serde(default)]
            customer_id: Option<String>,
        }
        let mut body = serde_json::json!({ "challengeResponse": answer });
        if let Some(id) = &self.expected_identity {
            body["expectedIdentity"] = id.clone().into();
        }
        let token = self.access_token(now).await?;
        let resp = self
            .http
            .post(format!("{}/v2/challenge:verify", self.api_url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| AttestError::Api(format!("challenge:verify: {e}")))?;
        let status = resp.status();
        if status.is_client_error() {
            let text = resp.text().await.unwrap_or_default();
            return Err(AttestError::Refused(format!("{status}: {}", short(&text))));
        }
        if !status.is_success() {
            return Err(AttestError::Api(format!(
                "challenge:verify answered {status}"
            )));
        }
        let v: Verified = resp
            .json()
            .await
            .map_err(|e| AttestError::Api(format!("challenge:verify reply: {e}")))?;
        let found = v.customer_id.unwrap_or_default();
        if !crate::domain::secrets::ct_eq(&found, &self.customer_id) {
            return Err(AttestError::OtherCustomer {
                found,
                expected: self.customer_id.clone(),
            });
        }
        let device_id = [
            v.device_permanent_id,
            v.attested_device_id,
            v.virtual_device_id,
        ]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .ok_or(AttestError::NoDeviceId)?;
        Ok(AttestedDevice {
            device_id,
            customer_id: found,
        })
    }
}

fn poisoned<T>(_: T) -> AttestError {
    AttestError::Api("token cache lock poisoned".into())
}

fn is_loopback_http(url: &str) -> bool {
    url.strip_prefix("http://")
        .map(|rest| rest.split(['/', ':']).next().unwrap_or(""))
        .is_some_and(|host| host == "127.0.0.1" || host == "localhost")
}

fn short(text: &str) -> String {
    text.chars().take(200).collect()
}

fn serde_urlencode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", k, percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(
            serde_urlencode(&[("a", "x y+z/=:"), ("b", "ok")]),
            "a=x%20y%2Bz%2F%3D%3A&b=ok"
        );
        assert!(is_loopback_http("http://127.0.0.1:8080/token"));
        assert!(!is_loopback_http("http://evil.example/token"));
        assert!(!is_loopback_http("http://127.0.0.1.evil.example/token"));
    }
}
