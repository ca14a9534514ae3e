//! What the identity provider is and which service providers it answers: the allow-list that
//! makes the ACS URL and the audience of every response come from configuration, never from the
//! request alone.

/// Configuration error: a value that would make the IdP unsafe or unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("the Google Workspace domain {0:?} is not a valid domain name")]
    BadDomain(String),
    #[error("the SSO profile id {0:?} is not valid (expected letters, digits, '-', '_', '.')")]
    BadRpid(String),
    #[error("the IdP entity id must be a non-empty URI without spaces")]
    BadEntityId,
    #[error("the sign-in URL {0:?} must be https:// (http:// only for 127.0.0.1/localhost tests)")]
    BadSsoUrl(String),
    #[error(
        "service provider {0:?}: entity id and ACS URL must be non-empty, without spaces; the ACS URL must be https://"
    )]
    BadServiceProvider(String),
    #[error("the allow-list is empty: no service provider could sign in")]
    EmptyAllowList,
    #[error(
        "response validity must be between 30 seconds and 10 minutes, skew at most 5 minutes, request age between 1 and 30 minutes"
    )]
    BadTiming,
}

/// One service provider we answer: its entity id (the `Issuer` of its requests and the
/// `Audience` of our assertions) and the one ACS URL responses may be posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProvider {
    entity_id: String,
    acs_url: String,
    /// `acs_url` parsed, to compare a request's ACS URL by its parts, never as a prefix.
    acs: url::Url,
}

impl ServiceProvider {
    /// A service provider; `acs_url` must be `https://` (or `http://` on loopback, for tests).
    pub fn new(entity_id: &str, acs_url: &str) -> Result<ServiceProvider, ConfigError> {
        let ok = |s: &str| !s.is_empty() && s.len() <= 1024 && !s.chars().any(char::is_whitespace);
        let acs = match parse_https_or_loopback(acs_url) {
            Some(u) if ok(entity_id) && ok(acs_url) => u,
            _ => return Err(ConfigError::BadServiceProvider(entity_id.to_owned())),
        };
        Ok(ServiceProvider {
            entity_id: entity_id.to_owned(),
            acs_url: acs_url.to_owned(),
            acs,
        })
    }

    /// Whether a request's `AssertionConsumerServiceURL` is this provider's ACS URL: both are
    /// parsed, and scheme, host, port, path and query must be the same, with no user info and
    /// no fragment. Spellings of the same URL (`HTTPS://WWW.Google.com:443/…`) are accepted;
    /// anything that only starts like it (`…/acs.evil.com`, `…/acs/../x`, `…/acs?x`,
    /// `https://www.google.com@evil.example/…`) is not.
    pub fn accepts_acs(&self, acs_url: &str) -> bool {
        let Ok(u) = url::Url::parse(acs_url) else {
            return false;
        };
        let a = &self.acs;
        u.scheme() == a.scheme()
            && u.username().is_empty()
            && u.password().is_none()
            && u.host_str().is_some()
            && u.host_str() == a.host_str()
            && u.port_or_known_default() == a.port_or_known_default()
            && u.path() == a.path()
            && u.query() == a.query()
            && u.fragment().is_none()
            && a.fragment().is_none()
    }

    /// The entity id (request `Issuer`, response `Audience`).
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The assertion consumer service URL (response `Destination` and `Recipient`).
    pub fn acs_url(&self) -> &str {
        &self.acs_url
    }
}

/// The service providers the IdP answers. A request is accepted only when its `Issuer` is one
/// of them and its ACS URL (when given) is that provider's ACS URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpAllowList {
    sps: Vec<ServiceProvider>,
}

impl SpAllowList {
    /// An explicit list (e.g. for a non-Google SP in tests).
    pub fn new(sps: Vec<ServiceProvider>) -> Result<SpAllowList, ConfigError> {
        if sps.is_empty() {
            return Err(ConfigError::EmptyAllowList);
        }
        Ok(SpAllowList { sps })
    }

