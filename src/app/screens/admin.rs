//! The admin PIN pad: the only way out of kiosk mode. It replaces the screen while open; a
//! child who opens it by accident can only cancel. Too many wrong PINs lock it for a while
//! (`app::admin_lock`).

use eframe::egui::Ui;

use super::View;
use super::pin_pad::{PadKind, pad};
use crate::app::admin_lock::Wait;
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::state::AdminPad;

pub fn show(ui: &mut Ui, v: &mut View<'_>, admin: &AdminPad) {
    let title = v.t(Msg::AdminTitle);
    // Locked after too many wrong PINs: say for how long (the keys do nothing meanwhile).
    let wrong = match v.kiosk.admin_locked_ms() {
        Some(ms) => Some(v.t(Msg::AdminLocked(Wait::from_ms(ms)))),
        None => admin.wrong.then(|| v.t(Msg::AdminWrong)),
    };
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
