//! The `[saml]` section of the config: the portal as the district's SAML identity provider for
//! Google Workspace, so that a child can sign in to a Chromebook with a card.
//!
//! The section is plain data (it parses in every build); the key, the certificate and the
//! SAML building blocks come from `quickcard-saml` and exist only with the `saml` cargo feature
//! (on by default; the kiosk's embedded demo portal builds without it). What the routes do
//! with it is in `http::signin`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Placeholders a NameID rule may use.
pub const RULE_PLACEHOLDERS: &[&str] = &["{sourced_id}", "{username}"];

/// `[saml]`: see `portal/README.md` for an annotated example.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamlConfig {
    /// The IdP entity id (the `Issuer` of every response). Default:
    /// `<public_url>/saml/metadata`.
    pub entity_id: Option<String>,
    /// The sign-in URL Google redirects to (the SSO profile's "sign-in page URL"). Default:
    /// `<public_url>/saml/sso`. Must be `https://` (plain `http://` only on loopback).
    pub sso_url: Option<String>,
    /// The IdP's private key (PKCS#8 PEM, mode 0600) and certificate, from
    /// `quickcard-portal saml keygen`.
    pub key_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    /// The key ChromeOS passwords are derived from (mode 0600), from
    /// `quickcard-portal chromeos-password keygen`. Replacing it changes every child's
    /// ChromeOS password (see `portal/README.md`).
    pub chromeos_password_key_file: Option<PathBuf>,
    /// The Google Workspace primary domain: allows the legacy SSO profile with a
    /// domain-specific issuer (`google.com/a/<domain>`).
    pub google_domain: Option<String>,
    /// SSO profile ids (`rpid`s of Google's "SSO profiles"); needs `google_domain`.
    pub sso_profile_rpids: Vec<String>,
    /// Further service providers (entity id + ACS URL), e.g. a test SP.
    pub service_providers: Vec<ServiceProviderEntry>,
    /// How long a response is valid (30–600 s).
    pub response_validity_secs: u64,
    /// Clock difference allowed to the service provider (≤ 300 s).
    pub clock_skew_secs: u64,
    /// How long an `AuthnRequest` may be answered after it was issued (60–1800 s): the time a
    /// child has to find the card and show it.
    pub request_max_age_secs: u64,
    /// School ids whose cards may sign in here; every school on the roster when empty.
    pub schools: Vec<String>,
    /// Use the roster's `email` column as the Google e-mail when the user has one.
    pub use_roster_email: bool,
    /// The Google e-mail of users without a roster e-mail (or of everyone when
    /// `use_roster_email = false`), e.g. `"{username}@students.district.example"`.
    /// Placeholders: `{sourced_id}`, `{username}`.
    pub name_id_rule: Option<String>,
    /// Per-school rules (school id → rule), used before `name_id_rule`.
    pub name_id_rules: BTreeMap<String, String>,
    /// The e-mail domains a NameID may have, per school and role (see
    /// [`crate::config::name_id_domains`]); every domain when empty.
    pub name_id_domains: crate::config::name_id_domains::NameIdDomains,
    /// The header that carries the client's address when the portal is behind a reverse proxy
    /// (e.g. `"X-Forwarded-For"`; its last entry is used). Unset: the TCP peer address.
    pub client_ip_header: Option<String>,
    /// Requests (sign-in starts, config reads and card exchanges together) one client address
    /// may make per `rate_limit.window_secs`. A school's Chromebooks often share one address,
    /// so this is generous; each card and each user's PIN have their own limits.
    pub ip_max: u64,
    /// Chrome Verified Access: only the district's attested Chromebooks sign in (see
    /// [`crate::domain::device_binding`]).
    pub verified_access: Option<crate::domain::device_binding::VerifiedAccessConfig>,
    /// Each school's egress address ranges (school id → CIDR list): a sign-in starts only
    /// from one of them, and a card signs in only from its own school's.
    pub networks: BTreeMap<String, Vec<String>>,
    /// With neither of the two above, the sign-in path refuses to load unless this says
    /// that the risk (a photo of a card signs its child in from anywhere) is accepted.
    pub accept_unbound_signin_risk: bool,
    /// Also take kiosks' cards only from their school's `networks` (schools without ranges
    /// then have no working kiosks).
    pub networks_apply_to_kiosks: bool,
    /// A key made in memory (the demo); not part of the file.
    #[cfg(feature = "saml")]
    #[serde(skip)]
    pub generated_key: Option<std::sync::Arc<quickcard_saml::IdpKey>>,
    /// A ChromeOS password key made in memory (the demo); not part of the file.
    #[serde(skip)]
    pub generated_password_key:
        Option<std::sync::Arc<crate::domain::chromeos_password::PasswordKey>>,
}

