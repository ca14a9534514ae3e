//! The exchange's decision, as a pure function of what was read: a card that verified, its
//! holder as the roster knows them, the policy and the time go in; a [`Decision`] or a
//! [`Refusal`] comes out. No database, no clock, no HTTP: every rule of the roster and the
//! policy can be tested here with plain values, and [`crate::domain::exchange::check`] is left
//! with reading, counting and auditing.
//!
//! [`Refusal`] is the one place that says, for each refusal, its wire code, HTTP status,
//! message for the person at the kiosk, audit detail for the admin, and whether the audit row
//! is flagged for a person to look at.

use axum::http::StatusCode;
use quickcard::{CardError, Claims, Role};

use crate::db::store::Holder;
use crate::domain::policy::{PolicyConfig, PolicyRefusal};
use crate::error::{ApiError, ErrorCode};

/// What the decision needs, all already read.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The verified card's claims.
    pub claims: &'a Claims,
    /// The school the card is checked for.
    pub school: &'a str,
    /// The holder the card names, as the roster knows them at that school; `None` when the
    /// roster has no such person.
    pub holder: Option<&'a Holder>,
    /// Whether the person the card names was erased at the district's request (read only
    /// when there is no holder).
    pub erased: bool,
    pub policy: &'a PolicyConfig,
    /// Unix seconds.
    pub now: i64,
}

/// A card the roster and the policy accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether a PIN must follow: the policy decides from the roster; the card's flag can only
    /// add a PIN, never waive one.
    pub second_factor: bool,
}

/// Why a card is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The card did not verify (signature, key, dates, school, format).
    Card {
        error: CardError,
        /// What the card claimed, for the audit, when it decoded at all.
        claimed_user: Option<String>,
    },
    /// A district-wide caller: the card's school tag is none of the caller's schools.
    WrongSchool { tag: String },
    /// The person's data was erased; their cards no longer work.
    Erased,
    /// Not on the roster (`removed`: no longer on this school's roster).
    UnknownUser { removed: bool },
    /// Issued before the holder's cards were revoked.
    Revoked { issued_at: u64, revoked_before: i64 },
    /// The card's role is not the roster's.
    RoleMismatch { card: Role, roster: Role },
    /// The policy does not allow card login for this role or grade at this school.
    NotAllowed { refusal: PolicyRefusal, role: Role },
    /// Locked out after wrong PINs.
    LockedOut { until: i64, now: i64 },
}

impl Refusal {
    /// What the caller is told.
    pub fn error(&self) -> ApiError {
        let forbidden = |code, msg: &str| ApiError::new(StatusCode::FORBIDDEN, code, msg);
        match self {
            Refusal::Card { error, .. } => ApiError::card(error),
            Refusal::WrongSchool { .. } => ApiError::card(&CardError::WrongSchool),
            Refusal::Erased => crate::domain::person::erased_error(),
            Refusal::UnknownUser { .. } => forbidden(ErrorCode::UnknownUser, &self.detail()),
            Refusal::Revoked { .. } => forbidden(
                ErrorCode::CardRevoked,
                "this card was replaced or reported lost; use the newest card",
            ),
            Refusal::RoleMismatch { roster, .. } => forbidden(
                ErrorCode::RoleMismatch,
                "this card's role is not the person's role on the roster; print a new card",
            )
            .with(|d| d.role = Some(*roster)),
            Refusal::NotAllowed { refusal, role } => {
                let role = *role;
                let err = forbidden(ErrorCode::RoleNotAllowed, &self.detail());
                match refusal {
                    PolicyRefusal::Role(r) => err.with(|d| d.role = Some(*r)),
                    PolicyRefusal::Grade(grades) => err.with(|d| {
                        d.role = Some(role);
                        d.grade = Some(grades.join(","));
                    }),
                }
            }
            Refusal::LockedOut { until, now } => ApiError::locked_out((until - now) as u64),
        }
    }