    /// Google Workspace for `domain`:
    /// - the legacy SSO profile with a domain-specific issuer: entity `google.com/a/<domain>`,
    ///   ACS `https://www.google.com/a/<domain>/acs`;
    /// - one entry per SSO profile id (`rpid`) of the newer "SSO profiles": entity
    ///   `https://accounts.google.com/samlrp/metadata?rpid=<rpid>`, ACS
    ///   `https://accounts.google.com/samlrp/acs?rpid=<rpid>`.
    ///
    /// The legacy profile without "use a domain specific issuer" sends the bare issuer
    /// `google.com`, which would not tie the assertion to one domain: it is deliberately not
    /// allowed (the admin guide says to tick that box).
    pub fn google(domain: &str, sso_profile_rpids: &[&str]) -> Result<SpAllowList, ConfigError> {
        let domain = domain.trim().to_ascii_lowercase();
        if !is_domain(&domain) {
            return Err(ConfigError::BadDomain(domain));
        }
        let mut sps = vec![ServiceProvider::new(
            &format!("google.com/a/{domain}"),
            &format!("https://www.google.com/a/{domain}/acs"),
        )?];
        for rpid in sso_profile_rpids {
            let ok = !rpid.is_empty()
                && rpid.len() <= 128
                && rpid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return Err(ConfigError::BadRpid((*rpid).to_owned()));
            }
            sps.push(ServiceProvider::new(
                &format!("https://accounts.google.com/samlrp/metadata?rpid={rpid}"),
                &format!("https://accounts.google.com/samlrp/acs?rpid={rpid}"),
            )?);
        }
        SpAllowList::new(sps)
    }

    /// The allowed providers.
    pub fn providers(&self) -> &[ServiceProvider] {
        &self.sps
    }

    pub(crate) fn find(&self, entity_id: &str) -> Option<&ServiceProvider> {
        self.sps.iter().find(|sp| sp.entity_id == entity_id)
    }
}

/// The identity provider's own settings.
#[derive(Debug, Clone)]
pub struct IdpConfig {
    entity_id: String,
    sso_url: String,
    allow: SpAllowList,
    response_validity_secs: u64,
    clock_skew_secs: u64,
    request_max_age_secs: u64,
}

impl IdpConfig {
    /// `entity_id` is the IdP's entity id (the `Issuer` of responses; any URI, usually the
    /// metadata URL), `sso_url` the sign-in URL the SP redirects to (must be `https://`).
    pub fn new(
        entity_id: &str,
        sso_url: &str,
        allow: SpAllowList,
    ) -> Result<IdpConfig, ConfigError> {
        if entity_id.is_empty()
            || entity_id.len() > 1024
            || entity_id.chars().any(char::is_whitespace)
        {
            return Err(ConfigError::BadEntityId);
        }
        if sso_url.chars().any(char::is_whitespace) || parse_https_or_loopback(sso_url).is_none() {
            return Err(ConfigError::BadSsoUrl(sso_url.to_owned()));
        }
        Ok(IdpConfig {
            entity_id: entity_id.to_owned(),
            sso_url: sso_url.to_owned(),
            allow,
            response_validity_secs: 300,
            clock_skew_secs: 60,
            request_max_age_secs: 600,
        })
    }

    /// Changes the timing: `response_validity_secs` (30–600, default 300) is how long a
    /// response is valid (`NotOnOrAfter` − now); `clock_skew_secs` (≤ 300, default 60) how far
    /// `NotBefore` lies before now and how far in the future a request's `IssueInstant` may be;
    /// `request_max_age_secs` (60–1800, default 600) how old an `AuthnRequest` may be when it
    /// is answered — a child needs time to find the card, but an old request id must not stay
    /// answerable.
    pub fn with_timing(
        mut self,
        response_validity_secs: u64,
        clock_skew_secs: u64,
        request_max_age_secs: u64,
    ) -> Result<IdpConfig, ConfigError> {
        let ok = (30..=600).contains(&response_validity_secs)
            && clock_skew_secs <= 300
            && (60..=1800).contains(&request_max_age_secs);
        if !ok {
            return Err(ConfigError::BadTiming);
        }
        self.response_validity_secs = response_validity_secs;
        self.clock_skew_secs = clock_skew_secs;
        self.request_max_age_secs = request_max_age_secs;
        Ok(self)
    }

    /// Response validity in seconds.
    pub fn response_validity_secs(&self) -> u64 {
        self.response_validity_secs
    }

    /// Allowed clock skew in seconds.
    pub fn clock_skew_secs(&self) -> u64 {
        self.clock_skew_secs
    }

    /// Maximum request age in seconds.
    pub fn request_max_age_secs(&self) -> u64 {
        self.request_max_age_secs
    }

    /// The IdP entity id.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The sign-in (SingleSignOnService) URL.
    pub fn sso_url(&self) -> &str {
        &self.sso_url
    }

    /// The allowed service providers.
    pub fn allow_list(&self) -> &SpAllowList {
        &self.allow
    }
}

