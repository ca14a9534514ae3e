//! `Debug` for the portal's types that hold secrets (credentials, tokens, PINs and their
//! hashes, enrolment codes, ChromeOS passwords): those fields print as `[redacted]`, the rest
//! as usual. A derived `Debug` would put them into any log line or panic message that formats
//! the value with `{:?}`. The secrets' own types (`Secret`, the keys) redact themselves, and
//! so do the wire's request and reply bodies (`quickcard-api`); the tests here check both.

use std::fmt;

/// What a redacted field prints.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `impl Debug for Type { shown fields ; redacted fields }`.
macro_rules! redacted_debug {
    ($ty:ty, $name:literal { $($shown:ident),* ; $($hidden:ident),+ }) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct($name)
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), { let _ = &self.$hidden; &Redacted }))+
                    .finish()
            }
        }
    };
}

use crate::db::store::{ExchangeRead, Holder, Kiosk, NewSession, SessionView};

impl fmt::Debug for crate::config::Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            // The URL without its password.
            .field("database_url", &crate::db::redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field("public_url", &self.public_url)
            .field("trust", &self.trust)
            .field("session", &self.session)
            .field("lockout", &self.lockout)
            .field("rate_limit", &self.rate_limit)
            .field("kiosk", &self.kiosk)
            .field("admin", &self.admin)
            .field("policy", &self.policy)
            .field("apps", &self.apps)
            .field("web_dir", &self.web_dir)
            .field("saml", &self.saml)
            .finish_non_exhaustive()
    }
}

