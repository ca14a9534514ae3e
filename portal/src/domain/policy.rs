//! Who may use card login, and who must add a PIN: the district's policy, by role, school and
//! grade, always applied to the roster's facts about a person, never to the card's claims.
//!
//! A card's own second-factor flag is printed by whoever printed it; a staff card printed
//! without it must still ask for a PIN. So the portal decides the second factor here, and the
//! card's flag can only add a PIN, never remove one.

use std::collections::BTreeMap;

use quickcard::Role;
use serde::{Deserialize, Serialize};

/// Roles that need a PIN unless the policy says otherwise: every role but students.
fn default_second_factor() -> Vec<Role> {
    vec![
        Role::Teacher,
        Role::Staff,
        Role::Parent,
        Role::Administrator,
    ]
}

/// Who may use card login at all, and who needs a PIN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Roles allowed everywhere unless a school says otherwise.
    pub roles: Vec<Role>,
    /// Student grades allowed (roster `grades` values, e.g. "KG", "01"); all when unset.
    /// Students without any grade on the roster are refused when this is set.
    pub grades: Option<Vec<String>>,
    /// Roles whose card login needs a PIN (default: every role except students).
    pub second_factor: Vec<Role>,
    /// Student grades whose card login needs a PIN too (e.g. the oldest classes).
    pub second_factor_grades: Vec<String>,
    /// Shortest PIN accepted for students.
    pub min_pin_length_students: usize,
    /// Shortest PIN accepted for every other role.
    pub min_pin_length: usize,
    /// Per-school overrides, by school id.
    pub schools: BTreeMap<String, SchoolPolicy>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            roles: vec![
                Role::Student,
                Role::Teacher,
                Role::Staff,
                Role::Administrator,
            ],
            grades: None,
            second_factor: default_second_factor(),
            second_factor_grades: Vec::new(),
            min_pin_length_students: 4,
            min_pin_length: 6,
            schools: BTreeMap::new(),
        }
    }
}

/// One school's overrides (unset fields follow the district's policy).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolPolicy {
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    #[serde(default)]
    pub grades: Option<Vec<String>>,
    #[serde(default)]
    pub second_factor: Option<Vec<Role>>,
    #[serde(default)]
    pub second_factor_grades: Option<Vec<String>>,
}

/// Why the policy refuses a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRefusal {
    Role(Role),
    Grade(Vec<String>),
}

impl PolicyConfig {
    /// Whether a user with `role` and `grades` (from the roster) may use card login at
    /// `school`.
    pub fn check(&self, school: &str, role: Role, grades: &[String]) -> Result<(), PolicyRefusal> {
        let local = self.schools.get(school);
        let roles = local.and_then(|s| s.roles.as_ref()).unwrap_or(&self.roles);
        if !roles.contains(&role) {
            return Err(PolicyRefusal::Role(role));
        }
        let allowed = local
            .and_then(|s| s.grades.as_ref())
            .or(self.grades.as_ref());
        // A student with no grade on the roster matches no allowed grade: an incomplete
        // roster row must not slip past a grade policy.
        if role == Role::Student
            && let Some(allowed) = allowed
            && !grades.iter().any(|g| allowed.contains(g))
        {
            return Err(PolicyRefusal::Grade(grades.to_vec()));
        }
        Ok(())
    }

    /// Whether card login of a user with `role` and `grades` (from the roster) at `school`
    /// needs a PIN.
    pub fn second_factor(&self, school: &str, role: Role, grades: &[String]) -> bool {
        let local = self.schools.get(school);
        let roles = local
            .and_then(|s| s.second_factor.as_ref())
            .unwrap_or(&self.second_factor);
        if roles.contains(&role) {
            return true;
        }
        let by_grade = local
            .and_then(|s| s.second_factor_grades.as_ref())
            .unwrap_or(&self.second_factor_grades);
        role == Role::Student && grades.iter().any(|g| by_grade.contains(g))
    }

    /// The shortest PIN a user with `role` may set.
    pub fn min_pin_length(&self, role: Role) -> usize {
        match role {
            Role::Student => self.min_pin_length_students,
            _ => self.min_pin_length,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades(g: &[&str]) -> Vec<String> {
        g.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_role_but_students_needs_a_pin_by_default() {
        let p = PolicyConfig::default();
        for role in Role::ALL {
            assert_eq!(
                p.second_factor("any", role, &[]),
                role != Role::Student,
                "{role}"
            );
        }
    }

    #[test]
    fn schools_and_grades_can_ask_students_for_a_pin_too() {
        let mut p = PolicyConfig {
            second_factor_grades: grades(&["05"]),
            ..PolicyConfig::default()
        };
        assert!(p.second_factor("a", Role::Student, &grades(&["05"])));
        assert!(!p.second_factor("a", Role::Student, &grades(&["01"])));
        p.schools.insert(
            "b".into(),
            SchoolPolicy {
                second_factor: Some(vec![Role::Student, Role::Teacher]),
                ..SchoolPolicy::default()
            },
        );
        assert!(p.second_factor("b", Role::Student, &grades(&["01"])));
        assert!(!p.second_factor("b", Role::Staff, &[]));
    }

    #[test]
    fn a_student_without_a_grade_does_not_slip_past_a_grade_policy() {
        let p = PolicyConfig {
            grades: Some(grades(&["KG", "01"])),
            ..PolicyConfig::default()
        };
        assert!(p.check("a", Role::Student, &grades(&["KG"])).is_ok());
        assert_eq!(
            p.check("a", Role::Student, &[]),
            Err(PolicyRefusal::Grade(vec![]))
        );
        assert!(p.check("a", Role::Teacher, &[]).is_ok());
    }

    #[test]
    fn staff_pins_are_longer_than_students() {
        let p = PolicyConfig::default();
        assert_eq!(p.min_pin_length(Role::Teacher), 6);
        assert_eq!(p.min_pin_length(Role::Student), 4);
    }
}