fn is_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The URL, when it is `https://` with a host, or `http://` on loopback (tests), without user
/// info or a fragment. Parsed, so that `http://localhost:80@evil.example/` is seen as a URL of
/// `evil.example` with user info, not as one of `localhost`.
fn parse_https_or_loopback(s: &str) -> Option<url::Url> {
    let u = url::Url::parse(s).ok()?;
    let host = u.host_str()?;
    let scheme_ok = match u.scheme() {
        "https" => true,
        "http" => matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
        _ => false,
    };
    (scheme_ok && u.username().is_empty() && u.password().is_none() && u.fragment().is_none())
        .then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_allow_list() {
        let a = SpAllowList::google("Example.EDU", &["abc123"]).unwrap();
        assert_eq!(a.providers()[0].entity_id(), "google.com/a/example.edu");
        assert_eq!(
            a.providers()[0].acs_url(),
            "https://www.google.com/a/example.edu/acs"
        );
        assert_eq!(
            a.providers()[1].acs_url(),
            "https://accounts.google.com/samlrp/acs?rpid=abc123"
        );
        assert!(a.find("google.com").is_none());
        assert!(matches!(
            SpAllowList::google("exa mple.edu", &[]),
            Err(ConfigError::BadDomain(_))
        ));
        assert!(matches!(
            SpAllowList::google("localhost", &[]),
            Err(ConfigError::BadDomain(_))
        ));
        assert!(matches!(
            SpAllowList::google("example.edu", &["a&b=c"]),
            Err(ConfigError::BadRpid(_))
        ));
    }

    #[test]
    fn acs_urls_are_compared_by_their_parts() {
        let a = SpAllowList::google("example.org", &["abc"]).unwrap();
        let (legacy, profile) = (&a.providers()[0], &a.providers()[1]);
        for same in [
            "https://www.google.com/a/example.org/acs",
            "https://www.google.com:443/a/example.org/acs",
            "HTTPS://WWW.GOOGLE.COM/a/example.org/acs",
        ] {
            assert!(legacy.accepts_acs(same), "{same}");
        }
        for other in [
            "https://www.google.com/a/example.org/acs.evil.com",
            "https://www.google.com/a/example.org/acs/../x",
            "https://www.google.com/a/example.org/acs/",
            "https://www.google.com/a/example.org/acs?x",
            "https://www.google.com/a/example.org/acs#x",
            "https://www.google.com/a/example.org/acsx",
            "https://www.google.com@evil.example/a/example.org/acs",
            "https://www.google.com:443@evil.example/a/example.org/acs",
            "https://user:pw@www.google.com/a/example.org/acs",
            "https://www.google.com.evil.example/a/example.org/acs",
            "https://www.google.com:8443/a/example.org/acs",
            "http://www.google.com/a/example.org/acs",
            "https://www.google.com/a/example.org/ACS",
            "https://www.google.com/a/example.org/%61cs",
            "//www.google.com/a/example.org/acs",
            "",
        ] {
            assert!(!legacy.accepts_acs(other), "{other}");
        }
        assert!(profile.accepts_acs("https://accounts.google.com/samlrp/acs?rpid=abc"));
        assert!(!profile.accepts_acs("https://accounts.google.com/samlrp/acs?rpid=abcd"));
        assert!(!profile.accepts_acs("https://accounts.google.com/samlrp/acs?rpid=abc&x=1"));
        assert!(!profile.accepts_acs("https://accounts.google.com/samlrp/acs"));
    }

    #[test]
    fn urls() {
        let a = SpAllowList::google("example.edu", &[]).unwrap();
        assert!(
            IdpConfig::new(
                "https://idp/x",
                "https://portal.example.edu/saml/sso",
                a.clone()
            )
            .is_ok()
        );
        assert!(
            IdpConfig::new("https://idp/x", "http://127.0.0.1:8080/saml/sso", a.clone()).is_ok()
        );
        assert!(matches!(
            IdpConfig::new("https://idp/x", "http://portal.example.edu/sso", a.clone()),
            Err(ConfigError::BadSsoUrl(_))
        ));
        assert!(matches!(
            IdpConfig::new("", "https://p/sso", a.clone()),
            Err(ConfigError::BadEntityId)
        ));
        assert!(ServiceProvider::new("sp", "http://evil.example/acs").is_err());
        // User info hides the real host: `localhost:80` is a user name here.
        assert!(ServiceProvider::new("sp", "http://localhost:80@evil.example/acs").is_err());
        assert!(ServiceProvider::new("sp", "http://127.0.0.1:1@evil.example/acs").is_err());
        assert!(ServiceProvider::new("sp", "https://u:p@sp.example/acs").is_err());
        assert!(ServiceProvider::new("sp", "https://").is_err());
        assert!(ServiceProvider::new("sp", "https://sp.example/acs#x").is_err());
        assert!(matches!(
            IdpConfig::new(
                "https://idp/x",
                "http://localhost:1@evil.example/sso",
                a.clone()
            ),
            Err(ConfigError::BadSsoUrl(_))
        ));
        let c = IdpConfig::new("https://idp/x", "https://p/sso", a).unwrap();
        assert_eq!(c.response_validity_secs(), 300);
        assert!(c.clone().with_timing(120, 30, 300).is_ok());
        assert_eq!(
            c.clone().with_timing(3600, 60, 600).unwrap_err(),
            ConfigError::BadTiming
        );
        assert_eq!(
            c.clone().with_timing(300, 600, 600).unwrap_err(),
            ConfigError::BadTiming
        );
        assert_eq!(
            c.with_timing(300, 60, 10).unwrap_err(),
            ConfigError::BadTiming
        );
    }
}
