//! Signed out: "Bye!" for a moment, then scanning again.

use eframe::egui::Ui;

use super::{View, picture_screen};
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;

pub fn show(ui: &mut Ui, v: &mut View<'_>) {
    let s = v.t(Msg::Bye);
    picture_screen(ui, v, Picture::Bye, &s, None);
}