impl Default for SamlConfig {
    fn default() -> Self {
        SamlConfig {
            entity_id: None,
            sso_url: None,
            key_file: None,
            cert_file: None,
            chromeos_password_key_file: None,
            google_domain: None,
            sso_profile_rpids: Vec::new(),
            service_providers: Vec::new(),
            response_validity_secs: 300,
            clock_skew_secs: 60,
            request_max_age_secs: 600,
            schools: Vec::new(),
            use_roster_email: true,
            name_id_rule: None,
            name_id_rules: BTreeMap::new(),
            name_id_domains: Default::default(),
            client_ip_header: None,
            ip_max: 1200,
            verified_access: None,
            networks: BTreeMap::new(),
            accept_unbound_signin_risk: false,
            networks_apply_to_kiosks: false,
            #[cfg(feature = "saml")]
            generated_key: None,
            generated_password_key: None,
        }
    }
}

/// One allowed service provider.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServiceProviderEntry {
    pub entity_id: String,
    pub acs_url: String,
}

/// Why a user has no Google e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoGoogleAccount(pub String);

impl SamlConfig {
    /// Checks what can be checked without files (keys are checked when loaded).
    pub fn validate(&self) -> Result<(), String> {
        if self.key_file.is_some() != self.cert_file.is_some() {
            return Err(
                "saml: set both key_file and cert_file (quickcard-portal saml keygen makes them)"
                    .into(),
            );
        }
        if !self.sso_profile_rpids.is_empty() && self.google_domain.is_none() {
            return Err("saml: sso_profile_rpids needs google_domain".into());
        }
        if self.google_domain.is_none() && self.service_providers.is_empty() {
            return Err(
                "saml: no service provider: set google_domain (and sso_profile_rpids) or add [[saml.service_providers]]".into(),
            );
        }
        if self.ip_max == 0 {
            return Err("saml.ip_max must be at least 1".into());
        }
        for rule in self.name_id_rule.iter().chain(self.name_id_rules.values()) {
            check_rule(rule)?;
        }
        self.name_id_domains.validate()?;
        self.binding()?;
        Ok(())
    }

    /// What the sign-in path is bound to; an error when it is bound to nothing and the risk
    /// was not accepted.
    pub fn binding(&self) -> Result<crate::domain::device_binding::Binding, String> {
        let networks = crate::domain::device_binding::Networks::parse(&self.networks)?;
        if let Some(va) = &self.verified_access
            && va.customer_id.trim().is_empty()
        {
            return Err(
                "saml.verified_access.customer_id is empty (Admin console → Account \
                        settings → Customer ID)"
                    .into(),
            );
        }
        crate::domain::device_binding::Binding::check(
            self.verified_access.is_some(),
            !networks.is_empty(),
            self.accept_unbound_signin_risk,
        )
    }

    /// The Google e-mail (`NameID`) of a `role` at `school`: the roster e-mail when allowed and
    /// present, else the school's rule, else the default rule; refused when its domain is not
    /// one `name_id_domains` allows for that school and role.
    pub fn name_id(
        &self,
        school: &str,
        role: quickcard::Role,
        user_id: &str,
        email: Option<&str>,
        username: Option<&str>,
    ) -> Result<String, NoGoogleAccount> {
        let name_id = self.unchecked_name_id(school, user_id, email, username)?;
        self.name_id_domains
            .check(school, role.as_str(), &name_id)
            .map_err(NoGoogleAccount)?;
        Ok(name_id)
    }

