//! The kiosk's side of the portal API (`portal/API.md`): request and reply types, and an HTTP
//! client with timeouts and retries.
//!
//! The core talks to the portal through the [`PortalApi`] trait, whose calls return boxed
//! futures: natively a tokio runtime drives them, in the browser `spawn_local` does, and tests
//! may use an in-process fake. [`HttpPortal`] is the real one, on reqwest (rustls natively,
//! `fetch` in the browser). Secrets (the kiosk credential, session tokens, PINs) travel in
//! [`Zeroizing`] strings and never reach a log line.

use std::sync::Arc;
use std::time::Duration;

use quickcard::TrustedKey;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

use crate::platform::BoxFuture;

/// A user as the portal returns them after an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub avatar: Avatar,
}

/// The user's avatar: an initial on a coloured disc.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct Avatar {
    #[serde(default)]
    pub initial: String,
    /// `#RRGGBB`.
    #[serde(default)]
    pub color: String,
}

/// One app tile on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct AppTile {
    pub id: String,
    pub name: String,
    /// An icon name (`book`, `math`, `paint`, …); unknown names get a generic picture.
    #[serde(default)]
    pub icon: String,
    /// `#RRGGBB`.
    #[serde(default)]
    pub color: String,
}

/// A session: the reply of `POST /v1/exchange` and `GET /v1/session`. `Debug` leaves out
/// the token.
#[derive(Clone, Deserialize)]
pub struct SessionReply {
    pub token: String,
    #[serde(default)]
    pub expires_at: u64,
    pub user: User,
    #[serde(default)]
    pub apps: Vec<AppTile>,
    #[serde(default)]
    pub second_factor_used: bool,
    /// On the Chromebook sign-in page: what to hand to Google.
    #[serde(default)]
    pub sign_in: Option<Box<SignInHandoff>>,
}

/// What the Chromebook sign-in page posts after a card was accepted: the signed SAML response
/// for Google's ACS URL, and the user's ChromeOS password for the Credentials Passing API.
/// Wiped when dropped; `Debug` shows neither secret.
#[derive(Clone, Deserialize, Default)]
pub struct SignInHandoff {
    pub acs_url: String,
    pub saml_response: String,
    #[serde(default)]
    pub relay_state: String,
    /// The Google account (the SAML `NameID`).
    pub email: String,
    /// The per-user secret ChromeOS uses as this account's password on this device.
    #[serde(default)]
    pub password: String,
}

impl std::fmt::Debug for SignInHandoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInHandoff")
            .field("acs_url", &self.acs_url)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl Drop for SignInHandoff {
    fn drop(&mut self) {
        self.saml_response.zeroize();
        self.relay_state.zeroize();
        self.email.zeroize();
        self.password.zeroize();
    }
}

impl std::fmt::Debug for SessionReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionReply")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .field("apps", &self.apps)
            .field("second_factor_used", &self.second_factor_used)
            .field("sign_in", &self.sign_in)
            .finish()
    }
}

impl Drop for SessionReply {
    fn drop(&mut self) {
        self.token.zeroize();
    }
}

/// A revoked card range, as the configs send it: cards of the user issued before
/// `issued_before` are refused. The portal does not send the user id (the sign-in page's
/// config is open to whoever starts a sign-in and must not list the district's revoked
/// pupils): `user_hash` is SHA-256 (lower-case hex) of `salt` followed by the id, so a kiosk
/// that reads the id off a card can still tell that the card is revoked. This is the one
/// definition of the entry for the kiosk, the browser page and their tests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Revocation {
    /// Defaults: a config cached from an older portal (plain `user_id`s) still loads its
    /// trust list; its revocations match nothing until the next refresh.
    #[serde(default)]
    pub salt: String,
    #[serde(default)]
    pub user_hash: String,
    pub issued_before: u64,
}

impl Revocation {
    /// The entry the portal would send for `user_id` with this salt.
    pub fn new(salt: &str, user_id: &str, issued_before: u64) -> Revocation {
        Revocation {
            salt: salt.to_string(),
            user_hash: salted_hash(salt, user_id),
            issued_before,
        }
    }

