//! The kiosk's side of the portal API (`portal/API.md`): an HTTP client with timeouts and
//! retries, and what a failed call means ([`PortalError`]). The request and reply bodies are
//! the contract's (`quickcard-api`, shared with the portal), re-exported here.
//!
//! The core talks to the portal through the [`PortalApi`] trait, whose calls return boxed
//! futures: natively a tokio runtime drives them, in the browser `spawn_local` does, and tests
//! may use an in-process fake. [`HttpPortal`] is the real one, on reqwest (rustls natively,
//! `fetch` in the browser). Secrets (the kiosk credential, session tokens, PINs) travel in
//! [`Zeroizing`] strings and never reach a log line.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::app::ports::{BoxFuture, PortalApi};

// The request and reply bodies are the wire contract's, shared with the portal; they stay
// importable from here.
#[cfg(test)]
use quickcard_api::salted_hash;
pub use quickcard_api::{
    AppTile, Avatar, EnrollReply, ErrorCode, KioskConfig, LaunchReply, ReplyCode, Revocation,
    SessionReply, SignInHandoff, User, is_revoked,
};
use quickcard_api::{EnrollRequest, ErrorBody, ExchangeRequest};

/// Why a portal call failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortalError {
    /// The portal answered with an error (`code` from the API's list, or a newer portal's).
    #[error("the portal refused ({status} {code}): {message}")]
    Api {
        status: u16,
        code: ReplyCode,
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
        self.reply_code().map(ReplyCode::as_str)
    }

    /// The API error code as the contract types it, if the portal answered.
    pub fn reply_code(&self) -> Option<&ReplyCode> {
        match self {
            PortalError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
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
        let body = json_body(&EnrollRequest {
            code: code.to_string(),
            name: Some(name.to_string()),
        });
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

/// A request body as JSON. Cannot fail: the bodies are structs of strings.
fn json_body(body: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(body).expect("a request body serialises")
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
        let body = json_body(&ExchangeRequest {
            card: card.to_string(),
            pin: pin.as_ref().map(|p| p.to_string()),
        });
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