    fn unchecked_name_id(
        &self,
        school: &str,
        user_id: &str,
        email: Option<&str>,
        username: Option<&str>,
    ) -> Result<String, NoGoogleAccount> {
        if self.use_roster_email
            && let Some(e) = email.map(str::trim).filter(|e| !e.is_empty())
        {
            return Ok(e.to_string());
        }
        let Some(rule) = self
            .name_id_rules
            .get(school)
            .or(self.name_id_rule.as_ref())
        else {
            return Err(NoGoogleAccount(if self.use_roster_email {
                format!("no e-mail on the roster and no saml.name_id_rule for school {school}")
            } else {
                format!("no saml.name_id_rule for school {school}")
            }));
        };
        let mut out = rule.clone();
        if out.contains("{username}") {
            let Some(u) = username.map(str::trim).filter(|u| !u.is_empty()) else {
                return Err(NoGoogleAccount(format!(
                    "the rule {rule:?} needs a username, and the roster has none for this user"
                )));
            };
            out = out.replace("{username}", u);
        }
        Ok(out.replace("{sourced_id}", user_id))
    }
}

fn check_rule(rule: &str) -> Result<(), String> {
    let mut rest = rule.to_string();
    let mut used = false;
    for p in RULE_PLACEHOLDERS {
        if rest.contains(p) {
            used = true;
            rest = rest.replace(p, "x");
        }
    }
    let ok = used
        && !rest.contains(['{', '}'])
        && rest.matches('@').count() == 1
        && rest.split('@').nth(1).is_some_and(|d| d.contains('.'))
        && !rest.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "saml: the NameID rule {rule:?} must be like \"{{username}}@students.district.example\" \
             (placeholders {{sourced_id}}, {{username}}; one @, a dotted domain)"
        ))
    }
}

/// The demo portal as the IdP of one service provider (`demo::DemoOptions::saml`,
/// `serve --demo --saml-sp-entity ID --saml-acs URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSaml {
    /// The SP's entity id (the `Issuer` of its requests, the `Audience` of our responses).
    pub sp_entity_id: String,
    /// The SP's ACS URL (`https://`, or `http://` on loopback).
    pub acs_url: String,
}

/// Gives `config` a `[saml]` section for `demo` (a key made in memory now, NameIDs from the
/// roster e-mail or `<sourced_id>@demo.quickcard.example`).
pub fn apply_demo(
    config: &mut crate::config::Config,
    demo: Option<&DemoSaml>,
    now: u64,
) -> Result<(), crate::PortalError> {
    let Some(d) = demo else { return Ok(()) };
    #[cfg(feature = "saml")]
    {
        config.saml = Some(demo_section(&d.sp_entity_id, &d.acs_url, now)?);
        Ok(())
    }
    #[cfg(not(feature = "saml"))]
    {
        let _ = (config, d, now);
        Err(crate::PortalError::Invalid(
            "this portal was built without the `saml` feature: no Chromebook sign-in".into(),
        ))
    }
}

#[cfg(feature = "saml")]
pub use loaded::*;

#[cfg(feature = "saml")]
mod loaded {
    use std::sync::Arc;

    use quickcard_saml::{IdpConfig, IdpKey, ServiceProvider, SpAllowList};

    use super::SamlConfig;
    use crate::config::{Config, ConfigError};
    use crate::domain::chromeos_password::PasswordKey;

    /// The identity provider in force: checked settings, the key, and the section it came from.
    #[derive(Debug)]
    pub struct Idp {
        pub idp: IdpConfig,
        pub key: Arc<IdpKey>,
        /// What ChromeOS passwords are derived from ([`crate::domain::chromeos_password`]).
        pub password_key: Arc<PasswordKey>,
        pub settings: SamlConfig,
        /// The schools' network ranges (empty: not bound to networks).
        pub networks: crate::domain::device_binding::Networks,
        /// Chrome Verified Access, when configured.
        pub attest: Option<Arc<crate::domain::verified_access::VerifiedAccess>>,
        pub binding: crate::domain::device_binding::Binding,
    }