    /// Whether this entry refuses a card of `user_id` issued at `issued_at`.
    pub fn refuses(&self, user_id: &str, issued_at: u64) -> bool {
        issued_at < self.issued_before
            && !self.user_hash.is_empty()
            && salted_hash(&self.salt, user_id) == self.user_hash.to_ascii_lowercase()
    }
}

/// Whether any of `revoked` refuses a card of `user_id` issued at `issued_at`: the offline
/// check of the kiosk and of the browser page.
pub fn is_revoked(revoked: &[Revocation], user_id: &str, issued_at: u64) -> bool {
    revoked.iter().any(|r| r.refuses(user_id, issued_at))
}

fn salted_hash(salt: &str, user_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(user_id.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET /v1/kiosk/config`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct KioskConfig {
    #[serde(default)]
    pub school_id: String,
    #[serde(default)]
    pub trust: Vec<TrustedKey>,
    #[serde(default)]
    pub revoked: Vec<Revocation>,
    #[serde(default)]
    pub idle_timeout_secs: Option<u64>,
}

/// `POST /v1/kiosks/enroll`. `Debug` leaves out the credential.
#[derive(Clone, Deserialize)]
pub struct EnrollReply {
    pub kiosk_id: String,
    pub credential: String,
    #[serde(default)]
    pub school_id: String,
    #[serde(default)]
    pub trust: Vec<TrustedKey>,
}

impl std::fmt::Debug for EnrollReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollReply")
            .field("kiosk_id", &self.kiosk_id)
            .field("credential", &"[redacted]")
            .field("school_id", &self.school_id)
            .field("trust", &self.trust)
            .finish()
    }
}

/// `POST /v1/session/apps/{id}/launch`. The URL opens the app once, for whoever holds it:
/// `Debug` leaves it out.
#[derive(Clone, Deserialize)]
pub struct LaunchReply {
    pub url: String,
    #[serde(default)]
    pub expires_at: u64,
}

impl std::fmt::Debug for LaunchReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchReply")
            .field("url", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    attempts_left: Option<u32>,
    #[serde(default)]
    retry_after_secs: Option<u64>,
}

/// Why a portal call failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortalError {
    /// The portal answered with an error (`code` from the API's list).
    #[error("the portal refused ({status} {code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        attempts_left: Option<u32>,
        retry_after_secs: Option<u64>,
    },
    /// No answer (connection refused, timeout, DNS, 5xx from a proxy) after the retries.
    #[error("the portal cannot be reached: {0}")]
    Unreachable(String),
    /// An answer we cannot understand.
    #[error("the portal sent a reply the kiosk does not understand: {0}")]
    Protocol(String),
}

impl PortalError {
    /// What an error reply (`status`, JSON `body`) of the portal means, as [`HttpPortal`]
    /// reads it: fields it does not know (from a newer portal) are ignored.
    pub fn from_reply(status: u16, body: &[u8]) -> PortalError {
        api_error(status, body)
    }

    /// The API error code, if the portal answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            PortalError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The portal calls the kiosk core makes. Futures are `'static`: they own what they need.
pub trait PortalApi {
    fn kiosk_config(&self) -> BoxFuture<'static, Result<KioskConfig, PortalError>>;
    fn exchange(
        &self,
        card: Zeroizing<String>,
        pin: Option<Zeroizing<String>>,
    ) -> BoxFuture<'static, Result<SessionReply, PortalError>>;
    fn end_session(&self, token: Zeroizing<String>) -> BoxFuture<'static, Result<(), PortalError>>;
    fn launch(
        &self,
        token: Zeroizing<String>,
        app_id: String,
    ) -> BoxFuture<'static, Result<LaunchReply, PortalError>>;
}

/// A timer for back-off (the runtime's sleep).
pub type Sleeper = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// Wait before the second attempt; doubles each time.
    pub first_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(250),
            timeout: Duration::from_secs(8),
        }
    }
}

