//! The page's plain services for the app core: a runtime on the page's event loop, the
//! launcher that opens apps (and hands a Chromebook sign-in to ChromeOS), and `localStorage`.
//!
//! Why a module of its own: these adapters hold no state; together they show in one place
//! everything the core asks of the browser apart from camera frames and the page's mirror.

use std::sync::Arc;
use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{STORAGE_PREFIX, js_text};
use crate::app::ports::{BoxFuture, Launcher, Runtime, Storage};
use crate::portal_client::{SignInHandoff, Sleeper};

/// Resolves after `d` (a `setTimeout` promise).
pub async fn sleep(d: Duration) {
    let ms = d.as_millis().min(i32::MAX as u128) as i32;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// The portal client's back-off sleeper.
pub fn sleeper() -> Sleeper {
    Arc::new(|d| Box::pin(sleep(d)))
}

/// Runs futures on the page's event loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebRuntime;

impl Runtime for WebRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(fut);
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(sleep(d))
    }
}

/// Opens launch URLs in a new window (a ChromeOS kiosk app may open windows).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebLauncher;

impl Launcher for WebLauncher {
    fn open(&self, url: &str) -> Result<(), String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "refusing to open a non-web URL ({} chars)",
                url.len()
            ));
        }
        let window = web_sys::window().ok_or("no browser window")?;
        match window.open_with_url_and_target(url, "_blank") {
            Ok(Some(_)) => Ok(()),
            Ok(None) => {
                Err("the browser blocked the new window; allow pop-ups for this site".into())
            }
            Err(e) => Err(format!("cannot open the app: {}", js_text(&e))),
        }
    }

    fn sign_in(&self, handoff: &SignInHandoff) -> Result<(), String> {
        if !(handoff.acs_url.starts_with("https://") || handoff.acs_url.starts_with("http://")) {
            return Err("the portal sent a sign-in target that is not a web address".into());
        }
        let window = web_sys::window().ok_or("no browser window")?;
        pass_credentials(&window, handoff);
        let document = window.document().ok_or("no document")?;
        let form: web_sys::HtmlFormElement = document
            .create_element("form")
            .and_then(|f| f.dyn_into().map_err(JsValue::from))
            .map_err(|e| format!("cannot make the sign-in form: {}", js_text(&e)))?;
        form.set_method("post");
        form.set_action(&handoff.acs_url);
        form.set_attribute("hidden", "").ok();
        let mut fields = vec![("SAMLResponse", handoff.saml_response.as_str())];
        if !handoff.relay_state.is_empty() {
            fields.push(("RelayState", handoff.relay_state.as_str()));
        }
        for (name, value) in fields {
            let input = document
                .create_element("input")
                .map_err(|e| format!("cannot make the sign-in form: {}", js_text(&e)))?;
            // Properties, not markup: nothing in the values is ever parsed as HTML.
            input.set_attribute("type", "hidden").ok();
            input.set_attribute("name", name).ok();
            input.set_attribute("value", value).ok();
            form.append_child(&input).ok();
        }
        document
            .body()
            .ok_or("no page body")?
            .append_child(&form)
            .map_err(|e| format!("cannot make the sign-in form: {}", js_text(&e)))?;
        // A moment for ChromeOS to take the credentials in (its listener forwards them to the
        // sign-in screen asynchronously) before the page leaves.
        let submit = Closure::once_into_js(move || {
            if let Err(e) = form.submit() {
                web_sys::console::error_1(&e);
            }
        });
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                submit.unchecked_ref(),
                CREDENTIALS_SETTLE_MS,
            )
            .map_err(|e| format!("cannot post the sign-in: {}", js_text(&e)))?;
        Ok(())
    }
}

/// How long the sign-in page waits between handing ChromeOS the password and leaving.
const CREDENTIALS_SETTLE_MS: i32 = 300;

/// The Chrome Credentials Passing API (`gaia_saml_api` messages to the page's own window, which
/// ChromeOS's sign-in screen listens to): `initialize`, `add` the user's ChromeOS password as a
/// plain password, then `confirm` that the sign-in succeeded. Outside the ChromeOS sign-in
/// screen nobody listens and the messages are dropped. The password is the per-user secret the
/// portal keeps (never typed, printed or in the QR), so the same child on the same Chromebook
/// gets the same encrypted home and lock screen every time.
fn pass_credentials(window: &web_sys::Window, handoff: &SignInHandoff) {
    let token = format!("quickcard-{}", js_sys::Date::now() as u64);
    let call = |fields: &[(&str, JsValue)]| {
        let call = js_sys::Object::new();
        for (k, v) in fields {
            let _ = js_sys::Reflect::set(&call, &(*k).into(), v);
        }
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"type".into(), &"gaia_saml_api".into());
        let _ = js_sys::Reflect::set(&msg, &"call".into(), &call);
        // Only this page's own origin receives it.
        if let Err(e) = window.post_message(&msg, "/") {
            web_sys::console::warn_1(&e);
        }
    };
    call(&[
        ("method", "initialize".into()),
        ("requestedVersion", 1.into()),
    ]);
    if !handoff.password.is_empty() {
        call(&[
            ("method", "add".into()),
            ("token", token.as_str().into()),
            ("user", handoff.email.as_str().into()),
            ("passwordBytes", handoff.password.as_str().into()),
            ("keyType", "KEY_TYPE_PASSWORD_PLAIN".into()),
        ]);
    }
    call(&[
        ("method", "confirm".into()),
        ("token", token.as_str().into()),
    ]);
}

/// `localStorage`, every key prefixed with [`STORAGE_PREFIX`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalStorage;

impl LocalStorage {
    fn store() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }
}

impl Storage for LocalStorage {
    fn load(&self, name: &str) -> Option<String> {
        Self::store()?
            .get_item(&format!("{STORAGE_PREFIX}{name}"))
            .ok()?
    }
    fn save(&self, name: &str, text: &str) -> Result<(), String> {
        Self::store()
            .ok_or("this browser keeps no local storage for the page")?
            .set_item(&format!("{STORAGE_PREFIX}{name}"), text)
            .map_err(|e| format!("cannot store {name}: {}", js_text(&e)))
    }
}
