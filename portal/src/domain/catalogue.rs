//! The app catalogue: which tiles a user sees after signing in, and where each one leads.
//!
//! Apps come from the config file (`[[apps]]`); without any, the portal uses the examples
//! below so a fresh install and the demo show a realistic dashboard.

use quickcard::Role;
use serde::{Deserialize, Serialize};

/// One app tile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Stable id used in the API (`/v1/session/apps/{id}/launch`).
    pub id: String,
    pub name: String,
    /// An icon name the kiosk knows (`assets/icons/NAME.png`) or an https URL.
    pub icon: String,
    /// Tile colour, `#RRGGBB`.
    #[serde(default = "default_color")]
    pub color: String,
    /// Where a launch sends the browser (after the one-time launch URL is redeemed).
    pub launch_url: String,
    /// Roles that see the app.
    pub roles: Vec<Role>,
    /// When not empty, only users of these schools see the app.
    #[serde(default)]
    pub schools: Vec<String>,
}

fn default_color() -> String {
    "#3366CC".into()
}

impl App {
    /// Whether a user with `role` in any of `schools` sees this app.
    pub fn visible_to(&self, role: Role, schools: &[String]) -> bool {
        self.roles.contains(&role)
            && (self.schools.is_empty() || self.schools.iter().any(|s| schools.contains(s)))
    }
}

fn app(id: &str, name: &str, color: &str, url: &str, roles: &[Role]) -> App {
    App {
        id: id.into(),
        name: name.into(),
        icon: id.into(),
        color: color.into(),
        launch_url: url.into(),
        roles: roles.to_vec(),
        schools: Vec::new(),
    }
}

/// The example catalogue: Schoology, Skyward, Clever, Flipgrid, Nearpod, iStation.
pub fn default_apps() -> Vec<App> {
    use Role::*;
    vec![
        app(
            "clever",
            "Clever",
            "#1464FF",
            "https://clever.com/in/",
            &[Student, Teacher, Staff, Administrator],
        ),
        app(
            "schoology",
            "Schoology",
            "#0677BA",
            "https://app.schoology.com/home",
            &[Student, Teacher, Administrator],
        ),
        app(
            "istation",
            "Istation",
            "#F26522",
            "https://secure.istation.com/",
            &[Student, Teacher],
        ),
        app(
            "nearpod",
            "Nearpod",
            "#2B7FE0",
            "https://app.nearpod.com/",
            &[Student, Teacher],
        ),
        app(
            "flip",
            "Flip",
            "#18A84B",
            "https://info.flip.com/",
            &[Student, Teacher],
        ),
        app(
            "skyward",
            "Skyward",
            "#1E3A6E",
            "https://www.skyward.com/",
            &[Teacher, Staff, Administrator, Parent],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_follows_roles_and_schools() {
        let mut a = default_apps().remove(0);
        assert!(a.visible_to(Role::Student, &["s1".into()]));
        assert!(!a.visible_to(Role::Parent, &["s1".into()]));
        a.schools = vec!["s2".into()];
        assert!(!a.visible_to(Role::Student, &["s1".into()]));
        assert!(a.visible_to(Role::Student, &["s1".into(), "s2".into()]));
    }

    #[test]
    fn examples_have_unique_ids() {
        let apps = default_apps();
        let mut ids: Vec<_> = apps.iter().map(|a| a.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), apps.len());
        assert_eq!(apps.len(), 6);
    }
}
