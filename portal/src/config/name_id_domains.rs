//! `[saml.name_id_domains]`: the e-mail domains a Google NameID may have, per school and role.
//!
//! The NameID picks the Google account the child is signed in to, and it comes from the
//! roster (or a rule). A roster row with a wrong e-mail — a pupil given a teacher's address, a
//! parent's private address — would otherwise sign the card's holder in to that account. With
//! this table a pupil's NameID can only be in the pupils' domain, a teacher's in the staff
//! domain, and so on.
//!
//! ```toml
//! [saml.name_id_domains]
//! "*" = { student = ["students.district.example"], "*" = ["district.example"] }
//! "sch-west" = { student = ["west.students.district.example"] }
//! ```
//!
//! The most specific entry decides: (school, role), (school, `*`), (`*`, role), (`*`, `*`).
//! Domains match exactly (ASCII case ignored): a subdomain needs its own entry. Without the
//! table every domain is accepted (`--check-config` says so).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// School id (or `*`) → role (or `*`) → allowed domains.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NameIdDomains(pub BTreeMap<String, BTreeMap<String, Vec<String>>>);

const ANY: &str = "*";
const ROLES: &[&str] = &["student", "teacher", "staff", "administrator", "parent"];

impl NameIdDomains {
    /// Whether the table is set (when it is not, every domain is accepted).
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// Checks the role names and the domains.
    pub fn validate(&self) -> Result<(), String> {
        for (school, roles) in &self.0 {
            for (role, domains) in roles {
                if role != ANY && !ROLES.contains(&role.as_str()) {
                    return Err(format!(
                        "saml.name_id_domains.{school}: unknown role {role:?} (one of {}, or \"*\")",
                        ROLES.join(", ")
                    ));
                }
                for d in domains {
                    let ok = d.contains('.')
                        && !d.starts_with('.')
                        && !d.ends_with('.')
                        && d.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
                    if !ok {
                        return Err(format!(
                            "saml.name_id_domains.{school}.{role}: {d:?} is not a domain like \
                             \"students.district.example\" (no @, no spaces)"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The domains allowed for `role` at `school` (`None`: the table does not allow any).
    fn allowed(&self, school: &str, role: &str) -> Option<&Vec<String>> {
        let of = |s: &str, r: &str| self.0.get(s).and_then(|roles| roles.get(r));
        of(school, role)
            .or_else(|| of(school, ANY))
            .or_else(|| of(ANY, role))
            .or_else(|| of(ANY, ANY))
    }

    /// Whether `name_id` may be the NameID of a `role` at `school`; the error says why not.
    pub fn check(&self, school: &str, role: &str, name_id: &str) -> Result<(), String> {
        if !self.is_set() {
            return Ok(());
        }
        let domain = name_id.rsplit_once('@').map_or("", |(_, d)| d);
        match self.allowed(school, role) {
            Some(list) if list.iter().any(|d| d.eq_ignore_ascii_case(domain)) => Ok(()),
            Some(list) => Err(format!(
                "the e-mail {name_id} is not in a domain allowed for a {role} of school {school} \
                 ({}; saml.name_id_domains): correct the roster's e-mail or the setting",
                list.join(", ")
            )),
            None => Err(format!(
                "saml.name_id_domains allows no e-mail domain for a {role} of school {school}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(toml_text: &str) -> NameIdDomains {
        toml::from_str::<BTreeMap<String, NameIdDomains>>(toml_text).unwrap()["t"].clone()
    }

    #[test]
    fn the_most_specific_entry_decides() {
        let t = table(
            r#"[t]
"*" = { student = ["students.d.example"], "*" = ["d.example"] }
"sch-west" = { student = ["west.d.example"] }
"sch-east" = { "*" = ["east.d.example"] }
"#,
        );
        t.validate().unwrap();
        assert!(
            t.check("sch-a", "student", "ana@students.d.example")
                .is_ok()
        );
        assert!(
            t.check("sch-a", "student", "ana@STUDENTS.D.example")
                .is_ok()
        );
        let e = t
            .check("sch-a", "student", "principal@d.example")
            .unwrap_err();
        assert!(e.contains("not in a domain allowed for a student"), "{e}");
        assert!(t.check("sch-a", "teacher", "kenji@d.example").is_ok());
        assert!(
            t.check("sch-a", "teacher", "kenji@students.d.example")
                .is_err()
        );
        assert!(t.check("sch-west", "student", "wes@west.d.example").is_ok());
        assert!(
            t.check("sch-west", "student", "wes@students.d.example")
                .is_err()
        );
        assert!(t.check("sch-west", "teacher", "t@d.example").is_ok());
        assert!(t.check("sch-east", "student", "s@east.d.example").is_ok());
        assert!(
            t.check("sch-east", "student", "s@students.d.example")
                .is_err()
        );
        // Exactly the domain: no subdomains, no look-alikes.
        assert!(t.check("sch-a", "teacher", "k@evil.d.example").is_err());
        assert!(t.check("sch-a", "teacher", "k@d.example.evil").is_err());
        assert!(t.check("sch-a", "teacher", "k@xd.example").is_err());
        assert!(t.check("sch-a", "teacher", "d.example").is_err());
        // Without the table, anything goes.
        assert!(
            NameIdDomains::default()
                .check("s", "student", "x@y.example")
                .is_ok()
        );
        // A table without a matching entry allows nothing.
        let only_west = table("[t]\nsch-west = { student = [\"w.d.example\"] }\n");
        let e = only_west
            .check("sch-a", "student", "a@w.d.example")
            .unwrap_err();
        assert!(e.contains("allows no e-mail domain"), "{e}");
    }

    #[test]
    fn bad_entries_are_named() {
        let e = table("[t]\nsch-a = { pupil = [\"d.example\"] }\n")
            .validate()
            .unwrap_err();
        assert!(e.contains("unknown role \"pupil\""), "{e}");
        let e = table("[t]\nsch-a = { student = [\"@d.example\"] }\n")
            .validate()
            .unwrap_err();
        assert!(e.contains("not a domain"), "{e}");
    }
}