    /// The audit row's detail.
    pub fn detail(&self) -> String {
        match self {
            Refusal::Card {
                error,
                claimed_user: Some(user),
            } => format!("{error} (card claims user {user}, unverified)"),
            Refusal::Card { error, .. } => error.to_string(),
            Refusal::WrongSchool { tag } => format!(
                "{} (school tag {tag} is none of this sign-in's schools)",
                CardError::WrongSchool
            ),
            Refusal::Erased => "card of a person whose data was erased".into(),
            Refusal::UnknownUser { removed: true } => {
                "the user is no longer on this school's roster".into()
            }
            Refusal::UnknownUser { removed: false } => "the user is not on the roster".into(),
            Refusal::Revoked {
                issued_at,
                revoked_before,
            } => format!(
                "scan of a revoked card (issued {}, cards before {} are revoked)",
                quickcard::time::format_utc(*issued_at),
                quickcard::time::format_utc(*revoked_before as u64)
            ),
            Refusal::RoleMismatch { card, roster } => {
                format!("card claims role {card}, the roster says {roster}")
            }
            Refusal::NotAllowed {
                refusal: PolicyRefusal::Role(role),
                ..
            } => format!("card login is not allowed for role {role} at this school"),
            Refusal::NotAllowed {
                refusal: PolicyRefusal::Grade(grades),
                ..
            } => format!(
                "card login is not allowed for grade {} at this school",
                grades.join("/")
            ),
            Refusal::LockedOut { .. } => String::new(),
        }
    }

    /// Whether a person should look at it: a forged signature, a revoked (lost) card in use, a
    /// role the roster contradicts, an erased person's card.
    pub fn flagged(&self) -> bool {
        matches!(
            self,
            Refusal::Card {
                error: CardError::BadSignature,
                ..
            } | Refusal::Erased
                | Refusal::Revoked { .. }
                | Refusal::RoleMismatch { .. }
        )
    }
}

/// The school a district-wide caller checks the card for: the first of `candidates` the card's
/// school tag matches.
pub fn school_of(claims: &Claims, candidates: Vec<String>) -> Result<String, Refusal> {
    candidates
        .into_iter()
        .find(|s| claims.school.matches(s))
        .ok_or_else(|| Refusal::WrongSchool {
            tag: claims.school.to_string(),
        })
}

/// The roster and policy checks, in the documented order: on the roster at the school,
/// revocation (before anything PIN-related, so a revoked lost card never counts towards its
/// owner's lockout), the role the roster knows, the policy, the lockout; then whether a PIN
/// must follow.
pub fn decide(f: Facts<'_>) -> Result<Decision, Refusal> {
    let claims = f.claims;
    let holder = match f.holder {
        Some(h) if h.in_school => h,
        None if f.erased => return Err(Refusal::Erased),
        found => {
            return Err(Refusal::UnknownUser {
                removed: found.is_some(),
            });
        }
    };
    if let Some(before) = holder.revoked_before
        && (claims.issued_at as i64) < before
    {
        return Err(Refusal::Revoked {
            issued_at: claims.issued_at,
            revoked_before: before,
        });
    }
    // The roster knows the person's role; a card that claims another was printed from a stale
    // or forged roster.
    if claims.role != holder.role {
        return Err(Refusal::RoleMismatch {
            card: claims.role,
            roster: holder.role,
        });
    }
    if let Err(refusal) = f.policy.check(f.school, holder.role, &holder.grades) {
        return Err(Refusal::NotAllowed {
            refusal,
            role: holder.role,
        });
    }
    if let Some(until) = holder.locked_until
        && until > f.now
    {
        return Err(Refusal::LockedOut { until, now: f.now });
    }
    Ok(Decision {
        second_factor: claims.flags.second_factor
            || f.policy
                .second_factor(f.school, holder.role, &holder.grades),
    })
}

#[cfg(test)]
#[path = "decision_tests.rs"]
mod tests;
