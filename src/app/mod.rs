//! The kiosk app: what a child sees, as one egui app that builds natively and for the browser.
//!
//! Data flows one way:
//!
//! ```text
//! scanner ──frames read──► platform camera ──CameraEvent──┐
//!                                                          ▼
//!   screens ──Action──► driver ──Input──► core (+ flows) ──Effect──► driver ──► ports
//!      ▲                  ▲                                                      ▲
//!      └──── state ◄──────┘◄──────── Input (portal replies, launcher answers) ◄──┘
//!                                                                platform implements
//! ```
//!
//! - [`ports`]: the traits the core needs from outside (portal, runtime, clock, camera,
//!   launcher, storage); [`crate::platform`] implements them, tests fake them;
//! - [`state`]: what the screens draw (screens, errors, session, settings) and the
//!   [`Action`]s they hand back;
//! - [`core`]: the pure state machine, `handle(Input) -> Vec<Effect>`, with its flows in
//!   [`flow`] (config sync, card, session, admin);
//! - [`driver`]: [`Kiosk`], which runs the effects through the ports and
//!   feeds their results back as inputs;
//! - [`error_codes`] and [`admin_lock`]: which screen each refusal code gets; the admin
//!   pad's lock;
//! - [`screens`]: one file per screen, drawing from the state and returning actions;
//! - [`i18n`]: every sentence in English and Spanish;
//! - [`pictures`] and [`widgets`]: the painted pictures, colours, big buttons.
//!
//! [`KioskApp`] glues them to egui: each frame it lets the driver [`tick`](driver::Kiosk::tick),
//! draws the current screen and hands the actions back. It runs the same inside eframe's
//! window, in `egui_kittest`'s headless harness and in the browser.

pub mod admin_lock;
pub mod core;
pub mod driver;
pub mod error_codes;
pub mod flow;
pub mod i18n;
pub mod pictures;
pub mod ports;
pub mod screens;
pub mod state;
pub mod widgets;

use eframe::egui::{self, RichText, Ui};

use crate::app::driver::Kiosk;
use crate::app::i18n::Msg;
use crate::app::screens::View;
use crate::app::state::{Action, Screen};

/// The egui side of the kiosk.
pub struct KioskApp {
    kiosk: Kiosk,
    preview: Option<egui::TextureHandle>,
    preview_seq: u64,
    styled: bool,
    /// When set, closing the window needs the admin PIN (kiosk mode).
    locked: bool,
    title: String,
    /// The buttons drawn in the last frame.
    offered: Vec<screens::Offered>,
}

impl std::fmt::Debug for KioskApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskApp")
            .field("kiosk", &self.kiosk)
            .finish_non_exhaustive()
    }
}

impl KioskApp {
    pub fn new(kiosk: Kiosk, locked: bool) -> KioskApp {
        KioskApp {
            kiosk,
            preview: None,
            preview_seq: 0,
            styled: false,
            locked,
            title: String::new(),
            offered: Vec::new(),
        }
    }

    pub fn kiosk(&self) -> &Kiosk {
        &self.kiosk
    }

    pub fn kiosk_mut(&mut self) -> &mut Kiosk {
        &mut self.kiosk
    }

    /// The buttons on the screen in the last frame, with their labels (for the browser page's
    /// accessible mirror and for tests).
    pub fn offered(&self) -> &[screens::Offered] {
        &self.offered
    }

    /// Presses the button labelled `label` if the last frame drew it, as a click would (also
    /// counts as activity). Returns whether there was such a button.
    pub fn press(&mut self, label: &str) -> bool {
        let Some(action) = self
            .offered
            .iter()
            .find(|o| o.label == label)
            .map(|o| o.action.clone())
        else {
            return false;
        };
        self.kiosk.act(Action::Activity);
        self.kiosk.act(action);
        true
    }

    fn style(&mut self, ctx: &egui::Context) {
        if self.styled {
            return;
        }
        self.styled = true;
        ctx.set_visuals(egui::Visuals::light());
        ctx.global_style_mut(|s| {
            s.spacing.button_padding = egui::vec2(20.0, 12.0);
            s.spacing.item_spacing = egui::vec2(12.0, 12.0);
            s.spacing.interact_size = egui::vec2(widgets::MIN_TOUCH, widgets::MIN_TOUCH);
            s.visuals.panel_fill = widgets::BG;
            s.visuals.override_text_color = None;
            s.visuals.selection.stroke.color = widgets::INK;
            // A thick, dark focus ring for keyboard users.
            s.visuals.widgets.hovered.bg_stroke = egui::Stroke::new(3.0, widgets::INK);
            s.visuals.widgets.active.bg_stroke = egui::Stroke::new(4.0, widgets::INK);
        });
    }

