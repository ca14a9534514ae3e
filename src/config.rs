//! The kiosk's configuration file and its enrolment.
//!
//! A lab kiosk is set up once by a grown-up: `quickcard-kiosk enroll --portal URL --code CODE`
//! trades a one-time enrolment code for the kiosk's credential, writes the credential to its
//! own file with mode 0600 and writes (or updates) the TOML config next to it. Everything the
//! kiosk needs at start-up is read here into checked types; a bad value is refused with the
//! file, the key and what to write instead. With no config file at all the kiosk runs the demo.
//!
//! ```toml
//! portal_url = "https://portal.school.example"
//! school_id = "sch-lincoln"          # optional: taken from the portal when absent
//! language = "en"                    # or "es"
//! idle_timeout_secs = 120
//! admin_pin_hash = "$argon2id$v=19$…" # `quickcard-kiosk hash-pin`
//! camera = "0"                        # index, name, or "replay:DIR"
//!
//! [launcher]                          # each child's apps as another user, fresh profile
//! command = ["chromium", "--user-data-dir={profile}", "{url}"]
//! run_as = "quickcard-apps"
//!
//! [sound]                             # optional: the grown-ups can change it until a restart
//! volume = 0.8                        # 0.0 (silent) to 1.0
//! muted = false
//!
//! [enrolment]
//! kiosk_id = "k-…"
//! credential_file = "credential"      # relative to this file; mode 0600
//!
//! [[trust]]                           # optional: pinned issuer keys (else the portal's)
//! public = "qcpk1:…"
//! name = "Lincoln 2026-27"
//! ```
//!
//! `launcher = ["xdg-open", "{url}"]` (a plain command list, the demo's launcher) still works:
//! apps then run as the kiosk user and keep their profile from one child to the next, which
//! `check-config` warns about.

use std::path::{Path, PathBuf};

use quickcard::TrustedKey;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::app::i18n::Lang;

/// Why the config cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        message: String,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the kiosk is not enrolled: run `quickcard-kiosk enroll --portal URL --code CODE`")]
    NotEnrolled,
}

/// Why a portal address cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortalUrlError {
    #[error(
        "{0:?} is not a web address: write the portal's address like https://portal.school.example"
    )]
    NotWeb(String),
    #[error(
        "{url:?} is plain http:// to {host}: anyone on the network could read and change what \
         the kiosk sends (its credential, the cards, the PINs); use the portal's https:// address \
         (http:// is only allowed for a portal on this machine: 127.0.0.1, ::1 or localhost)"
    )]
    PlainHttp { url: String, host: String },
}

/// Checks a portal address: `https://`, or `http://` only to this machine (loopback), where
/// nothing crosses a network (the demo's embedded portal, tests, a proxy on the kiosk itself).
/// Parsed as the HTTP client parses it, so `http://localhost@evil.example` is `evil.example`.
pub fn check_portal_url(url: &str) -> Result<(), PortalUrlError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| PortalUrlError::NotWeb(url.to_string()))?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| PortalUrlError::NotWeb(url.to_string()))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        "http" => Err(PortalUrlError::PlainHttp {
            url: url.to_string(),
            host: host.to_string(),
        }),
        _ => Err(PortalUrlError::NotWeb(url.to_string())),
    }
}

/// `localhost`, 127.0.0.0/8 or `::1` (`[::1]` as a URL writes it).
fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The admin PIN's Argon2 hash. A 4–6 digit PIN falls to an offline search of its hash in
/// minutes, so the hash is kept out of every log and debug print like a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PinHash(String);

impl PinHash {
    pub fn new(phc: impl Into<String>) -> PinHash {
        PinHash(phc.into())
    }
}

impl std::ops::Deref for PinHash {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PinHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinHash([redacted])")
    }
}

/// The enrolment record: which kiosk this is and where its credential lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    pub kiosk_id: String,
    /// Relative paths are relative to the config file's folder.
    pub credential_file: PathBuf,
}

