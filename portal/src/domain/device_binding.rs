//! Binding the Chromebook sign-in to the district's own devices and networks.
//!
//! Google does not sign its `AuthnRequest`s, so anyone can start a sign-in for a district
//! address from anywhere. Without a binding, someone at home holding a photo of a card would
//! get back the signed response for the child's Google account. Two controls stop that, and a
//! district should use both:
//!
//! - **Chrome Verified Access** ([`crate::domain::verified_access`]): the portal challenges the
//!   Chromebook on its sign-in screen, and Google confirms that the answer was signed by a
//!   device enrolled in the district's Google customer account. The device id goes into the
//!   audit, and only an attested sign-in receives the child's ChromeOS password.
//! - **Network ranges per school** (`[saml.networks]`): the school's egress addresses. A
//!   sign-in starts only from one of them, and a card only signs in from its own school's.
//!
//! With neither, the portal refuses to load the sign-in path unless
//! `saml.accept_unbound_signin_risk = true` says that someone decided to take the risk.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// `[saml.verified_access]`: how the portal reaches Google's Verified Access API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VerifiedAccessConfig {
    /// The district's Google customer id (Admin console → Account settings, e.g. `C01abcdef`).
    /// A device of any other customer is refused.
    pub customer_id: String,
    /// A Google Cloud service account key (JSON) with the Verified Access API enabled, mode
    /// 0600. It is read at start-up; the private key never leaves the portal.
    pub service_account_key_file: std::path::PathBuf,
    /// The enrolled domain the device must belong to (Google checks it: `expectedIdentity`).
    /// Default: `saml.google_domain`.
    pub expected_identity: Option<String>,
    /// The API's base address (tests point it at a local stand-in for Google).
    #[serde(default = "default_api_url")]
    pub api_url: String,
}

fn default_api_url() -> String {
    "https://verifiedaccess.googleapis.com".into()
}

/// The network ranges of each school (school id → CIDR ranges), checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Networks {
    by_school: BTreeMap<String, Vec<IpNet>>,
}

impl Networks {
    /// Parses `[saml.networks]`; the error names the school and the range that is wrong.
    pub fn parse(raw: &BTreeMap<String, Vec<String>>) -> Result<Networks, String> {
        let mut by_school = BTreeMap::new();
        for (school, ranges) in raw {
            if ranges.is_empty() {
                return Err(format!(
                    "saml.networks: school {school:?} has no range (remove the school, or list \
                     its egress addresses like \"203.0.113.0/24\")"
                ));
            }
            let mut nets = Vec::new();
            for r in ranges {
                let net = r
                    .parse::<IpNet>()
                    .or_else(|_| r.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "saml.networks: {r:?} of school {school:?} is not an address range \
                             (write it like \"203.0.113.0/24\" or \"2001:db8:12::/48\")"
                        )
                    })?;
                if net.prefix_len() == 0 {
                    return Err(format!(
                        "saml.networks: {r:?} of school {school:?} is every address on the \
                         Internet, which binds nothing"
                    ));
                }
                nets.push(net.trunc());
            }
            by_school.insert(school.clone(), nets);
        }
        Ok(Networks { by_school })
    }

    pub fn is_empty(&self) -> bool {
        self.by_school.is_empty()
    }

    /// True when `addr` lies in one of `school`'s ranges.
    pub fn allows(&self, school: &str, addr: &str) -> bool {
        let Some(ip) = parse_addr(addr) else {
            return false;
        };
        self.by_school
            .get(school)
            .is_some_and(|nets| nets.iter().any(|n| n.contains(&ip)))
    }

    /// The schools whose ranges hold `addr`.
    pub fn schools_of(&self, addr: &str) -> Vec<&str> {
        let Some(ip) = parse_addr(addr) else {
            return Vec::new();
        };
        self.by_school
            .iter()
            .filter(|(_, nets)| nets.iter().any(|n| n.contains(&ip)))
            .map(|(s, _)| s.as_str())
            .collect()
    }
}

/// An address as the portal sees it, with IPv4-mapped IPv6 addresses as IPv4.
fn parse_addr(addr: &str) -> Option<IpAddr> {
    addr.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// What the sign-in path is bound to; [`Binding::check`] refuses a config that binds it to
/// nothing without saying so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Attestation and/or networks are configured.
    Bound { attestation: bool, networks: bool },
    /// Neither, and `accept_unbound_signin_risk = true`.
    RiskAccepted,
}

