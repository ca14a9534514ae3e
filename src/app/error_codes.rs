//! Which screen each refusal code gets: the card format's own codes (the kiosk's offline
//! check) and the portal's (`portal/API.md`, the contract's [`ErrorCode`]).
//!
//! Every known code is matched by name, with no catch-all: a code added to the contract is a
//! compile error here until someone has chosen its screen, instead of silently becoming
//! "not a school card".
//!
//! A portal may be a version newer than the kiosk and send a code the kiosk has never heard
//! of. Such a code gets the "ask a grown-up" screen, which names the code for the adult: it is
//! not the card's fault as far as the kiosk can tell, so it must not say "not a school card".

use quickcard::CardError;
use quickcard_api::{ErrorCode, ReplyCode};

use crate::app::state::ErrorKind;

/// The screen for a card the offline check refused.
pub fn error_for_card(e: &CardError) -> ErrorKind {
    error_for_known(ErrorCode::from(e))
}

/// The screen for an error code as sent (the card codes and the portal's).
pub fn error_for_code(code: &str) -> ErrorKind {
    error_for(&ReplyCode::from(code))
}

/// The screen for a refusal of the portal.
pub fn error_for(code: &ReplyCode) -> ErrorKind {
    match code {
        ReplyCode::Known(c) => error_for_known(*c),
        ReplyCode::Unknown(other) => ErrorKind::AskAdult {
            code: printable_code(other),
        },
    }
}

fn error_for_known(code: ErrorCode) -> ErrorKind {
    use ErrorCode::*;
    match code {
        Expired => ErrorKind::Expired,
        CardRevoked => ErrorKind::Revoked,
        WrongSchool | KeyNotForSchool => ErrorKind::OtherSchool,
        NotYetValid => ErrorKind::FutureCard,
        UnknownUser | RoleNotAllowed | RoleMismatch => ErrorKind::NotAllowed,
        NotQuickCard => ErrorKind::NotQuickCard,
        BadSignature => ErrorKind::Forged,
        // A card valid for longer than the policy allows has to be printed again, like a
        // damaged one.
        Malformed | UnsupportedVersion | LifetimeTooLong => ErrorKind::Damaged,
        // A revoked key's cards are reprinted with the district's new key: the same grown-up
        // step as for a key the kiosk does not know.
        UnknownKey | KeyNotValidAtIssue | KeyRevoked => ErrorKind::UnknownKey,
        PinNotSet => ErrorKind::PinNotSet,
        NoGoogleAccount => ErrorKind::NoGoogleAccount,
        UserErased => ErrorKind::Erased,
        // The exchange flow answers these itself (PIN pad, waiting, the kiosk or sign-in
        // refused, retrying); the rest are not about the card (a wrong setup of the kiosk, the
        // portal or the network). Should one reach a screen, the grown-up line names it.
        PinRequired | WrongPin | LockedOut | RateLimited | KioskUnauthorized | KioskDisabled
        | SessionExpired | UnknownApp | LaunchInvalid | EnrolmentCodeInvalid | AdminApiDisabled
        | AdminUnauthorized | UnknownKiosk | SamlNotConfigured | SigninUnknown | SigninExpired
        | SigninUsed | NetworkNotAllowed | NoWebKiosk | BadPolicy | NotFound | BadRequest
        | Internal => ErrorKind::AskAdult {
            code: code.as_str().to_string(),
        },
    }
}

/// The code as the grown-up line may show it: a portal's codes are short snake_case words,
/// so anything else (or anything long) is cut down rather than drawn as sent.
fn printable_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every refusal a child can meet has its own screen (its own grown-up line), so a
    /// forged card, a random QR code, a card from another district and an account problem
    /// are never shown as the same thing.
    #[test]
    fn each_refusal_code_has_its_own_screen() {
        let codes = [
            ("expired", ErrorKind::Expired),
            ("card_revoked", ErrorKind::Revoked),
            ("wrong_school", ErrorKind::OtherSchool),
            ("not_yet_valid", ErrorKind::FutureCard),
            ("unknown_user", ErrorKind::NotAllowed),
            ("not_quickcard", ErrorKind::NotQuickCard),
            ("bad_signature", ErrorKind::Forged),
            ("malformed", ErrorKind::Damaged),
            ("unknown_key", ErrorKind::UnknownKey),
            ("key_revoked", ErrorKind::UnknownKey),
            ("lifetime_too_long", ErrorKind::Damaged),
            ("pin_not_set", ErrorKind::PinNotSet),
            ("no_google_account", ErrorKind::NoGoogleAccount),
            ("user_erased", ErrorKind::Erased),
        ];
        for (code, kind) in codes {
            assert_eq!(error_for_code(code), kind, "{code}");
        }
        // The card format's own errors land on the same screens.
        assert_eq!(error_for_card(&CardError::BadSignature), ErrorKind::Forged);
        assert_eq!(
            error_for_card(&CardError::NotQuickCard),
            ErrorKind::NotQuickCard
        );
        let key = quickcard::IssuerKey::from_seed([1; 32], "k")
            .public()
            .key_id();
        assert_eq!(
            error_for_card(&CardError::KeyRevoked { key, revoked_at: 0 }),
            ErrorKind::UnknownKey
        );
        assert_eq!(
            error_for_card(&CardError::LifetimeTooLong {
                lifetime_secs: 2,
                max_secs: 1
            }),
            ErrorKind::Damaged
        );
    }

    /// The card format's codes never ask a grown-up: each has its own screen.
    #[test]
    fn every_card_code_has_its_screen() {
        for &c in ErrorCode::ALL.iter().filter(|c| c.is_card_error()) {
            let kind = error_for_code(c.as_str());
            assert!(!matches!(kind, ErrorKind::AskAdult { .. }), "{c}: {kind:?}");
        }
    }

    /// A newer portal's code is neither "not a school card" nor a crash: the grown-up screen,
    /// with the code cut to what the screen can show.
    #[test]
    fn an_unknown_code_asks_a_grown_up() {
        assert_eq!(
            error_for_code("something_new"),
            ErrorKind::AskAdult {
                code: "something_new".into()
            }
        );
        let odd = format!("<b>{}</b>\n", "x".repeat(100));
        let ErrorKind::AskAdult { code } = error_for_code(&odd) else {
            panic!("an unknown code gets the grown-up screen");
        };
        assert_eq!(code, format!("b{}", "x".repeat(39)));
    }
}
