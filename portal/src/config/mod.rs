//! The portal's configuration: one TOML file, every setting overridable from the environment.
//!
//! Environment variables named `QUICKCARD_PORTAL_<KEY>` override the file; nested keys join
//! with a double underscore (`QUICKCARD_PORTAL_SESSION__LIFETIME_SECS=1800`). A value is read
//! as a TOML value when it parses as one (numbers, booleans, arrays, inline tables) and as a
//! plain string otherwise. `QUICKCARD_PORTAL_CONFIG` (the file's path) and
//! `QUICKCARD_PORTAL_LOG` (the log filter) are not settings.

pub mod idp;
pub mod key_location;
pub mod keys;
pub mod name_id_domains;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use quickcard::{TrustList, TrustedKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::catalogue::{App, default_apps};
pub use crate::domain::policy::{PolicyConfig, PolicyRefusal, SchoolPolicy};

/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "QUICKCARD_PORTAL_";
const NOT_SETTINGS: &[&str] = &["CONFIG", "LOG"];

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("trust list: {0}")]
    Trust(#[from] quickcard::TrustError),
    #[error("{0}")]
    Invalid(String),
}

/// Everything the portal is configured with. See `portal/README.md` for an annotated file.
// Debug: crate::domain::redact (the database URL may hold a password).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// `sqlite://FILE` (created when missing), `sqlite::memory:`, or `postgres://…`.
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// Database connections per replica.
    #[serde(default)]
    pub database_max_connections: Option<u32>,
    /// The portal's address as kiosks and browsers reach it (base of launch URLs). Defaults to
    /// `http://<listen>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Issuer public keys whose cards are accepted.
    #[serde(default)]
    pub trust: Vec<TrustedKey>,
    #[serde(default)]
    pub session: SessionConfig,
    #[serde(default)]
    pub lockout: LockoutConfig,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    #[serde(default)]
    pub kiosk: KioskConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    /// The app catalogue; the example catalogue when empty.
    #[serde(default)]
    pub apps: Vec<App>,
    /// The browser kiosk's files (what `scripts/build-web.sh` writes), served at `/kiosk/`.
    #[serde(default)]
    pub web_dir: Option<PathBuf>,
    /// Chromebook sign-in: the portal as the district's SAML identity provider (optional).
    #[serde(default)]
    pub saml: Option<crate::config::idp::SamlConfig>,
    /// How long old rows are kept before the portal deletes them (see `retention`).
    #[serde(default)]
    pub retention: crate::domain::retention::RetentionConfig,
    /// `/metrics` (see `metrics`).
    #[serde(default)]
    pub metrics: crate::http::metrics::MetricsConfig,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_database_url() -> String {
    "sqlite://quickcard-portal.db".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// How long a session lasts after the card exchange.
    pub lifetime_secs: u64,
    /// How long a one-time launch URL stays valid.
    pub launch_ttl_secs: u64,
    /// How far a card's dates may be off the portal's clock.
    pub clock_skew_secs: u64,
    /// The longest a card may be valid (expires-at minus issued-at), in days; longer cards are
    /// refused (`lifetime_too_long`). It bounds what a leaked issuer key can print. Kiosks
    /// check offline with the format's default (400), so raising it past that is not useful.
    pub max_card_lifetime_days: u64,
}