    impl Idp {
        /// The IdP of `config`, when it has a `[saml]` section: loads the key and certificate
        /// (checking the key file's mode), and builds the allow-list.
        pub fn load(config: &Config) -> Result<Option<Idp>, ConfigError> {
            let Some(s) = &config.saml else {
                return Ok(None);
            };
            let bad = |m: String| ConfigError::Invalid(format!("saml: {m}"));
            s.validate().map_err(ConfigError::Invalid)?;
            let base = config.public_base();
            let entity_id = s
                .entity_id
                .clone()
                .unwrap_or_else(|| format!("{base}/saml/metadata"));
            let sso_url = s
                .sso_url
                .clone()
                .unwrap_or_else(|| format!("{base}/saml/sso"));
            let mut sps: Vec<ServiceProvider> = Vec::new();
            if let Some(domain) = &s.google_domain {
                let rpids: Vec<&str> = s.sso_profile_rpids.iter().map(String::as_str).collect();
                let google = SpAllowList::google(domain, &rpids).map_err(|e| bad(e.to_string()))?;
                sps.extend(google.providers().iter().cloned());
            }
            for sp in &s.service_providers {
                sps.push(
                    ServiceProvider::new(&sp.entity_id, &sp.acs_url)
                        .map_err(|e| bad(e.to_string()))?,
                );
            }
            let allow = SpAllowList::new(sps).map_err(|e| bad(e.to_string()))?;
            let idp = IdpConfig::new(&entity_id, &sso_url, allow)
                .and_then(|c| {
                    c.with_timing(
                        s.response_validity_secs,
                        s.clock_skew_secs,
                        s.request_max_age_secs,
                    )
                })
                .map_err(|e| {
                    bad(format!(
                        "{e} (entity_id {entity_id:?}, sso_url {sso_url:?}; set public_url to the portal's https:// address)"
                    ))
                })?;
            // Keys in the service's writable state directory are refused (see key_location).
            let state_dirs = crate::config::key_location::writable_state_dirs(
                &config.database_url,
                std::env::var("STATE_DIRECTORY").ok().as_deref(),
            );
            for (setting, file) in [
                ("saml.key_file", &s.key_file),
                (
                    "saml.chromeos_password_key_file",
                    &s.chromeos_password_key_file,
                ),
            ] {
                if let Some(f) = file {
                    crate::config::key_location::check_outside(setting, f, &state_dirs)
                        .map_err(ConfigError::Invalid)?;
                }
            }
            let key = match (&s.generated_key, &s.key_file, &s.cert_file) {
                (Some(k), _, _) => k.clone(),
                (None, Some(k), Some(c)) => {
                    Arc::new(IdpKey::load(k, c).map_err(|e| bad(e.to_string()))?)
                }
                _ => {
                    return Err(bad(
                        "key_file and cert_file are required; make them with `quickcard-portal saml keygen --key PATH --cert PATH`".into(),
                    ));
                }
            };
            let binding = s.binding().map_err(ConfigError::Invalid)?;
            let networks = crate::domain::device_binding::Networks::parse(&s.networks)
                .map_err(ConfigError::Invalid)?;
            let attest = match &s.verified_access {
                Some(va) => Some(Arc::new(
                    crate::domain::verified_access::VerifiedAccess::load(
                        va,
                        s.google_domain.as_deref(),
                    )
                    .map_err(|e| bad(format!("verified_access: {e}")))?,
                )),
                None => None,
            };
            let password_key = match (&s.generated_password_key, &s.chromeos_password_key_file) {
                (Some(k), _) => k.clone(),
                (None, Some(p)) => Arc::new(PasswordKey::load(p).map_err(|e| bad(e.to_string()))?),
                (None, None) => {
                    return Err(bad(
                        "chromeos_password_key_file is required (ChromeOS passwords are derived from it); \
                         make it with `quickcard-portal chromeos-password keygen --key PATH`".into(),
                    ));
                }
            };
            Ok(Some(Idp {
                idp,
                key,
                password_key,
                settings: s.clone(),
                networks,
                attest,
                binding,
            }))
        }
    }

    /// A `[saml]` section for the demo: one service provider, a fresh key made in memory, and
    /// NameIDs from the roster e-mail or `<sourced_id>@demo.quickcard.example`.
    pub fn demo_section(
        sp_entity_id: &str,
        acs_url: &str,
        now: u64,
    ) -> Result<SamlConfig, crate::PortalError> {
        let key = IdpKey::generate("QuickCard DEMO SAML IdP", now.saturating_sub(3600))
            .map_err(|e| crate::PortalError::Invalid(format!("demo SAML key: {e}")))?;
        Ok(SamlConfig {
            service_providers: vec![super::ServiceProviderEntry {
                entity_id: sp_entity_id.to_string(),
                acs_url: acs_url.to_string(),
            }],
            name_id_rule: Some(DEMO_NAME_ID_RULE.to_string()),
            generated_key: Some(Arc::new(key)),
            generated_password_key: Some(Arc::new(PasswordKey::generate())),
            // The demo listens on loopback only, with demo cards anyone can print.
            accept_unbound_signin_risk: true,
            ..SamlConfig::default()
        })
    }

