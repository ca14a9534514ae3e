//! Which screen each refusal code gets: the card format's own codes (the kiosk's offline
//! check) and the portal's (`portal/API.md`).
//!
//! A portal may be a version newer than the kiosk and send a code the kiosk has never heard
//! of. Such a code gets the "ask a grown-up" screen, which names the code for the adult: it is
//! not the card's fault as far as the kiosk can tell, so it must not say "not a school card".

use quickcard::CardError;

use crate::app::state::ErrorKind;

/// The screen for a card the offline check refused.
pub fn error_for_card(e: &CardError) -> ErrorKind {
    error_for_code(e.code())
}

/// The screen for an error code (the card codes and the portal's).
pub fn error_for_code(code: &str) -> ErrorKind {
    match code {
        "expired" => ErrorKind::Expired,
        "card_revoked" => ErrorKind::Revoked,
        "wrong_school" | "key_not_for_school" => ErrorKind::OtherSchool,
        "not_yet_valid" => ErrorKind::FutureCard,
        "unknown_user" | "role_not_allowed" | "role_mismatch" => ErrorKind::NotAllowed,
        "not_quickcard" => ErrorKind::NotQuickCard,
        "bad_signature" => ErrorKind::Forged,
        // A card valid for longer than the policy allows has to be printed again, like a
        // damaged one.
        "malformed" | "unsupported_version" | "lifetime_too_long" => ErrorKind::Damaged,
        // A revoked key's cards are reprinted with the district's new key: the same grown-up
        // step as for a key the kiosk does not know.
        "unknown_key" | "key_not_valid_at_issue" | "key_revoked" => ErrorKind::UnknownKey,
        "pin_not_set" => ErrorKind::PinNotSet,
        "no_google_account" => ErrorKind::NoGoogleAccount,
        "user_erased" => ErrorKind::Erased,
        other => ErrorKind::AskAdult {
            code: printable_code(other),
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