/// The kiosk config, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub portal_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
    #[serde(default)]
    pub language: Lang,
    #[serde(default = "default_idle")]
    pub idle_timeout_secs: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_pin_hash: Option<PinHash>,
    #[serde(default = "default_launcher")]
    pub launcher: LauncherConfig,
    /// Camera index or name, `replay:DIR` for recorded frames, or `none`.
    #[serde(default = "default_camera")]
    pub camera: String,
    #[serde(default, skip_serializing_if = "SoundConfig::is_default")]
    pub sound: SoundConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment: Option<Enrolment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust: Vec<TrustedKey>,
}

/// `[sound]`: the kiosk's volume and mute at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoundConfig {
    #[serde(default)]
    pub volume: Volume,
    #[serde(default)]
    pub muted: bool,
}

impl SoundConfig {
    fn is_default(&self) -> bool {
        *self == SoundConfig::default()
    }
}

/// A volume written `0.0` to `1.0` in the file, kept in whole percent: so the config stays
/// comparable (`Eq`) and "louder" and "quieter" land on round steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Volume(u8);

impl Volume {
    /// 0 to 100.
    pub fn percent(self) -> u8 {
        self.0
    }
}

impl Default for Volume {
    fn default() -> Self {
        Volume(80)
    }
}

impl TryFrom<f64> for Volume {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        if (0.0..=1.0).contains(&v) {
            // In range, so the rounded percent fits a u8.
            Ok(Volume((v * 100.0).round() as u8))
        } else {
            Err(format!(
                "sound volume {v} is out of range: use 0.0 (silent) to 1.0 (full)"
            ))
        }
    }
}

impl From<Volume> for f64 {
    fn from(v: Volume) -> f64 {
        f64::from(v.0) / 100.0
    }
}

fn default_idle() -> u64 {
    120
}
fn default_launcher() -> LauncherConfig {
    LauncherConfig::Command(vec!["xdg-open".into(), "{url}".into()])
}

/// How a tile opens its app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, try_from = "RawLauncher")]
pub enum LauncherConfig {
    /// `launcher = ["xdg-open", "{url}"]`: run as the kiosk user, with the kiosk user's
    /// browser profile (the demo's launcher). The browser could read what the kiosk can read
    /// and keeps one child's logins for the next.
    Command(Vec<String>),
    /// `[launcher]` with `run_as`: every session's apps run as another, unprivileged user with
    /// a throw-away profile that is wiped at sign-out (the native kiosk's `platform::apps`).
    Apps(AppsConfig),
}

/// `[launcher]`: apps as a separate user, a fresh profile per session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppsConfig {
    /// The browser: `{url}` is the one-time launch URL, `{profile}` the session's empty
    /// profile folder (also its HOME).
    pub command: Vec<String>,
    /// The user the apps run as; the session helper behind `socket` must run as this user
    /// (the kiosk refuses to launch when it does not).
    pub run_as: String,
    /// Where the session helper listens (`quickcard-apps.socket`).
    #[serde(default = "default_apps_socket")]
    pub socket: PathBuf,
    /// Where the helper makes each session's profile folder (owned by `run_as`, mode 0700).
    #[serde(default = "default_profile_root")]
    pub profile_root: PathBuf,
}

/// The socket `quickcard-apps.socket` listens on.
pub const DEFAULT_APPS_SOCKET: &str = "/run/quickcard-apps.sock";
/// The apps user's runtime folder (`RuntimeDirectory=quickcard-apps`).
pub const DEFAULT_PROFILE_ROOT: &str = "/run/quickcard-apps";

fn default_apps_socket() -> PathBuf {
    PathBuf::from(DEFAULT_APPS_SOCKET)
}
fn default_profile_root() -> PathBuf {
    PathBuf::from(DEFAULT_PROFILE_ROOT)
}

/// `launcher` as written: a list, or a table parsed on its own so that a misspelt key in it
/// is reported by name rather than as "did not match any variant".
#[derive(Deserialize)]
#[serde(untagged)]
enum RawLauncher {
    Command(Vec<String>),
    Table(toml::Table),
}

