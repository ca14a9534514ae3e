//! Errors: one picture and one sentence per reason a card did not work, plus what a grown-up
//! should do. The screen goes back to scanning by itself; "Back" does it at once.

use eframe::egui::Ui;

use super::{View, picture_screen};
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::state::{Action, ErrorKind};
use crate::app::widgets;

/// Picture, child sentence and grown-up line for an error.
pub fn texts(kind: &ErrorKind, now_ms: u64) -> (Picture, Msg<'_>, Msg<'_>) {
    match kind {
        ErrorKind::Expired => (Picture::Expired, Msg::ExpiredChild, Msg::ExpiredAdult),
        ErrorKind::Revoked => (Picture::Revoked, Msg::RevokedChild, Msg::RevokedAdult),
        ErrorKind::OtherSchool => (
            Picture::OtherSchool,
            Msg::OtherSchoolChild,
            Msg::OtherSchoolAdult,
        ),
        ErrorKind::NotQuickCard => (
            Picture::NotSchoolCard,
            Msg::HintNotQuickCard,
            Msg::NotQuickCardAdult,
        ),
        ErrorKind::Forged => (
            Picture::NotSchoolCard,
            Msg::CardBrokenChild,
            Msg::ForgedAdult,
        ),
        ErrorKind::Damaged => (
            Picture::NotSchoolCard,
            Msg::CardBrokenChild,
            Msg::DamagedAdult,
        ),
        ErrorKind::UnknownKey => (
            Picture::NotSchoolCard,
            Msg::NotSchoolCardChild,
            Msg::UnknownKeyAdult,
        ),
        ErrorKind::FutureCard => (
            Picture::NotSchoolCard,
            Msg::CardBrokenChild,
            Msg::ClockAdult,
        ),
        ErrorKind::PinNotSet => (
            Picture::NotAllowed,
            Msg::CardBrokenChild,
            Msg::PinNotSetAdult,
        ),
        ErrorKind::NoGoogleAccount => (
            Picture::NotAllowed,
            Msg::CardBrokenChild,
            Msg::NoGoogleAccountAdult,
        ),
        ErrorKind::NotSchoolCard => (
            Picture::NotSchoolCard,
            Msg::NotSchoolCardChild,
            Msg::NotSchoolCardAdult,
        ),
        ErrorKind::Erased => (Picture::NotAllowed, Msg::ErasedChild, Msg::ErasedAdult),
        ErrorKind::AskAdult { code } => (
            Picture::NotAllowed,
            Msg::AskAdultChild,
            Msg::AskAdultAdult(code),
        ),
        ErrorKind::NotAllowed => (
            Picture::NotAllowed,
            Msg::NotAllowedChild,
            Msg::NotAllowedAdult,
        ),
        ErrorKind::LockedOut { until_ms } => {
            let mins = until_ms.saturating_sub(now_ms).div_ceil(60_000).max(1);
            (Picture::LockedOut, Msg::LockedChild, Msg::LockedAdult(mins))
        }
        ErrorKind::Unreachable { retry_at_ms, .. } => {
            let secs = if *retry_at_ms == u64::MAX {
                0
            } else {
                retry_at_ms.saturating_sub(now_ms).div_ceil(1000)
            };
            (
                Picture::Unreachable,
                Msg::UnreachableChild,
                Msg::UnreachableAdult(secs),
            )
        }
    }
}

pub fn show(ui: &mut Ui, v: &mut View<'_>, kind: &ErrorKind) {
    let (pic, child, adult) = texts(kind, v.kiosk.now_ms());
    let (c, a) = (v.t(child), v.t(adult));
    picture_screen(ui, v, pic, &c, Some(&a));
    ui.add_space(24.0);
    ui.vertical_centered(|ui| {
        ui.horizontal(|ui| {
            let back = v.t(Msg::Back);
            let retry = matches!(kind, ErrorKind::Unreachable { .. }).then(|| v.t(Msg::TryAgain));
            let w = if retry.is_some() { 520.0 } else { 240.0 };
            ui.add_space(((ui.available_width() - w) / 2.0).max(0.0));
            let b = widgets::big_button(ui, &back, widgets::GREY, 240.0);
            v.press(&b, &back, Action::Back);
            if let Some(r) = retry {
                ui.add_space(24.0);
                let b = widgets::big_button(ui, &r, widgets::BLUE, 240.0);
                v.press(&b, &r, Action::TryAgain);
            }
        });
    });
}