impl SessionConfig {
    pub fn max_card_lifetime_secs(&self) -> u64 {
        self.max_card_lifetime_days.saturating_mul(86_400)
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            lifetime_secs: 3600,
            launch_ttl_secs: 60,
            clock_skew_secs: 300,
            max_card_lifetime_days: quickcard::DEFAULT_MAX_CARD_LIFETIME_SECS / 86_400,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutConfig {
    /// Wrong PINs (within `window_secs`) that lock the user's card login.
    pub max_failures: u32,
    /// How long the first lock lasts.
    pub duration_secs: u64,
    /// How long the second lock from the same source lasts; a third lasts until a person
    /// unlocks (see `pin_attempts`).
    pub second_duration_secs: u64,
    /// Wrong PINs older than this are forgotten.
    pub window_secs: u64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig {
            max_failures: 5,
            duration_secs: 900,
            second_duration_secs: 3600,
            window_secs: 900,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Length of one counting window.
    pub window_secs: u64,
    /// Exchanges one kiosk may attempt per window.
    pub kiosk_max: u64,
    /// Exchanges one card (by card id) may attempt per window.
    pub card_max: u64,
    /// Enrolment attempts (all kiosks together) per window.
    pub enrol_max: u64,
    /// Requests one client address may make per window to the routes anyone can call that
    /// reach the database (launch links, enrolment). An IPv6 client counts by its /64: one
    /// machine usually holds a whole /64 and could otherwise take a fresh budget per address.
    pub client_max: u64,
    /// A header set by the reverse proxy in front of the portal (`X-Forwarded-For`) whose last
    /// entry is the client's address; without it the TCP peer is the client (behind a proxy:
    /// the proxy, for every client). `saml.client_ip_header` is used when this is unset.
    pub client_ip_header: Option<String>,
    /// The reverse proxies whose `client_ip_header` is believed (addresses or CIDR ranges;
    /// default: this host, `127.0.0.0/8` and `::1`). From any other peer the header is
    /// ignored, and in the header the right-most address that is not a trusted proxy is the
    /// client: anything left of it was written by the client itself.
    pub trusted_proxies: Vec<String>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            window_secs: 60,
            kiosk_max: 120,
            card_max: 10,
            enrol_max: 30,
            client_max: 120,
            client_ip_header: None,
            trusted_proxies: vec!["127.0.0.0/8".into(), "::1".into()],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KioskConfig {
    /// Idle time after which kiosks sign the user out (sent to kiosks in `/v1/kiosk/config`).
    pub idle_timeout_secs: u64,
    /// How long an enrolment code from `kiosk add` stays valid.
    pub enrolment_code_ttl_secs: u64,
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            idle_timeout_secs: 120,
            enrolment_code_ttl_secs: 7 * 86_400,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// SHA-256 (hex) of the admin API token (`quickcard-portal admin-token` makes one). The
    /// admin API is off when unset.
    pub token_sha256: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        // An empty document gives every default.
        toml::from_str("").expect("defaults")
    }
}

impl Config {
    /// Reads a config file, then applies environment overrides.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Config::from_toml(&text, &shown, std::env::vars())
    }

    /// Only defaults and environment overrides (no file).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_toml("", "(defaults)", std::env::vars())
    }

    /// Parses TOML text and applies overrides from `vars` (usually `std::env::vars()`).
    pub fn from_toml(
        text: &str,
        origin: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut overridden = Vec::new();
        for (var, value) in vars {
            let Some(key) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if key.is_empty() || NOT_SETTINGS.contains(&key) {
                continue;
            }
            let path: Vec<String> = key.split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut doc, &path, env_value(&value)).map_err(|message| ConfigError::Env {
                var: var.clone(),
                message,
            })?;
            overridden.push(var);
        }
        let config: Config = toml::Table::try_into(doc).map_err(|e: toml::de::Error| {
            let origin = if overridden.is_empty() {
                origin.to_string()
            } else {
                format!("{origin} (with {})", overridden.join(", "))
            };
            ConfigError::Parse {
                path: origin,
                message: crate::config::keys::explain(&e.to_string()),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        if self.session.lifetime_secs == 0 {
            return bad("session.lifetime_secs must be at least 1");
        }
        if self.session.max_card_lifetime_days == 0 {
            return bad("session.max_card_lifetime_days must be at least 1");
        }
        if self.lockout.max_failures == 0 {
            return bad("lockout.max_failures must be at least 1");
        }
        if self.rate_limit.window_secs == 0 {
            return bad("rate_limit.window_secs must be at least 1");
        }
        let mut ids: Vec<&str> = self.apps.iter().map(|a| a.id.as_str()).collect();
        ids.sort();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return bad("apps: two apps have the same id");
        }
        if let Some(saml) = &self.saml {
            saml.validate().map_err(ConfigError::Invalid)?;
        }
        self.retention.validate().map_err(ConfigError::Invalid)?;
        self.metrics.validate().map_err(ConfigError::Invalid)?;
        if let Some(h) = &self.admin.token_sha256
            && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return bad(
                "admin.token_sha256 must be 64 hex digits (see `quickcard-portal admin-token`)",
            );
        }
        Ok(())
    }

    /// The trust list. The published demo key is refused unless `demo` (the `--demo` flag),
    /// and in demo mode it is added when missing.
    pub fn trust_list(&self, demo: bool) -> Result<TrustList, ConfigError> {
        let mut keys = self.trust.clone();
        if demo && !keys.iter().any(|k| k.public.is_demo()) {
            keys.push(TrustedKey::new(
                quickcard::IssuerKey::demo().public(),
                "QuickCard DEMO key (demo mode)",
            ));
        }
        Ok(TrustList::new(keys, demo)?)
    }

    /// The app catalogue in force.
    pub fn catalogue(&self) -> Vec<App> {
        if self.apps.is_empty() {
            default_apps()
        } else {
            self.apps.clone()
        }
    }

    /// Base URL for links the portal hands out.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }
}

fn env_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn set_path(doc: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut table = doc;
    for p in parents {
        let entry = table
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry
            .as_table_mut()
            .ok_or_else(|| format!("{p} is not a table"))?;
    }
    table.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcard::Role;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_env_overrides() {
        let c = Config::from_toml(
            "listen = \"127.0.0.1:9000\"\n[session]\nlifetime_secs = 60\n",
            "t.toml",
            vars(&[
                ("QUICKCARD_PORTAL_SESSION__LIFETIME_SECS", "1800"),
                ("QUICKCARD_PORTAL_DATABASE_URL", "postgres://u@127.0.0.1/db"),
                ("QUICKCARD_PORTAL_LOCKOUT__MAX_FAILURES", "3"),
                ("QUICKCARD_PORTAL_POLICY__ROLES", "[\"student\"]"),
                ("QUICKCARD_PORTAL_CONFIG", "ignored.toml"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.session.lifetime_secs, 1800);
        assert_eq!(c.session.launch_ttl_secs, 60);
        assert_eq!(c.database_url, "postgres://u@127.0.0.1/db");
        assert_eq!(c.lockout.max_failures, 3);
        assert_eq!(c.policy.roles, vec![Role::Student]);
        assert_eq!(c.catalogue().len(), 6);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = Config::from_toml("lisen = 1", "t.toml", vars(&[])).unwrap_err();
        assert!(e.to_string().contains("lisen"), "{e}");
        let e = Config::from_toml(
            "",
            "t.toml",
            vars(&[("QUICKCARD_PORTAL_SESSION__LIFETIME_SECS", "soon")]),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("QUICKCARD_PORTAL_SESSION__LIFETIME_SECS"),
            "{e}"
        );
        let e = Config::from_toml("[lockout]\nmax_failures = 0", "t.toml", vars(&[])).unwrap_err();
        assert!(e.to_string().contains("max_failures"), "{e}");
    }

    #[test]
    fn a_trusted_key_can_be_revoked_and_the_card_lifetime_is_bounded() {
        let key = quickcard::IssuerKey::from_seed([9; 32], "k").public();
        let text = format!(
            "[[trust]]\npublic = \"{key}\"\nname = \"leaked\"\nvalid_until = \"2027-07-31\"\n\
             revoked_at = \"2027-01-15T09:30:00Z\"\n"
        );
        let c = Config::from_toml(&text, "t.toml", vars(&[])).unwrap();
        let trust = c.trust_list(false).unwrap();
        assert_eq!(
            trust.keys()[0].revoked_at,
            quickcard::time::parse("2027-01-15T09:30:00Z").ok()
        );
        assert_eq!(c.session.max_card_lifetime_days, 400);
        assert_eq!(c.session.max_card_lifetime_secs(), 400 * 86_400);
        let c = Config::from_toml(
            "[session]\nmax_card_lifetime_days = 200",
            "t.toml",
            vars(&[]),
        )
        .unwrap();
        assert_eq!(c.session.max_card_lifetime_secs(), 200 * 86_400);
        let e = Config::from_toml("[session]\nmax_card_lifetime_days = 0", "t.toml", vars(&[]))
            .unwrap_err();
        assert!(e.to_string().contains("max_card_lifetime_days"), "{e}");
    }

    #[test]
    fn demo_key_needs_demo_mode() {
        let demo = quickcard::IssuerKey::demo().public();
        let text = format!("[[trust]]\npublic = \"{demo}\"\nname = \"demo\"\n");
        let c = Config::from_toml(&text, "t.toml", vars(&[])).unwrap();
        let e = c.trust_list(false).unwrap_err();
        assert!(e.to_string().contains("demo key"), "{e}");
        assert_eq!(c.trust_list(true).unwrap().keys().len(), 1);
        // Demo mode adds the demo key when it is not configured.
        let empty = Config::default();
        assert!(empty.trust_list(true).unwrap().keys()[0].public.is_demo());
        assert!(empty.trust_list(false).unwrap().is_empty());
    }

    #[test]
    fn policy_by_school_role_and_grade() {
        let c = Config::from_toml(
            "[policy]\ngrades = [\"KG\", \"01\"]\n[policy.schools.s2]\nroles = [\"teacher\"]\n",
            "t.toml",
            vars(&[]),
        )
        .unwrap();
        let p = &c.policy;
        assert_eq!(p.check("s1", Role::Student, &["KG".into()]), Ok(()));
        assert_eq!(
            p.check("s1", Role::Student, &["05".into()]),
            Err(PolicyRefusal::Grade(vec!["05".into()]))
        );
        assert_eq!(
            p.check("s1", Role::Parent, &[]),
            Err(PolicyRefusal::Role(Role::Parent))
        );
        assert_eq!(
            p.check("s2", Role::Student, &[]),
            Err(PolicyRefusal::Role(Role::Student))
        );
        assert_eq!(p.check("s2", Role::Teacher, &[]), Ok(()));
    }
}
