//! Every sentence the kiosk shows, in English and Spanish.
//!
//! One `match` holds both languages side by side, so a string cannot exist in one language
//! only: each arm yields the pair. Sentences are short and concrete, for children who are just
//! learning to read (the picture next to each sentence carries the meaning for those who
//! cannot); the "grown-up" lines say what an adult should do.

use serde::{Deserialize, Serialize};

use crate::app::admin_lock::Wait;

/// A display language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Es,
}

impl Lang {
    /// The other language (the flag button switches to it).
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
    }

    /// `en` or `es`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Lang::En),
            "es" | "spanish" | "español" | "espanol" => Ok(Lang::Es),
            other => Err(format!("unknown language {other:?}: use en or es")),
        }
    }
}

/// Something to say. Variants with data format it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg<'a> {
    // Scanning
    ShowCard,
    HintNoCode,
    HintComeCloser,
    HintTooDark,
    HintTooBright,
    HintHoldStill,
    HintShowAll,
    HintNotQuickCard,
    GotIt,
    CameraPreview,
    // Checking
    Checking,
    // PIN pad
    PinTitle,
    PinWrong(u32),
    PinWrongNoCount,
    PinDigits(usize),
    Delete,
    Ok,
    Cancel,
    // Dashboard
    Hello(&'a str),
    Avatar(&'a str),
    SignOut,
    Opening(&'a str),
    LaunchFailed,
    NoApps,
    IdleQuestion,
    IdleCountdown(u64),
    StillHere,
    // Signed out
    Bye,
    // Chromebook sign-in page
    SigningIn(&'a str),
    SignInExpiredChild,
    SignInExpiredAdult,
    // Errors: the child's sentence, then the grown-up's line
    ExpiredChild,
    ExpiredAdult,
    RevokedChild,
    RevokedAdult,
    OtherSchoolChild,
    OtherSchoolAdult,
    NotSchoolCardChild,
    NotSchoolCardAdult,
    NotQuickCardAdult,
    CardBrokenChild,
    ForgedAdult,
    DamagedAdult,
    UnknownKeyAdult,
    PinNotSetAdult,
    NoGoogleAccountAdult,
    ErasedChild,
    ErasedAdult,
    AskAdultChild,
    /// A refusal code this kiosk does not know, named for the grown-up.
    AskAdultAdult(&'a str),
    ClockAdult,
    NotAllowedChild,
    NotAllowedAdult,
    LockedChild,
    LockedAdult(u64),
    UnreachableChild,
    UnreachableAdult(u64),
    TryAgain,
    Back,
    // Not ready
    NoCameraChild,
    NoCameraAdult(&'a str),
    WaitingChild,
    WaitingAdult(&'a str),
    NotEnrolledChild,
    NotEnrolledAdult,
    NoTrustChild,
    NoTrustAdult,
    DemoKeyAdult,
    KioskDisabledAdult,
    // Chrome
    GrownUps,
    AdminTitle,
    AdminWrong,
    /// Too many wrong admin PINs: how long the pad stays locked.
    AdminLocked(Wait),
    LeaveKiosk,
    /// The sound's volume in percent, or off.
    SoundLevel(u8, bool),
    Quieter,
    Louder,
    Mute,
    Unmute,
    SwitchLanguage,
    DemoBanner,
}

impl Msg<'_> {
    /// The sentence in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let (en, es): (String, String) = match self {
            Msg::ShowCard => s("Show me your card!", "¡Muéstrame tu tarjeta!"),
            Msg::HintNoCode => s(
                "Hold your card up to the camera.",
                "Pon tu tarjeta delante de la cámara.",
            ),
            Msg::HintComeCloser => s("Come closer.", "Acércate más."),
            Msg::HintTooDark => s(
                "Too dark. Turn on a light.",
                "Está muy oscuro. Enciende una luz.",
            ),
            Msg::HintTooBright => s(
                "Too shiny. Tilt your card.",
                "Brilla mucho. Inclina tu tarjeta.",
            ),
            Msg::HintHoldStill => s("Hold still.", "No te muevas."),
            Msg::HintShowAll => s("Show all of your card.", "Enseña toda tu tarjeta."),
            Msg::HintNotQuickCard => s("That is not your login card.", "Esa no es tu tarjeta."),
            Msg::GotIt => s("Got it!", "¡Listo!"),
            Msg::CameraPreview => s("Camera picture", "Imagen de la cámara"),
            Msg::Checking => s("Checking your card…", "Revisando tu tarjeta…"),
            Msg::PinTitle => s("Type your PIN.", "Escribe tu PIN."),
            Msg::PinWrong(n) => (
                format!("Wrong PIN. {n} tries left."),
                format!("PIN incorrecto. Quedan {n} intentos."),
            ),
            Msg::PinWrongNoCount => s(
                "Wrong PIN. Try again.",
                "PIN incorrecto. Inténtalo otra vez.",
            ),
            Msg::PinDigits(n) => (format!("{n} digits typed"), format!("{n} números escritos")),
            Msg::Delete => s("Delete", "Borrar"),
            Msg::Ok => s("OK", "Aceptar"),
            Msg::Cancel => s("Cancel", "Cancelar"),
            Msg::Hello(name) => (format!("Hi, {name}!"), format!("¡Hola, {name}!")),
            Msg::Avatar(name) => (format!("Picture of {name}"), format!("Imagen de {name}")),
            Msg::SignOut => s("Sign out", "Salir"),
            Msg::Opening(app) => (format!("Opening {app}…"), format!("Abriendo {app}…")),
            Msg::LaunchFailed => s(
                "That app did not open. Try again.",
                "La aplicación no se abrió. Inténtalo otra vez.",
            ),
            Msg::NoApps => s("No apps for you yet.", "Todavía no tienes aplicaciones."),
            Msg::IdleQuestion => s("Are you still there?", "¿Sigues ahí?"),
            Msg::IdleCountdown(n) => (
                format!("Signing out in {n} seconds."),
                format!("Saliendo en {n} segundos."),
            ),
            Msg::StillHere => s("I'm still here", "Sigo aquí"),
            Msg::Bye => s(
                "Bye! Take your card with you.",
                "¡Adiós! Llévate tu tarjeta.",
            ),
            Msg::SigningIn(name) => (
                format!("Hi, {name}! Your Chromebook is opening…"),
                format!("¡Hola, {name}! Tu Chromebook se está abriendo…"),
            ),
            Msg::SignInExpiredChild => s("Let's start again.", "Empecemos otra vez."),
            Msg::SignInExpiredAdult => s(
                "Grown-up: this sign-in page is too old or was already used. Go back to the Chromebook's sign-in screen (the arrow at the top) to start again.",
                "Adulto: esta página de inicio de sesión es muy antigua o ya se usó. Vuelva a la pantalla de inicio de la Chromebook (la flecha de arriba) para empezar otra vez.",
            ),
            Msg::ExpiredChild => s("This card is too old.", "Esta tarjeta ya no sirve."),
            Msg::ExpiredAdult => s(
                "Grown-up: this card has expired. Print a new card from the portal.",
                "Adulto: esta tarjeta caducó. Imprima una nueva desde el portal.",
            ),
            Msg::RevokedChild => s(
                "This card was swapped for a new one.",
                "Esta tarjeta se cambió por una nueva.",
            ),
            Msg::RevokedAdult => s(
                "Grown-up: this card was replaced. Use the newest card, or print one.",
                "Adulto: esta tarjeta fue reemplazada. Use la tarjeta más nueva o imprima una.",
            ),
            Msg::OtherSchoolChild => s(
                "This card is from another school.",
                "Esta tarjeta es de otra escuela.",
            ),
            Msg::OtherSchoolAdult => s(
                "Grown-up: this computer belongs to a different school. Use this school's card.",
                "Adulto: esta computadora es de otra escuela. Use la tarjeta de esta escuela.",
            ),
            Msg::NotSchoolCardChild => s(
                "This is not a school card.",
                "Esta no es una tarjeta de la escuela.",
            ),
            Msg::NotSchoolCardAdult => s(
                "Grown-up: this code is not a QuickCard from this school, or it is damaged. Print the card again.",
                "Adulto: este código no es una QuickCard de esta escuela o está dañado. Imprima la tarjeta otra vez.",
            ),
            Msg::NotQuickCardAdult => s(
                "Grown-up: this QR code is not a QuickCard (a link or another code). Hold up the child's QuickCard.",
                "Adulto: este código QR no es una QuickCard (es un enlace u otro código). Muestre la QuickCard del niño.",
            ),
            Msg::CardBrokenChild => s(
                "This card does not work. Ask your teacher.",
                "Esta tarjeta no funciona. Pregúntale a tu maestra.",
            ),
            Msg::ForgedAdult => s(
                "Grown-up: this card was changed or copied wrongly: its signature is not valid. Print a new card from the roster.",
                "Adulto: esta tarjeta fue modificada o copiada mal: su firma no es válida. Imprima una tarjeta nueva desde la lista.",
            ),
            Msg::DamagedAdult => s(
                "Grown-up: this card is damaged or was made by a newer QuickCard version. Print it again, or update this kiosk.",
                "Adulto: esta tarjeta está dañada o la hizo una versión más nueva de QuickCard. Imprímala otra vez o actualice este quiosco.",
            ),
            Msg::UnknownKeyAdult => s(
                "Grown-up: this card was signed with a key this school does not trust (another district or a retired key). Print a new card.",
                "Adulto: esta tarjeta se firmó con una clave en la que esta escuela no confía (otro distrito o una clave retirada). Imprima una tarjeta nueva.",
            ),
            Msg::PinNotSetAdult => s(
                "Grown-up: this card needs a PIN, but none is set for this person yet. Set one on the portal (quickcard-portal pin set).",
                "Adulto: esta tarjeta necesita un PIN, pero esta persona aún no tiene uno. Configúrelo en el portal (quickcard-portal pin set).",
            ),
            Msg::NoGoogleAccountAdult => s(
                "Grown-up: QuickCard knows no Google account for this student (no e-mail on the roster and no rule for the school). Ask the district's administrator.",
                "Adulto: QuickCard no conoce ninguna cuenta de Google de este alumno (no hay correo en la lista ni regla para la escuela). Pregunte al administrador del distrito.",
            ),
            Msg::ErasedChild => s(
                "This card can't be used any more. Show it to your teacher.",
                "Esta tarjeta ya no se puede usar. Enséñasela a tu maestra.",
            ),
            Msg::ErasedAdult => s(
                "Grown-up: this person's data was erased from QuickCard at the district's request, so their cards never work again. Keep the card and give it to the school office.",
                "Adulto: los datos de esta persona se borraron de QuickCard a pedido del distrito, así que sus tarjetas ya no funcionan. Guarde la tarjeta y entréguela a la oficina de la escuela.",
            ),
            Msg::AskAdultChild => s(
                "Please ask a grown-up for help.",
                "Pide ayuda a un adulto, por favor.",
            ),
            Msg::AskAdultAdult(code) => (
                format!(
                    "Grown-up: the portal refused this card for a reason this kiosk does not know ({code}). The portal may be newer than this kiosk: update the kiosk, or ask the district's administrator."
                ),
                format!(
                    "Adulto: el portal rechazó esta tarjeta por un motivo que este quiosco no conoce ({code}). El portal puede ser más nuevo que este quiosco: actualice el quiosco o pregunte al administrador del distrito."
                ),
            ),
            Msg::ClockAdult => s(
                "Grown-up: the card is dated in the future. Check this computer's clock.",
                "Adulto: la tarjeta tiene una fecha futura. Revise el reloj de esta computadora.",
            ),
            Msg::NotAllowedChild => s(
                "This card cannot be used here.",
                "Esta tarjeta no se puede usar aquí.",
            ),
            Msg::NotAllowedAdult => s(
                "Grown-up: this user is not on the school list, or may not use this computer. Check the roster in the portal.",
                "Adulto: este usuario no está en la lista de la escuela o no puede usar esta computadora. Revise la lista en el portal.",
            ),
            Msg::LockedChild => s(
                "Too many tries. Wait a little.",
                "Demasiados intentos. Espera un poco.",
            ),
            Msg::LockedAdult(m) => (
                format!("Grown-up: this card is locked for {m} more minutes after wrong PINs."),
                format!("Adulto: esta tarjeta está bloqueada {m} minutos más por PIN incorrectos."),
            ),
            Msg::UnreachableChild => s(
                "The computer cannot reach the school.",
                "La computadora no se puede conectar con la escuela.",
            ),
            Msg::UnreachableAdult(n) => (
                format!(
                    "Grown-up: the portal does not answer. Check the network. Trying again in {n} seconds."
                ),
                format!(
                    "Adulto: el portal no responde. Revise la red. Se intentará de nuevo en {n} segundos."
                ),
            ),
            Msg::TryAgain => s("Try again", "Otra vez"),
            Msg::Back => s("Back", "Volver"),
            Msg::NoCameraChild => s("The camera is not working.", "La cámara no funciona."),
            Msg::NoCameraAdult(detail) => (
                format!("Grown-up: plug in a camera, or close programs that use it. ({detail})"),
                format!(
                    "Adulto: conecte una cámara o cierre los programas que la usan. ({detail})"
                ),
            ),
            Msg::WaitingChild => s("Waiting for the school…", "Esperando a la escuela…"),
            Msg::WaitingAdult(url) => (
                format!(
                    "Grown-up: the portal at {url} does not answer. Check the network. Retrying."
                ),
                format!("Adulto: el portal en {url} no responde. Revise la red. Reintentando."),
            ),
            Msg::NotEnrolledChild => s(
                "This computer is not set up yet.",
                "Esta computadora todavía no está preparada.",
            ),
            Msg::NotEnrolledAdult => s(
                "Grown-up: enrol this kiosk: quickcard-kiosk enroll --portal URL --code CODE",
                "Adulto: registre este quiosco: quickcard-kiosk enroll --portal URL --code CODE",
            ),
            Msg::NoTrustChild => s(
                "This computer cannot check cards yet.",
                "Esta computadora todavía no puede revisar tarjetas.",
            ),
            Msg::NoTrustAdult => s(
                "Grown-up: no trusted card keys. Add the school's issuer key to the portal or the config.",
                "Adulto: no hay claves de confianza. Añada la clave emisora de la escuela en el portal o la configuración.",
            ),
            Msg::DemoKeyAdult => s(
                "Grown-up: the trust list holds the public demo key, which anyone can use to print cards. Remove it, or run the demo instead.",
                "Adulto: la lista de confianza tiene la clave pública de demostración, con la que cualquiera puede imprimir tarjetas. Quítela o use la demostración.",
            ),
            Msg::KioskDisabledAdult => s(
                "Grown-up: the portal does not accept this kiosk (disabled or credential revoked). Enrol it again.",
                "Adulto: el portal no acepta este quiosco (desactivado o credencial revocada). Regístrelo de nuevo.",
            ),
            Msg::GrownUps => s("Grown-ups", "Adultos"),
            Msg::AdminTitle => s(
                "Admin PIN to leave the kiosk",
                "PIN de administración para salir del quiosco",
            ),
            Msg::AdminWrong => s("Wrong admin PIN.", "PIN de administración incorrecto."),
            Msg::AdminLocked(wait) => {
                let (en, es) = match *wait {
                    Wait::Seconds(1) => ("1 second".to_string(), "1 segundo".to_string()),
                    Wait::Seconds(n) => (format!("{n} seconds"), format!("{n} segundos")),
                    Wait::Minutes(1) => ("1 minute".to_string(), "1 minuto".to_string()),
                    Wait::Minutes(n) => (format!("{n} minutes"), format!("{n} minutos")),
                };
                (
                    format!("Too many wrong PINs. Try again in {en}."),
                    format!("Demasiados PIN incorrectos. Inténtelo de nuevo en {es}."),
                )
            }
            Msg::LeaveKiosk => s("Leave kiosk", "Salir del quiosco"),
            Msg::SoundLevel(_, true) => s("Sound: off", "Sonido: apagado"),
            Msg::SoundLevel(pct, false) => (format!("Sound: {pct}%"), format!("Sonido: {pct} %")),
            Msg::Quieter => s("Quieter", "Más bajo"),
            Msg::Louder => s("Louder", "Más alto"),
            Msg::Mute => s("Sound off", "Silenciar"),
            Msg::Unmute => s("Sound on", "Activar sonido"),
            Msg::SwitchLanguage => s("Español", "English"),
            Msg::DemoBanner => s(
                "Demo mode: sample cards, demo key",
                "Modo demostración: tarjetas de ejemplo, clave de prueba",
            ),
        };
        match lang {
            Lang::En => en,
            Lang::Es => es,
        }
    }
}

fn s(en: &str, es: &str) -> (String, String) {
    (en.to_string(), es.to_string())
}

/// One sample of every message (for tests that check both languages are complete).
pub fn every_message() -> Vec<Msg<'static>> {
    use Msg::*;
    vec![
        ShowCard,
        HintNoCode,
        HintComeCloser,
        HintTooDark,
        HintTooBright,
        HintHoldStill,
        HintShowAll,
        HintNotQuickCard,
        GotIt,
        CameraPreview,
        Checking,
        PinTitle,
        PinWrong(2),
        PinWrongNoCount,
        PinDigits(3),
        Delete,
        Ok,
        Cancel,
        Hello("Maya"),
        Avatar("Maya"),
        SignOut,
        Opening("Reading"),
        LaunchFailed,
        NoApps,
        IdleQuestion,
        IdleCountdown(9),
        StillHere,
        Bye,
        SigningIn("Maya"),
        SignInExpiredChild,
        SignInExpiredAdult,
        ExpiredChild,
        ExpiredAdult,
        RevokedChild,
        RevokedAdult,
        OtherSchoolChild,
        OtherSchoolAdult,
        NotSchoolCardChild,
        NotSchoolCardAdult,
        NotQuickCardAdult,
        CardBrokenChild,
        ForgedAdult,
        DamagedAdult,
        UnknownKeyAdult,
        PinNotSetAdult,
        NoGoogleAccountAdult,
        ErasedChild,
        ErasedAdult,
        AskAdultChild,
        AskAdultAdult("something_new"),
        ClockAdult,
        NotAllowedChild,
        NotAllowedAdult,
        LockedChild,
        LockedAdult(5),
        UnreachableChild,
        UnreachableAdult(5),
        TryAgain,
        Back,
        NoCameraChild,
        NoCameraAdult("no camera"),
        WaitingChild,
        WaitingAdult("http://portal"),
        NotEnrolledChild,
        NotEnrolledAdult,
        NoTrustChild,
        NoTrustAdult,
        DemoKeyAdult,
        KioskDisabledAdult,
        GrownUps,
        AdminTitle,
        AdminWrong,
        AdminLocked(Wait::Seconds(30)),
        AdminLocked(Wait::Minutes(1)),
        LeaveKiosk,
        SoundLevel(80, false),
        SoundLevel(80, true),
        Quieter,
        Louder,
        Mute,
        Unmute,
        SwitchLanguage,
        DemoBanner,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_both_languages() {
        for m in every_message() {
            let (en, es) = (m.text(Lang::En), m.text(Lang::Es));
            assert!(!en.trim().is_empty() && !es.trim().is_empty(), "{m:?}");
            // "OK" is the one word that could be the same; everything else is translated.
            assert_ne!(en, es, "{m:?} is not translated");
        }
    }

    #[test]
    fn parameters_are_formatted_in() {
        assert_eq!(Msg::Hello("Maya").text(Lang::En), "Hi, Maya!");
        assert_eq!(Msg::Hello("Maya").text(Lang::Es), "¡Hola, Maya!");
        assert!(Msg::LockedAdult(7).text(Lang::Es).contains("7 minutos"));
        assert_eq!(
            Msg::AdminLocked(Wait::Minutes(2)).text(Lang::En),
            "Too many wrong PINs. Try again in 2 minutes."
        );
        assert!(
            Msg::AdminLocked(Wait::Seconds(1))
                .text(Lang::Es)
                .contains("en 1 segundo.")
        );
        assert_eq!("ES".parse::<Lang>().unwrap(), Lang::Es);
        assert!("fr".parse::<Lang>().is_err());
    }
}
