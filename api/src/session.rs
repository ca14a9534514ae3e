//! A card becomes a session: the exchange request, the session reply (also of
//! `GET /v1/session` and, with its sign-in hand-off, of the Chromebook sign-in exchange), the
//! user and apps it shows, and the launch of an app.
//!
//! Fields a client may miss from an older portal have defaults, and unknown fields are
//! ignored, so a kiosk and a portal one version apart understand each other. Secrets print as
//! `[redacted]` and are wiped when dropped.

use std::fmt;

use quickcard::Role;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::redact::Redacted;

/// `POST /v1/exchange` (and `POST /v1/signin/{request}/exchange`) body.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRequest {
    /// The card's text, `QC:…`, exactly as the QR code holds it.
    pub card: String,
    /// The PIN, for cards that require a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

// The card text is a credential too: a card without a PIN signs its holder in.
impl fmt::Debug for ExchangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExchangeRequest")
            .field("card", &Redacted)
            .field("pin", &self.pin.as_ref().map(|_| Redacted))
            .finish()
    }
}

impl Drop for ExchangeRequest {
    fn drop(&mut self) {
        self.card.zeroize();
        self.pin.zeroize();
    }
}

/// A session: the reply of `POST /v1/exchange` and `GET /v1/session`, and of a Chromebook
/// sign-in exchange (then with `sign_in`, an empty `token` and no apps). `Debug` leaves out
/// the token; it is wiped when dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionReply {
    pub token: String,
    /// When the session ends (Unix seconds); for a sign-in, the assertion's `NotOnOrAfter`.
    #[serde(default)]
    pub expires_at: u64,
    pub user: User,
    #[serde(default)]
    pub apps: Vec<AppTile>,
    #[serde(default)]
    pub second_factor_used: bool,
    /// On the Chromebook sign-in page: what to hand to Google. Absent from kiosk sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<Box<SignInHandoff>>,
}

impl fmt::Debug for SessionReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionReply")
            .field("token", &Redacted)
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

/// The signed-in user, as the roster knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub given_name: String,
    /// The roster's role. The card format fixes the set of roles, so a kiosk that reads the
    /// card can read this too.
    pub role: Role,
    #[serde(default)]
    pub avatar: Avatar,
}

/// An empty user with the least privileged role: what is left in a reply after its user was
/// taken out (a reply wipes its token when dropped, so its fields cannot be moved out).
impl Default for User {
    fn default() -> User {
        User {
            id: String::new(),
            display_name: String::new(),
            given_name: String::new(),
            role: Role::Student,
            avatar: Avatar::default(),
        }
    }
}

/// The user's avatar: an initial on a coloured disc.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Avatar {
    #[serde(default)]
    pub initial: String,
    /// `#RRGGBB`, with at least 4.5:1 contrast against white text.
    #[serde(default)]
    pub color: String,
}

/// One app tile on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppTile {
    pub id: String,
    pub name: String,
    /// An icon name (`book`, `math`, `paint`, …) or an `https://` URL; a kiosk shows a generic
    /// picture for names it does not know.
    #[serde(default)]
    pub icon: String,
    /// `#RRGGBB`.
    #[serde(default)]
    pub color: String,
}

/// What the Chromebook sign-in page posts after a card was accepted: the signed SAML response
/// for Google's ACS URL, and the user's ChromeOS password for the Credentials Passing API.
/// Wiped when dropped; `Debug` shows neither secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SignInHandoff {
    pub acs_url: String,
    /// The `SAMLResponse` form value (base64 of the signed XML), posted as is.
    pub saml_response: String,
    /// The `RelayState` form value; empty when the request had none (then post none).
    #[serde(default)]
    pub relay_state: String,
    /// The Google account (the SAML `NameID`).
    pub email: String,
    /// The per-user secret ChromeOS uses as this account's password on this device; empty
    /// unless Chrome Verified Access attested the Chromebook.
    #[serde(default)]
    pub password: String,
}

impl fmt::Debug for SignInHandoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInHandoff")
            .field("acs_url", &self.acs_url)
            .field("email", &self.email)
            .field("saml_response", &Redacted)
            .field("relay_state", &Redacted)
            .field("password", &Redacted)
            .finish()
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

/// `POST /v1/session/apps/{id}/launch`. The URL opens the app once, for whoever holds it:
/// `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchReply {
    pub url: String,
    /// When the link stops working (Unix seconds).
    #[serde(default)]
    pub expires_at: u64,
}

impl fmt::Debug for LaunchReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaunchReply")
            .field("url", &Redacted)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
