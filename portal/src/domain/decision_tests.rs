//! The exchange's rules with plain values: no database, no clock, no HTTP.

use quickcard::{CardError, Claims, Flags, Role};

use super::*;
use crate::db::store::Holder;
use crate::domain::policy::{PolicyConfig, PolicyRefusal};
use crate::error::ErrorCode;

const ISSUED: u64 = 1_790_000_000;
const NOW: i64 = 1_800_000_000;

fn claims(role: Role, pin: bool) -> Claims {
    let flags = Flags { second_factor: pin };
    Claims::new(
        "stu-0042",
        role,
        "sch-lincoln",
        ISSUED,
        ISSUED + 31_000_000,
        flags,
    )
    .unwrap()
}

fn holder(role: Role) -> Holder {
    Holder {
        id: "stu-0042".into(),
        role,
        given_name: "Ada".into(),
        display_name: "Ada L.".into(),
        grades: vec!["01".into()],
        in_school: true,
        revoked_before: None,
        locked_until: None,
        pin_hash: None,
    }
}

fn decide_with(
    claims: &Claims,
    holder: Option<&Holder>,
    policy: &PolicyConfig,
) -> Result<Decision, Refusal> {
    decide(Facts {
        claims,
        school: "sch-lincoln",
        holder,
        erased: false,
        policy,
        now: NOW,
    })
}

#[test]
fn a_student_on_the_roster_gets_in_without_a_pin() {
    let c = claims(Role::Student, false);
    let d = decide_with(&c, Some(&holder(Role::Student)), &PolicyConfig::default()).unwrap();
    assert!(!d.second_factor);
}

#[test]
fn the_policy_asks_a_teacher_for_a_pin_even_when_the_card_does_not() {
    let c = claims(Role::Teacher, false);
    let d = decide_with(&c, Some(&holder(Role::Teacher)), &PolicyConfig::default()).unwrap();
    assert!(d.second_factor);
}

#[test]
fn the_card_can_add_a_pin_but_never_waive_one() {
    let c = claims(Role::Student, true);
    let d = decide_with(&c, Some(&holder(Role::Student)), &PolicyConfig::default()).unwrap();
    assert!(d.second_factor);
}

#[test]
fn unknown_removed_and_erased_people_are_refused_apart() {
    let c = claims(Role::Student, false);
    let p = PolicyConfig::default();
    assert_eq!(
        decide_with(&c, None, &p),
        Err(Refusal::UnknownUser { removed: false })
    );
    let mut gone = holder(Role::Student);
    gone.in_school = false;
    let r = decide_with(&c, Some(&gone), &p).unwrap_err();
    assert_eq!(r, Refusal::UnknownUser { removed: true });
    assert_eq!(r.detail(), "the user is no longer on this school's roster");
    let erased = decide(Facts {
        claims: &c,
        school: "sch-lincoln",
        holder: None,
        erased: true,
        policy: &p,
        now: NOW,
    })
    .unwrap_err();
    assert_eq!(erased, Refusal::Erased);
    assert_eq!(erased.error().code(), ErrorCode::UserErased);
    assert!(erased.flagged());
}

#[test]
fn a_revoked_card_is_refused_and_flagged_before_the_lockout_counts() {
    let c = claims(Role::Student, false);
    let mut h = holder(Role::Student);
    h.revoked_before = Some(ISSUED as i64 + 1);
    h.locked_until = Some(NOW + 60);
    let r = decide_with(&c, Some(&h), &PolicyConfig::default()).unwrap_err();
    assert!(matches!(r, Refusal::Revoked { .. }), "{r:?}");
    assert_eq!(r.error().code(), ErrorCode::CardRevoked);
    assert!(r.flagged());
    // A card printed at the revocation or after it is the new card.
    h.revoked_before = Some(ISSUED as i64);
    h.locked_until = None;
    assert!(decide_with(&c, Some(&h), &PolicyConfig::default()).is_ok());
}

#[test]
fn the_roster_role_wins_over_the_card() {
    let c = claims(Role::Teacher, false);
    let r = decide_with(&c, Some(&holder(Role::Student)), &PolicyConfig::default()).unwrap_err();
    assert_eq!(
        r,
        Refusal::RoleMismatch {
            card: Role::Teacher,
            roster: Role::Student
        }
    );
    assert!(r.flagged());
    assert_eq!(r.error().code(), ErrorCode::RoleMismatch);
}

#[test]
fn the_policy_refuses_by_role_and_by_grade() {
    let c = claims(Role::Student, false);
    let h = holder(Role::Student);
    let only_teachers = PolicyConfig {
        roles: vec![Role::Teacher],
        ..PolicyConfig::default()
    };
    let r = decide_with(&c, Some(&h), &only_teachers).unwrap_err();
    assert_eq!(
        r,
        Refusal::NotAllowed {
            refusal: PolicyRefusal::Role(Role::Student),
            role: Role::Student
        }
    );
    assert_eq!(
        r.detail(),
        "card login is not allowed for role student at this school"
    );
    assert!(!r.flagged());
    let kindergarten = PolicyConfig {
        grades: Some(vec!["KG".into()]),
        ..PolicyConfig::default()
    };
    let r = decide_with(&c, Some(&h), &kindergarten).unwrap_err();
    assert_eq!(r.error().code(), ErrorCode::RoleNotAllowed);
    assert_eq!(
        r.detail(),
        "card login is not allowed for grade 01 at this school"
    );
}

#[test]
fn a_lockout_holds_until_it_ends() {
    let c = claims(Role::Student, false);
    let mut h = holder(Role::Student);
    h.locked_until = Some(NOW + 90);
    let r = decide_with(&c, Some(&h), &PolicyConfig::default()).unwrap_err();
    assert_eq!(
        r,
        Refusal::LockedOut {
            until: NOW + 90,
            now: NOW
        }
    );
    assert_eq!(r.error().code(), ErrorCode::LockedOut);
    h.locked_until = Some(NOW);
    assert!(decide_with(&c, Some(&h), &PolicyConfig::default()).is_ok());
}

#[test]
fn a_district_caller_finds_the_cards_school_by_its_tag() {
    let c = claims(Role::Student, false);
    let schools = vec!["sch-other".to_string(), "sch-lincoln".to_string()];
    assert_eq!(school_of(&c, schools).unwrap(), "sch-lincoln");
    let r = school_of(&c, vec!["sch-other".into()]).unwrap_err();
    assert!(matches!(r, Refusal::WrongSchool { .. }));
    assert_eq!(r.error().code(), ErrorCode::WrongSchool);
}

#[test]
fn a_forged_signature_is_flagged_and_names_the_claimed_user() {
    let r = Refusal::Card {
        error: CardError::BadSignature,
        claimed_user: Some("stu-0042".into()),
    };
    assert!(r.flagged());
    assert!(
        r.detail().contains("card claims user stu-0042, unverified"),
        "{}",
        r.detail()
    );
    let expired = Refusal::Card {
        error: CardError::Expired { expires_at: 5 },
        claimed_user: None,
    };
    assert!(!expired.flagged());
    assert_eq!(expired.error().code(), ErrorCode::Expired);
}
