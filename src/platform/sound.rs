//! The native kiosk's sound: the cues and prompts of `assets/sounds/`, embedded in the binary
//! and played with rodio on the default ALSA device.
//!
//! The UI never waits for sound, and a kiosk without a sound device (or whose device goes
//! away) is only silent: the device is opened on a thread of its own, the port's calls are
//! messages to that thread, and every failure is logged once, never returned. The files are
//! embedded so that a packaged kiosk cannot lose them and needs no path to find them.

use std::io::Cursor;
use std::sync::mpsc;

use crate::app::i18n::Lang;
use crate::app::ports::{Cue, PromptId, Sound};

/// At most this many sounds wait to play: when cues come faster than they can be said, the
/// newest are dropped rather than heard seconds late.
const MAX_QUEUED: usize = 2;

/// The file for `cue`, from the binary.
pub fn bytes(cue: Cue) -> &'static [u8] {
    macro_rules! prompt {
        ($lang:expr, $stem:literal) => {
            match $lang {
                Lang::En => include_bytes!(concat!("../../assets/sounds/en/", $stem, ".wav")),
                Lang::Es => include_bytes!(concat!("../../assets/sounds/es/", $stem, ".wav")),
            }
        };
    }
    match cue {
        Cue::Chime => include_bytes!("../../assets/sounds/cues/chime.wav"),
        Cue::GotIt => include_bytes!("../../assets/sounds/cues/got_it.wav"),
        Cue::TryAgain => include_bytes!("../../assets/sounds/cues/try_again.wav"),
        Cue::Tick => include_bytes!("../../assets/sounds/cues/tick.wav"),
        Cue::Prompt(p, lang) => match p {
            PromptId::ComeCloser => prompt!(lang, "come_closer"),
            PromptId::TooDark => prompt!(lang, "too_dark"),
            PromptId::TooBright => prompt!(lang, "too_bright"),
            PromptId::HoldStill => prompt!(lang, "hold_still"),
            PromptId::ShowAll => prompt!(lang, "show_all"),
            PromptId::NotYourCard => prompt!(lang, "not_your_card"),
            PromptId::WrongPin => prompt!(lang, "wrong_pin"),
            PromptId::TooOld => prompt!(lang, "too_old"),
            PromptId::Swapped => prompt!(lang, "swapped"),
            PromptId::OtherSchool => prompt!(lang, "other_school"),
            PromptId::NotSchoolCard => prompt!(lang, "not_school_card"),
            PromptId::CardBroken => prompt!(lang, "card_broken"),
            PromptId::Erased => prompt!(lang, "erased"),
            PromptId::AskAdult => prompt!(lang, "ask_adult"),
            PromptId::NotAllowed => prompt!(lang, "not_allowed"),
            PromptId::Locked => prompt!(lang, "locked"),
            PromptId::Unreachable => prompt!(lang, "unreachable"),
        },
    }
}

enum Command {
    Play(Cue),
    Volume(f32),
}

/// Plays on the default sound device, from a thread of its own.
#[derive(Debug)]
pub struct NativeSound {
    tx: mpsc::Sender<Command>,
}

impl NativeSound {
    /// Starts the sound thread. It opens the device at once; without one it stays silent.
    pub fn start() -> NativeSound {
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("quickcard-sound".into())
            .spawn(move || play_loop(rx));
        if let Err(e) = spawned {
            tracing::warn!("no sound: cannot start the sound thread: {e}");
        }
        NativeSound { tx }
    }
}

impl Sound for NativeSound {
    fn play(&self, cue: Cue) {
        // The thread is gone only when there is no sound anyway.
        let _ = self.tx.send(Command::Play(cue));
    }
    fn set_volume(&self, volume: f32, muted: bool) {
        let v = if muted { 0.0 } else { volume.clamp(0.0, 1.0) };
        let _ = self.tx.send(Command::Volume(v));
    }
}

fn play_loop(rx: mpsc::Receiver<Command>) {
    // The device handle and the player live on this thread: the device handle is not `Send`
    // everywhere, and playback must outlive every call.
    let device = match rodio::DeviceSinkBuilder::open_default_sink() {
        Ok(mut d) => {
            // Dropping the handle at exit is normal; rodio would print a line about it.
            d.log_on_drop(false);
            Some(d)
        }
        Err(e) => {
            tracing::warn!("no sound device, the kiosk stays silent: {e}");
            None
        }
    };
    let player = device
        .as_ref()
        .map(|d| rodio::Player::connect_new(d.mixer()));
    for command in rx {
        let Some(player) = &player else {
            continue;
        };
        match command {
            Command::Volume(v) => player.set_volume(v),
            Command::Play(cue) => {
                if player.len() > MAX_QUEUED {
                    continue;
                }
                match rodio::Decoder::new_wav(Cursor::new(bytes(cue))) {
                    Ok(source) => player.append(source),
                    Err(e) => tracing::warn!("cannot decode the sound {}: {e}", cue.path()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cue_is_embedded_and_decodes() {
        let mut cues = Cue::SHORT.to_vec();
        for lang in [Lang::En, Lang::Es] {
            cues.extend(PromptId::ALL.iter().map(|&p| Cue::Prompt(p, lang)));
        }
        for cue in cues {
            let on_disk = std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("assets/sounds")
                    .join(cue.path()),
            )
            .unwrap();
            // The right file under the right name: the embedded bytes are the file's.
            assert_eq!(bytes(cue), &on_disk[..], "{cue:?}");
            assert!(
                rodio::Decoder::new_wav(Cursor::new(bytes(cue))).is_ok(),
                "{cue:?}"
            );
        }
    }

    #[test]
    fn no_device_is_not_an_error() {
        // On a machine without a sound card (CI) this opens nothing and stays silent; on one
        // with a card it plays a tick. Either way nothing fails or blocks.
        let s = NativeSound::start();
        s.set_volume(0.0, true);
        s.play(Cue::Tick);
    }
}