impl Binding {
    pub fn check(
        attestation: bool,
        networks: bool,
        risk_accepted: bool,
    ) -> Result<Binding, String> {
        if attestation || networks {
            Ok(Binding::Bound {
                attestation,
                networks,
            })
        } else if risk_accepted {
            Ok(Binding::RiskAccepted)
        } else {
            Err(UNBOUND.into())
        }
    }

    /// The `--check-config` line about it.
    pub fn describe(&self) -> String {
        match self {
            Binding::Bound {
                attestation: true,
                networks: true,
            } => "Chromebook sign-in: bound to attested district Chromebooks on school networks"
                .into(),
            Binding::Bound {
                attestation: true,
                networks: false,
            } => "Chromebook sign-in: bound to attested district Chromebooks (no network ranges: \
                  consider [saml.networks] as well)"
                .into(),
            Binding::Bound {
                attestation: false, ..
            } => "WARNING: Chromebook sign-in is bound to school networks only: without Verified \
                  Access ([saml.verified_access]) any device on a school network can sign in \
                  with a photo of a card, and no ChromeOS password is handed out"
                .into(),
            Binding::RiskAccepted => "WARNING: Chromebook sign-in is bound to nothing \
                 (accept_unbound_signin_risk = true): a photo of a card signs its child in to \
                 Google from anywhere. Configure [saml.verified_access] and [saml.networks]."
                .into(),
        }
    }
}

const UNBOUND: &str = "saml: the Chromebook sign-in is bound to nothing: anyone with a photo of a \
     card could sign its child in from anywhere. Configure Chrome Verified Access \
     ([saml.verified_access]) and/or the schools' network ranges ([saml.networks]); see \
     docs/chromebook-admin.md. Only if you accept that risk (a test domain, say), set \
     saml.accept_unbound_signin_risk = true";

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(pairs: &[(&str, &[&str])]) -> Result<Networks, String> {
        Networks::parse(
            &pairs
                .iter()
                .map(|(s, r)| (s.to_string(), r.iter().map(|x| x.to_string()).collect()))
                .collect(),
        )
    }

    #[test]
    fn addresses_match_their_schools_ranges_only() {
        let n = nets(&[
            ("north", &["203.0.113.0/24", "2001:db8:12::/48"]),
            ("south", &["198.51.100.7"]),
        ])
        .unwrap();
        assert!(n.allows("north", "203.0.113.200"));
        assert!(n.allows("north", "::ffff:203.0.113.9"));
        assert!(n.allows("north", "2001:db8:12:ff::1"));
        assert!(!n.allows("north", "203.0.114.1"));
        assert!(!n.allows("south", "203.0.113.200"));
        assert!(n.allows("south", "198.51.100.7"));
        assert!(!n.allows("south", "198.51.100.8"));
        assert!(!n.allows("east", "203.0.113.200"));
        assert!(!n.allows("north", "unknown"));
        assert_eq!(n.schools_of("198.51.100.7"), vec!["south"]);
        assert!(n.schools_of("192.0.2.1").is_empty());
    }

    #[test]
    fn bad_ranges_are_refused_with_the_school_named() {
        let e = nets(&[("north", &["203.0.113.0/33"])]).unwrap_err();
        assert!(e.contains("north") && e.contains("203.0.113.0/33"), "{e}");
        let e = nets(&[("north", &["0.0.0.0/0"])]).unwrap_err();
        assert!(e.contains("every address"), "{e}");
        let e = nets(&[("north", &[])]).unwrap_err();
        assert!(e.contains("no range"), "{e}");
    }

    #[test]
    fn an_unbound_sign_in_needs_the_risk_accepted() {
        let e = Binding::check(false, false, false).unwrap_err();
        assert!(e.contains("accept_unbound_signin_risk"), "{e}");
        assert_eq!(
            Binding::check(false, false, true).unwrap(),
            Binding::RiskAccepted
        );
        assert!(Binding::RiskAccepted.describe().starts_with("WARNING"));
        assert!(
            Binding::check(false, true, false)
                .unwrap()
                .describe()
                .starts_with("WARNING")
        );
        assert!(
            !Binding::check(true, true, false)
                .unwrap()
                .describe()
                .contains("WARNING")
        );
    }
}