    /// The demo's NameID rule for users without a roster e-mail.
    pub const DEMO_NAME_ID_RULE: &str = "{sourced_id}@demo.quickcard.example";
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcard::Role;

    #[test]
    fn name_ids_only_in_the_domains_of_their_school_and_role() {
        let mut s = SamlConfig {
            name_id_rule: Some("{sourced_id}@students.d.example".into()),
            ..SamlConfig::default()
        };
        s.name_id_domains.0.insert(
            "*".into(),
            [
                (
                    "student".to_string(),
                    vec!["students.d.example".to_string()],
                ),
                ("teacher".to_string(), vec!["d.example".to_string()]),
            ]
            .into(),
        );
        assert!(s.validate().unwrap_err().contains("service provider"));
        assert_eq!(
            s.name_id("sch-a", Role::Student, "stu-1", None, None),
            Ok("stu-1@students.d.example".into())
        );
        // A pupil whose roster row holds the principal's address is not signed in as them.
        let e = s
            .name_id(
                "sch-a",
                Role::Student,
                "stu-1",
                Some("principal@d.example"),
                None,
            )
            .unwrap_err();
        assert!(
            e.0.contains("not in a domain allowed for a student"),
            "{e:?}"
        );
        assert!(
            s.name_id(
                "sch-a",
                Role::Teacher,
                "tch-1",
                Some("kenji@d.example"),
                None
            )
            .is_ok()
        );
        assert!(
            s.name_id(
                "sch-a",
                Role::Parent,
                "par-1",
                Some("ana@mail.example"),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn name_id_rules() {
        let mut s = SamlConfig {
            name_id_rule: Some("{username}@students.d.example".into()),
            ..SamlConfig::default()
        };
        s.name_id_rules
            .insert("sch-west".into(), "{sourced_id}@west.d.example".into());
        assert_eq!(
            s.name_id("sch-a", Role::Student, "stu-1", Some("Ana@d.example"), None),
            Ok("Ana@d.example".into())
        );
        assert_eq!(
            s.name_id("sch-a", Role::Student, "stu-1", None, Some("ana.l")),
            Ok("ana.l@students.d.example".into())
        );
        assert!(
            s.name_id("sch-a", Role::Student, "stu-1", None, None)
                .is_err()
        );
        assert_eq!(
            s.name_id("sch-west", Role::Student, "stu-1", Some(" "), None),
            Ok("stu-1@west.d.example".into())
        );
        s.use_roster_email = false;
        assert_eq!(
            s.name_id(
                "sch-west",
                Role::Student,
                "stu-1",
                Some("Ana@d.example"),
                None
            ),
            Ok("stu-1@west.d.example".into())
        );
        s.name_id_rule = None;
        assert!(
            s.name_id("sch-a", Role::Student, "stu-1", Some("a@d.example"), None)
                .is_err()
        );
    }

    #[test]
    fn rules_are_checked() {
        assert!(check_rule("{username}@students.d.example").is_ok());
        assert!(check_rule("{sourced_id}@d.example").is_ok());
        assert!(check_rule("fixed@d.example").is_err());
        assert!(check_rule("{user}@d.example").is_err());
        assert!(check_rule("{username}@d").is_err());
        assert!(check_rule("{username}@a@d.example").is_err());
        let s = SamlConfig {
            google_domain: None,
            ..SamlConfig::default()
        };
        assert!(s.validate().unwrap_err().contains("service provider"));
        let s = SamlConfig {
            google_domain: Some("d.example".into()),
            ..SamlConfig::default()
        };
        assert!(s.validate().unwrap_err().contains("bound to nothing"));
        let s = SamlConfig {
            google_domain: Some("d.example".into()),
            key_file: Some("k".into()),
            ..SamlConfig::default()
        };
        assert!(s.validate().unwrap_err().contains("cert_file"));
    }
}
