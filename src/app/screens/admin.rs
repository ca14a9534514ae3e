//! The admin PIN pad: the only way out of kiosk mode. It replaces the screen while open; a
//! child who opens it by accident can only cancel.

use eframe::egui::Ui;

use super::View;
use super::pin_pad::{PadKind, pad};
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::state::AdminPad;

pub fn show(ui: &mut Ui, v: &mut View<'_>, admin: &AdminPad) {
    let title = v.t(Msg::AdminTitle);
    let wrong = admin.wrong.then(|| v.t(Msg::AdminWrong));
    pad(
        ui,
        v,
        PadKind::Admin,
        Picture::Pin,
        &title,
        wrong.as_deref(),
        admin.pin.len(),
    );
}