/// The real portal over HTTP.
#[derive(Clone)]
pub struct HttpPortal {
    http: reqwest::Client,
    base: Arc<str>,
    credential: Arc<Zeroizing<String>>,
    sleep: Sleeper,
    retry: RetryPolicy,
    /// `Some(request id)` on the Chromebook sign-in page: the pending sign-in authorises the
    /// calls instead of a kiosk credential, and there are no sessions to end or apps to open.
    sign_in: Option<Arc<str>>,
}

impl std::fmt::Debug for HttpPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPortal")
            .field("base", &self.base)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// The request never reached the portal (natively: the connection failed; in the browser
/// `fetch` only says the request failed).
#[cfg(not(target_arch = "wasm32"))]
fn connect_failed(e: &reqwest::Error) -> bool {
    e.is_connect()
}
#[cfg(target_arch = "wasm32")]
fn connect_failed(e: &reqwest::Error) -> bool {
    e.is_request()
}

/// Is this a retry-safe failure? `idempotent`: the call may be repeated even if it reached the
/// portal (GET, DELETE); otherwise only failures to connect are retried.
fn retryable(e: &reqwest::Error, idempotent: bool) -> bool {
    if connect_failed(e) {
        return true;
    }
    idempotent && (e.is_timeout() || e.is_request())
}

enum Method {
    Get,
    Post,
    Delete,
}

impl HttpPortal {
    /// A client for the portal at `base` (e.g. `http://127.0.0.1:8080`), authenticating with
    /// the kiosk's credential (empty before enrolment).
    pub fn new(
        base: &str,
        credential: Zeroizing<String>,
        sleep: Sleeper,
        retry: RetryPolicy,
    ) -> Result<HttpPortal, PortalError> {
        let base = base.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(PortalError::Protocol(format!(
                "portal URL {base:?} must start with http:// or https://"
            )));
        }
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| PortalError::Protocol(e.to_string()))?;
        Ok(HttpPortal {
            http,
            base: base.into(),
            credential: Arc::new(credential),
            sleep,
            retry,
            sign_in: None,
        })
    }

    /// A client for the Chromebook sign-in page answering the pending sign-in `request` (the
    /// id the portal put in the page's address): config and card exchange go to
    /// `/v1/signin/{request}/…`.
    pub fn for_sign_in(
        base: &str,
        request: &str,
        sleep: Sleeper,
        retry: RetryPolicy,
    ) -> Result<HttpPortal, PortalError> {
        let mut p = HttpPortal::new(base, Zeroizing::new(String::new()), sleep, retry)?;
        p.sign_in = Some(url_segment(request).into());
        Ok(p)
    }

    /// The portal's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST /v1/kiosks/enroll`: trades an enrolment code for this kiosk's credential.
    pub fn enroll(
        &self,
        code: &str,
        name: &str,
    ) -> BoxFuture<'static, Result<EnrollReply, PortalError>> {
        let body = serde_json::json!({ "code": code, "name": name });
        self.call(
            Method::Post,
            "/v1/kiosks/enroll".into(),
            Some(body),
            None,
            false,
        )
    }

    fn call<T: serde::de::DeserializeOwned + 'static>(
        &self,
        method: Method,
        path: String,
        body: Option<serde_json::Value>,
        session: Option<Zeroizing<String>>,
        idempotent: bool,
    ) -> BoxFuture<'static, Result<T, PortalError>> {
        let this = self.clone();
        Box::pin(async move {
            let url = format!("{}{}", this.base, path);
            let mut backoff = this.retry.first_backoff;
            let mut attempt = 1;
            loop {
                let mut req = match method {
                    Method::Get => this.http.get(&url),
                    Method::Post => this.http.post(&url),
                    Method::Delete => this.http.delete(&url),
                };
                req = req.timeout(this.retry.timeout);
                if !this.credential.is_empty() {
                    req = req.bearer_auth(this.credential.as_str());
                }
                if let Some(token) = &session {
                    req = req.header("QuickCard-Session", token.as_str());
                }
                if let Some(body) = &body {
                    req = req.json(body);
                }
                let failure = match req.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let bytes = resp
                            .bytes()
                            .await
                            .map_err(|e| PortalError::Unreachable(e.to_string()))?;
                        if (200..300).contains(&status) {
                            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
                            return serde_json::from_slice(bytes)
                                .map_err(|e| PortalError::Protocol(format!("{path}: {e}")));
                        }
                        // A proxy or a restarting portal: worth another try when idempotent.
                        if matches!(status, 502..=504)
                            && idempotent
                            && attempt < this.retry.attempts
                        {
                            format!("HTTP {status}")
                        } else {
                            return Err(api_error(status, &bytes));
                        }
                    }
                    Err(e) => {
                        if !(retryable(&e, idempotent) && attempt < this.retry.attempts) {
                            return Err(PortalError::Unreachable(without_url(&e)));
                        }
                        without_url(&e)
                    }
                };
                tracing::debug!(%path, attempt, %failure, "portal call failed; retrying");
                (this.sleep)(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
        })
    }
}