impl TryFrom<RawLauncher> for LauncherConfig {
    type Error = String;
    fn try_from(raw: RawLauncher) -> Result<LauncherConfig, String> {
        match raw {
            RawLauncher::Command(argv) => Ok(LauncherConfig::Command(argv)),
            RawLauncher::Table(t) => AppsConfig::deserialize(toml::Value::Table(t))
                .map(LauncherConfig::Apps)
                .map_err(|e| format!("[launcher]: {}", e.message())),
        }
    }
}

impl LauncherConfig {
    /// The command line, for messages.
    pub fn describe(&self) -> String {
        match self {
            LauncherConfig::Command(argv) => argv.join(" "),
            LauncherConfig::Apps(a) => format!(
                "{} (as {}, fresh profile in {} per session, via {})",
                a.command.join(" "),
                a.run_as,
                a.profile_root.display(),
                a.socket.display()
            ),
        }
    }

    fn check(&self) -> Result<(), String> {
        let argv = match self {
            LauncherConfig::Command(argv) => argv,
            LauncherConfig::Apps(a) => &a.command,
        };
        if argv.is_empty() || !argv.iter().any(|a| a.contains("{url}")) {
            return Err(
                "must be a command list with a \"{url}\" argument, e.g. [\"xdg-open\", \"{url}\"]"
                    .into(),
            );
        }
        if let LauncherConfig::Apps(a) = self {
            let name_ok = !a.run_as.is_empty()
                && a.run_as.len() <= 32
                && a.run_as
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !a.run_as.starts_with('-');
            if !name_ok {
                return Err(format!("run_as: {:?} is not a user name", a.run_as));
            }
            if a.run_as == "root" {
                return Err("run_as: apps must not run as root".into());
            }
            for (key, p) in [("socket", &a.socket), ("profile_root", &a.profile_root)] {
                if !p.is_absolute() {
                    return Err(format!("{key}: {} must be an absolute path", p.display()));
                }
            }
        }
        Ok(())
    }
}
fn default_camera() -> String {
    "0".into()
}

impl Config {
    /// A fresh config for a portal.
    pub fn new(portal_url: &str) -> Config {
        Config {
            portal_url: portal_url.trim_end_matches('/').to_string(),
            school_id: None,
            language: Lang::En,
            idle_timeout_secs: default_idle(),
            admin_pin_hash: None,
            launcher: default_launcher(),
            camera: default_camera(),
            sound: SoundConfig::default(),
            enrolment: None,
            trust: Vec::new(),
        }
    }

    /// Parses and checks config text (`path` is for messages).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: crate::config_keys::explain(&e.to_string(), text),
        })?;
        cfg.check(path)?;
        Ok(cfg)
    }

    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        };
        if let Err(e) = check_portal_url(&self.portal_url) {
            return Err(invalid("portal_url", e.to_string()));
        }
        if !(10..=86_400).contains(&self.idle_timeout_secs) {
            return Err(invalid(
                "idle_timeout_secs",
                format!(
                    "{} is out of range: use 10 to 86400 seconds",
                    self.idle_timeout_secs
                ),
            ));
        }
        if let Err(e) = self.launcher.check() {
            return Err(invalid("launcher", e));
        }
        if let Some(h) = &self.admin_pin_hash
            && !quickcard::util::is_pin_hash(h)
        {
            return Err(invalid(
                "admin_pin_hash",
                "is not a PHC hash string; make one with `quickcard-kiosk hash-pin`".into(),
            ));
        }
        if let Err(e) = quickcard::TrustList::new(self.trust.clone(), false) {
            return Err(invalid("trust", e.to_string()));
        }
        Ok(())
    }

    /// The config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// The credential file's path (relative paths resolved against the config's folder).
    pub fn credential_path(&self, config_path: &Path) -> Option<PathBuf> {
        let e = self.enrolment.as_ref()?;
        Some(if e.credential_file.is_absolute() {
            e.credential_file.clone()
        } else {
            config_path
                .parent()
                .unwrap_or(Path::new("."))
                .join(&e.credential_file)
        })
    }

    /// Reads the kiosk credential: from `$CREDENTIALS_DIRECTORY/credential` when systemd
    /// passed it in (`LoadCredential=` in quickcard-kiosk.service), else from the configured
    /// file.
    pub fn load_credential(&self, config_path: &Path) -> Result<Zeroizing<String>, ConfigError> {
        let dir = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        self.load_credential_from(dir.as_deref(), config_path)
            .map(|(cred, _)| cred)
    }

    /// [`Config::load_credential`] with the credentials directory given, and the file it came
    /// from. systemd's copy wins: it lives in memory that only this service (not the apps
    /// user, not another unit) can read, for as long as the service runs.
    pub fn load_credential_from(
        &self,
        credentials_dir: Option<&Path>,
        config_path: &Path,
    ) -> Result<(Zeroizing<String>, PathBuf), ConfigError> {
        let configured = self
            .credential_path(config_path)
            .ok_or(ConfigError::NotEnrolled)?;
        let path = credentials_dir
            .map(|d| d.join(CREDENTIAL_NAME))
            .filter(|p| p.is_file())
            .unwrap_or(configured);
        let text =
            Zeroizing::new(
                std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?,
            );
        let cred = Zeroizing::new(text.trim().to_string());
        if cred.is_empty() {
            return Err(ConfigError::NotEnrolled);
        }
        Ok((cred, path))
    }
}

