//! Not ready: why this kiosk cannot scan yet, with what a grown-up should do. These states
//! clear by themselves when the cause goes away (camera plugged in, portal answers).

use eframe::egui::Ui;

use super::{View, picture_screen};
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::state::NotReady;

/// Picture, child sentence and grown-up line for a not-ready reason.
pub fn texts<'a>(why: &'a NotReady, portal: &'a str) -> (Picture, Msg<'a>, Msg<'a>) {
    match why {
        NotReady::NoCamera { detail } => (
            Picture::NoCamera,
            Msg::NoCameraChild,
            Msg::NoCameraAdult(detail),
        ),
        NotReady::PortalUnreachable => (
            Picture::Waiting,
            Msg::WaitingChild,
            Msg::WaitingAdult(portal),
        ),
        NotReady::NotEnrolled => (
            Picture::NotEnrolled,
            Msg::NotEnrolledChild,
            Msg::NotEnrolledAdult,
        ),
        NotReady::KioskRefused => (
            Picture::NotEnrolled,
            Msg::NotEnrolledChild,
            Msg::KioskDisabledAdult,
        ),
        NotReady::NoTrustKeys => (Picture::NoTrust, Msg::NoTrustChild, Msg::NoTrustAdult),
        NotReady::DemoKeyRefused => (Picture::NoTrust, Msg::NoTrustChild, Msg::DemoKeyAdult),
        NotReady::SignInExpired => (
            Picture::Waiting,
            Msg::SignInExpiredChild,
            Msg::SignInExpiredAdult,
        ),
    }
}

pub fn show(ui: &mut Ui, v: &mut View<'_>, why: &NotReady) {
    let portal = v.kiosk.settings().portal_url.clone();
    let (pic, child, adult) = texts(why, &portal);
    let (c, a) = (v.t(child), v.t(adult));
    picture_screen(ui, v, pic, &c, Some(&a));
}
