//! Checking: the card was read and verified offline; the portal is being asked. A clear
//! "Got it!" first, so the child knows the card worked.

use eframe::egui::Ui;

use super::{View, picture_screen};
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;

pub fn show(ui: &mut Ui, v: &mut View<'_>) {
    if v.kiosk.got_it() {
        let s = v.t(Msg::GotIt);
        picture_screen(ui, v, Picture::GotIt, &s, None);
    } else {
        let s = v.t(Msg::Checking);
        picture_screen(ui, v, Picture::Checking, &s, None);
    }
}