redacted_debug!(Kiosk, "Kiosk" {
    id, name, school_id, enrolled_at, disabled_at, last_seen_at, created_at;
    credential_hash
});
redacted_debug!(Holder, "Holder" {
    id, role, given_name, display_name, grades, in_school, revoked_before, locked_until;
    pin_hash
});
redacted_debug!(ExchangeRead<'_>, "ExchangeRead" { user_id; credential_hash });
redacted_debug!(NewSession<'_>, "NewSession" {
    user_id, kiosk_id, card_id, second_factor, now, expires_at;
    token_hash
});
redacted_debug!(SessionView, "SessionView" {
    user_id, kiosk_id, card_id, expires_at, ended_at, second_factor, role, given_name,
    display_name;
    token_hash
});
redacted_debug!(crate::http::api::LiveSession, "LiveSession" { kiosk, session; token });
redacted_debug!(crate::demo::Prepared, "Prepared" {
    state, kiosk_id, school_id, import;
    kiosk_credential, enrolment_code, admin_token
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secrets::Secret;
    use quickcard_api::{Avatar, EnrollReply, ExchangeRequest, SessionReply, SignInHandoff, User};

    const SECRET: &str = "s3cr3t-VALUE-that-must-not-print";

    fn hidden(what: &str, dbg: String) {
        assert!(!dbg.contains(SECRET), "{what} prints its secret: {dbg}");
        assert!(dbg.contains("[redacted]"), "{what}: {dbg}");
    }

    #[test]
    fn types_holding_secrets_print_them_redacted() {
        let s = || SECRET.to_string();
        let kiosk = Kiosk {
            id: "kio-1".into(),
            name: "LAB-1".into(),
            school_id: "sch".into(),
            credential_hash: Some(s()),
            enrolled_at: None,
            disabled_at: None,
            last_seen_at: None,
            created_at: 0,
        };
        hidden("Kiosk", format!("{kiosk:?}"));
        assert!(format!("{kiosk:?}").contains("LAB-1"), "other fields show");
        let holder = Holder {
            id: "stu-1".into(),
            role: quickcard::Role::Teacher,
            given_name: "A".into(),
            display_name: "A B".into(),
            grades: Vec::new(),
            in_school: true,
            revoked_before: None,
            locked_until: None,
            pin_hash: Some(s()),
        };
        hidden("Holder", format!("{holder:?}"));
        hidden(
            "ExchangeRead",
            format!(
                "{:?}",
                ExchangeRead {
                    credential_hash: SECRET,
                    user_id: None
                }
            ),
        );
        hidden(
            "NewSession",
            format!(
                "{:?}",
                NewSession {
                    token_hash: s(),
                    user_id: "u",
                    kiosk_id: "k",
                    card_id: "c",
                    second_factor: false,
                    now: 0,
                    expires_at: 0,
                }
            ),
        );
        let session = SessionView {
            token_hash: s(),
            user_id: "u".into(),
            kiosk_id: "k".into(),
            card_id: "c".into(),
            expires_at: 0,
            ended_at: None,
            second_factor: false,
            role: quickcard::Role::Student,
            given_name: "A".into(),
            display_name: "A B".into(),
        };
        hidden("SessionView", format!("{session:?}"));
        hidden(
            "LiveSession",
            format!(
                "{:?}",
                crate::http::api::LiveSession {
                    kiosk: kiosk.clone(),
                    session,
                    token: s(),
                }
            ),
        );
        hidden(
            "EnrollReply",
            format!(
                "{:?}",
                EnrollReply {
                    kiosk_id: "k".into(),
                    name: "n".into(),
                    credential: s(),
                    school_id: "s".into(),
                    trust: Vec::new(),
                }
            ),
        );
        hidden(
            "ExchangeRequest",
            format!(
                "{:?}",
                ExchangeRequest {
                    card: "QC:…".into(),
                    pin: Some(s()),
                }
            ),
        );
        let mut reply = SessionReply {
            token: s(),
            expires_at: 0,
            user: User {
                id: "u".into(),
                display_name: "A B".into(),
                given_name: "A".into(),
                role: quickcard::Role::Student,
                avatar: Avatar {
                    initial: "A".into(),
                    color: "#000".into(),
                },
            },
            apps: Vec::new(),
            second_factor_used: false,
            sign_in: None,
        };
        hidden("SessionReply", format!("{reply:?}"));
        let form = SignInHandoff {
            acs_url: "https://sp/acs".into(),
            saml_response: s(),
            relay_state: String::new(),
            email: "a@d.example".into(),
            password: s(),
        };
        hidden("SignInHandoff", format!("{form:?}"));
        reply.sign_in = Some(Box::new(form));
        hidden("SessionReply with its sign-in", format!("{reply:?}"));
        // The secrets' own types.
        let secret = Secret::token("qcs_");
        let dbg = format!("{secret:?}");
        assert!(
            !dbg.contains(&secret.expose()[4..]) && dbg.contains("[redacted]"),
            "{dbg}"
        );
        let key = crate::domain::chromeos_password::PasswordKey::from_bytes([0x42; 32]);
        let password = crate::domain::chromeos_password::chromeos_password(&key, "u", 0);
        let dbg = format!("{key:?} {password:?}");
        assert!(!dbg.contains(password.expose()), "{dbg}");
        assert!(!dbg.contains("QkJC"), "key bytes (0x42…) in base64: {dbg}");
        assert!(!dbg.contains("4242"), "key bytes in hex: {dbg}");
    }

    #[test]
    fn the_config_prints_the_database_url_without_its_password() {
        let c = crate::config::Config {
            database_url: format!("postgres://portal:{SECRET}@db.example/quickcard"),
            ..crate::config::Config::default()
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains(SECRET), "{dbg}");
        assert!(dbg.contains("db.example"), "{dbg}");
    }

    #[cfg(feature = "saml")]
    #[test]
    fn the_saml_signing_key_prints_redacted() {
        let key = quickcard_saml::IdpKey::generate("test", 1_700_000_000).unwrap();
        let dbg = format!("{key:?}");
        assert!(
            dbg.contains("[redacted]") && !dbg.contains("PRIVATE"),
            "{dbg}"
        );
        let idp = std::sync::Arc::new(key);
        let section = crate::config::idp::SamlConfig {
            generated_key: Some(idp),
            generated_password_key: Some(std::sync::Arc::new(
                crate::domain::chromeos_password::PasswordKey::from_bytes([0x42; 32]),
            )),
            ..crate::config::idp::SamlConfig::default()
        };
        let dbg = format!("{section:?}");
        assert!(!dbg.contains("QkJC") && !dbg.contains("4242"), "{dbg}");
    }
}