    /// One frame: advance the core, draw the screen, apply the button presses.
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.style(&ctx);
        self.kiosk.tick();
        let mut actions = Vec::new();
        if ctx.input(|i| {
            i.pointer.any_pressed()
                || i.events.iter().any(|e| {
                    matches!(
                        e,
                        egui::Event::Key { pressed: true, .. } | egui::Event::Touch { .. }
                    )
                })
        }) {
            actions.push(Action::Activity);
        }
        if self.locked
            && ctx.input(|i| i.viewport().close_requested())
            && !self.kiosk.quit_requested()
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            actions.push(Action::AdminOpen);
        }
        self.update_preview(&ctx);

        let time = ctx.input(|i| i.time);
        let lang = self.kiosk.lang();
        let screen = self.kiosk.screen().clone();
        let mut offered = Vec::new();
        egui::CentralPanel::default()
            .frame(
                egui::Frame::new()
                    .fill(widgets::BG)
                    .inner_margin(egui::Margin::same(24)),
            )
            .show(ui, |ui| {
                let mut v = View {
                    kiosk: &self.kiosk,
                    lang,
                    time,
                    preview: self.preview.as_ref(),
                    actions: &mut actions,
                    offered: &mut offered,
                };
                top_bar(ui, &mut v);
                ui.add_space(8.0);
                if let Some(admin) = self.kiosk.admin() {
                    screens::admin::show(ui, &mut v, admin);
                    return;
                }
                match &screen {
                    Screen::NotReady(why) => screens::not_ready::show(ui, &mut v, why),
                    Screen::Scanning { hint } => screens::scanning::show(ui, &mut v, hint.as_ref()),
                    Screen::Checking { .. } => screens::checking::show(ui, &mut v),
                    Screen::PinPad { pin, wrong } => {
                        screens::pin_pad::show(ui, &mut v, pin.len(), *wrong)
                    }
                    Screen::Dashboard {
                        opening,
                        launch_failed,
                    } => {
                        if let Some(s) = self.kiosk.session() {
                            screens::dashboard::show(
                                ui,
                                &mut v,
                                s,
                                opening.as_deref(),
                                *launch_failed,
                            );
                        }
                    }
                    Screen::SignedOut { .. } => screens::signed_out::show(ui, &mut v),
                    Screen::SigningIn => {
                        if let Some(s) = self.kiosk.session() {
                            screens::signing_in::show(ui, &mut v, s);
                        }
                    }
                    Screen::Error { kind, .. } => screens::error::show(ui, &mut v, kind),
                }
                if let Some(secs) = self.kiosk.idle_countdown_secs() {
                    screens::idle::show(ui, &mut v, secs);
                }
            });
        self.offered = offered;
        for a in actions {
            self.kiosk.act(a);
        }
        if self.kiosk.quit_requested() {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        let title = format!("QuickCard kiosk — {}", self.kiosk.screen().name());
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        // Timers (countdowns, error screens, animations) need frames even without input.
        let animated = matches!(
            self.kiosk.screen(),
            Screen::Scanning { .. } | Screen::Checking { .. }
        );
        ctx.request_repaint_after(std::time::Duration::from_millis(if animated {
            50
        } else {
            250
        }));
    }

    fn update_preview(&mut self, ctx: &egui::Context) {
        let (preview, seq) = self.kiosk.preview();
        match preview {
            None => self.preview = None,
            Some(p) if seq != self.preview_seq => {
                let img = egui::ColorImage::from_rgb([p.width, p.height], &p.rgb);
                match &mut self.preview {
                    Some(tex) if tex.size() == [p.width, p.height] => {
                        tex.set(img, egui::TextureOptions::LINEAR)
                    }
                    _ => {
                        self.preview =
                            Some(ctx.load_texture("camera", img, egui::TextureOptions::LINEAR))
                    }
                }
                self.preview_seq = seq;
            }
            Some(_) => {}
        }
    }
}

/// Language switch on the left, demo banner in the middle, the grown-ups' button on the right.
fn top_bar(ui: &mut Ui, v: &mut View<'_>) {
    ui.horizontal(|ui| {
        let lang = v.t(Msg::SwitchLanguage);
        let b = widgets::big_button(ui, &lang, widgets::BLUE, 200.0);
        v.press(&b, &lang, Action::SwitchLanguage);
        if v.kiosk.settings().demo {
            ui.add_space(16.0);
            ui.label(
                RichText::new(v.t(Msg::DemoBanner))
                    .size(widgets::ADULT_TEXT)
                    .color(widgets::INK_SOFT),
            );
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let g = v.t(Msg::GrownUps);
            let b = widgets::big_button(ui, &g, widgets::GREY, 200.0);
            v.press(&b, &g, Action::AdminOpen);
        });
    });
}

impl eframe::App for KioskApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }
}
