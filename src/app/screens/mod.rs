//! One file per screen. Each draws from the [`Kiosk`](crate::app::driver::Kiosk) it is given and
//! reports button presses as [`Action`]s; none of them changes state itself, talks to the
//! network or knows which platform it runs on.

pub mod admin;
pub mod checking;
pub mod dashboard;
pub mod error;
pub mod idle;
pub mod not_ready;
pub mod pin_pad;
pub mod scanning;
pub mod signed_out;
pub mod signing_in;

use eframe::egui::{self, Ui};

use crate::app::i18n::{Lang, Msg};
use crate::app::pictures::Picture;
use crate::app::state::Action;
use crate::app::widgets;

/// What every screen gets.
#[allow(missing_debug_implementations)]
pub struct View<'a> {
    pub kiosk: &'a crate::app::driver::Kiosk,
    pub lang: Lang,
    pub time: f64,
    /// The camera preview texture, when there is one.
    pub preview: Option<&'a egui::TextureHandle>,
    pub actions: &'a mut Vec<Action>,
    /// Every button drawn this frame, with its label: what a user can do now (see
    /// [`Offered`]).
    pub offered: &'a mut Vec<Offered>,
}

/// A button on the screen, as text: its label and what pressing it does. The browser build
/// draws on a canvas that screen readers cannot see into, so the page mirrors these as real
/// HTML buttons (and tests press them by label); natively they are only logged in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub label: String,
    pub action: Action,
}

impl View<'_> {
    pub fn t(&self, m: Msg<'_>) -> String {
        m.text(self.lang)
    }

    /// Registers a drawn button (`response`, labelled `label`) and, when it was clicked, its
    /// `action`. Every screen's button goes through here, so what is offered is what is drawn.
    pub fn press(&mut self, response: &egui::Response, label: &str, action: Action) {
        if response.clicked() {
            self.actions.push(action.clone());
        }
        self.offered.push(Offered {
            label: label.to_string(),
            action,
        });
    }
}

/// The common layout: picture, child's sentence, grown-up line, centred in the space.
pub fn picture_screen(ui: &mut Ui, v: &View<'_>, pic: Picture, child: &str, adult: Option<&str>) {
    let size = (ui.available_height() * 0.38).clamp(140.0, 360.0);
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.04).max(8.0));
        widgets::picture(ui, pic, size, child, v.time);
        ui.add_space(18.0);
        widgets::child_sentence(ui, child);
        if let Some(a) = adult {
            ui.add_space(18.0);
            widgets::adult_line(ui, a);
        }
    });
}