/// A reqwest error without the URL (it carries nothing secret, but keeps messages short).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if connect_failed(e) {
        "connection failed"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "request failed"
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = src {
        detail = s.to_string();
        src = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

fn api_error(status: u16, body: &[u8]) -> PortalError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => PortalError::Api {
            status,
            code: b.error.code,
            message: b.error.message,
            attempts_left: b.error.attempts_left,
            retry_after_secs: b.error.retry_after_secs,
        },
        Err(_) if status >= 500 => PortalError::Unreachable(format!("HTTP {status}")),
        Err(_) => PortalError::Protocol(format!("HTTP {status} without an error body")),
    }
}

impl<'de> Deserialize<'de> for Nothing {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _ = serde::de::IgnoredAny::deserialize(d)?;
        Ok(Nothing)
    }
}

/// Any reply body, ignored.
#[derive(Debug)]
struct Nothing;

impl PortalApi for HttpPortal {
    fn kiosk_config(&self) -> BoxFuture<'static, Result<KioskConfig, PortalError>> {
        let path = match &self.sign_in {
            Some(request) => format!("/v1/signin/{request}/config"),
            None => "/v1/kiosk/config".into(),
        };
        self.call(Method::Get, path, None, None, true)
    }

    fn exchange(
        &self,
        card: Zeroizing<String>,
        pin: Option<Zeroizing<String>>,
    ) -> BoxFuture<'static, Result<SessionReply, PortalError>> {
        let mut body = serde_json::json!({ "card": card.as_str() });
        if let Some(pin) = &pin {
            body["pin"] = serde_json::Value::String(pin.to_string());
        }
        let path = match &self.sign_in {
            Some(request) => format!("/v1/signin/{request}/exchange"),
            None => "/v1/exchange".into(),
        };
        let fut = self.call(Method::Post, path, Some(body), None, false);
        Box::pin(async move {
            let r = fut.await;
            drop((card, pin));
            r
        })
    }

    fn end_session(&self, token: Zeroizing<String>) -> BoxFuture<'static, Result<(), PortalError>> {
        if self.sign_in.is_some() {
            // A Chromebook sign-in makes no portal session.
            return Box::pin(async { Ok(()) });
        }
        let fut = self.call::<Nothing>(
            Method::Delete,
            "/v1/session".into(),
            None,
            Some(token),
            true,
        );
        Box::pin(async move { fut.await.map(|_| ()) })
    }

    fn launch(
        &self,
        token: Zeroizing<String>,
        app_id: String,
    ) -> BoxFuture<'static, Result<LaunchReply, PortalError>> {
        let path = format!("/v1/session/apps/{}/launch", url_segment(&app_id));
        self.call(
            Method::Post,
            path,
            Some(serde_json::json!({})),
            Some(token),
            false,
        )
    }
}

/// Percent-encodes an id for one URL path segment.
fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "portal_client_tests.rs"]
mod tests;