/// The credential's id in `LoadCredential=credential:/etc/quickcard/kiosk/credential`.
pub const CREDENTIAL_NAME: &str = "credential";

/// Writes `text` to `path` with mode 0600, atomically (a temporary file, then a rename), so a
/// crash never leaves half a file.
pub fn write_private(path: &Path, text: &str) -> Result<(), ConfigError> {
    quickcard::util::replace_private(path, text.as_bytes()).map_err(|source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Hashes an admin PIN (Argon2id) for `admin_pin_hash`. `salt`: 16 random bytes (the caller
/// takes them from the operating system, so this module stays free of an RNG for the browser).
pub fn hash_pin(pin: &str, salt: &[u8; 16]) -> Result<String, String> {
    if pin.len() < 4 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the admin PIN must be at least 4 digits".into());
    }
    quickcard::util::hash_pin(pin, salt)
}

/// Checks a PIN against its hash (constant-time comparison inside argon2).
pub fn check_pin(hash: &str, pin: &str) -> bool {
    quickcard::util::check_pin(pin, hash)
}

/// The default config path: `$QUICKCARD_KIOSK_CONFIG`, else `$XDG_CONFIG_HOME/quickcard/kiosk.toml`
/// (or `~/.config/…`).
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("QUICKCARD_KIOSK_CONFIG") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("quickcard").join("kiosk.toml")
}

/// Stores an enrolment: the credential (0600) beside the config, and the config (0600, it
/// holds the admin PIN hash) with the kiosk id, school and trust list filled in. An existing
/// config keeps its other settings.
pub fn save_enrolment(
    config_path: &Path,
    portal_url: &str,
    reply: &crate::portal_client::EnrollReply,
) -> Result<Config, ConfigError> {
    let mut cfg = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::new(portal_url)
    };
    cfg.portal_url = portal_url.trim_end_matches('/').to_string();
    if !reply.school_id.is_empty() {
        cfg.school_id = Some(reply.school_id.clone());
    }
    let cred_name = PathBuf::from("credential");
    cfg.enrolment = Some(Enrolment {
        kiosk_id: reply.kiosk_id.clone(),
        credential_file: cred_name,
    });
    // Keys the portal sent are not pinned here: the kiosk refreshes them from the portal.
    cfg.check(config_path)?;
    let cred_path = cfg
        .credential_path(config_path)
        .ok_or(ConfigError::NotEnrolled)?;
    write_private(&cred_path, &format!("{}\n", reply.credential))?;
    write_private(config_path, &cfg.to_toml())?;
    Ok(cfg)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
