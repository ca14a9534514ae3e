//! What the page's address tells the browser kiosk at start-up.
//!
//! A school publishes one address per use, e.g.
//! `https://portal.school.example/kiosk/?mode=lab` for a ChromeOS web kiosk or managed guest
//! session, `…/kiosk/?mode=signin` for the Chromebook sign-in screen. The query is
//! parsed here, once, into a checked [`PageStart`]; a bad value is refused with the key and
//! what to write instead, and the page shows that message instead of a half-working kiosk.
//!
//! Keys (all optional): `mode` = `lab` (default) | `signin`; `portal` = the portal's absolute
//! `http(s)` address, which must be the page's own origin (the default: the portal serves the
//! page); `lang` = `en` | `es`; `camera` = `user` (default) | `environment`; `demo` = `1` trusts
//! the demo key, refused unless the portal is on this machine (loopback).
//!
//! Why `portal` cannot name another site: the page sends the kiosk credential, the cards and
//! the PINs to the portal, so an address that anyone can write (a link, a bookmark, a QR
//! code) would hand them to whoever it names. The page's Content-Security-Policy
//! (`connect-src 'self'`) blocks such requests too; refusing here says why on the screen.

use thiserror::Error;

use crate::app::i18n::Lang;

/// Which kiosk the page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Scan → dashboard → tiles → sign-out, as on the native lab kiosk.
    #[default]
    Lab,
    /// The Chromebook sign-in screen.
    SignIn,
}

/// Which camera `getUserMedia` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Facing {
    /// The back camera (tablets, document cameras).
    Environment,
    /// The camera on the screen's side: a Chromebook's lid camera, which the child faces
    /// while holding the card up (the default: a Chromebook with one camera uses it either
    /// way, a convertible with two would otherwise open the camera facing away).
    #[default]
    User,
}

impl Facing {
    /// The `facingMode` constraint value.
    pub fn constraint(self) -> &'static str {
        match self {
            Facing::Environment => "environment",
            Facing::User => "user",
        }
    }
}

/// The start-up choices, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStart {
    pub mode: Mode,
    /// Absolute, without a trailing slash.
    pub portal_url: String,
    pub lang: Option<Lang>,
    pub facing: Facing,
    pub demo: bool,
    /// Sign-in mode: the pending sign-in the portal created for this page (its address).
    pub request: Option<String>,
}

/// Why the page address cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PageError {
    #[error("page address: {key}={value:?} is not valid; use {expected}")]
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "page address: demo=1 is only allowed with a portal on this machine (127.0.0.1 or localhost)"
    )]
    DemoNotLocal,
    #[error(
        "page address: portal={value:?} is another site; this kiosk talks only to the portal \
         that serves the page ({origin}): remove portal= from the address, or open the page \
         from that portal"
    )]
    OtherOrigin { value: String, origin: String },
    #[error(
        "page address: the sign-in page is opened by the Chromebook's sign-in screen (through \
         the portal's /saml/sso), not directly; its address carries request=…"
    )]
    NoSignInRequest,
}

/// Parses `query` (with or without the leading `?`); `origin` is the page's own origin
/// (`https://host[:port]`), the default portal.
pub fn parse(query: &str, origin: &str) -> Result<PageStart, PageError> {
    let mut start = PageStart {
        mode: Mode::Lab,
        portal_url: origin.trim_end_matches('/').to_string(),
        lang: None,
        facing: Facing::User,
        demo: false,
        request: None,
    };
    let query = query.strip_prefix('?').unwrap_or(query);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k);
        let value = decode(v);
        let invalid = |key: &'static str, expected: &'static str| PageError::Invalid {
            key,
            value: value.clone(),
            expected,
        };
        match key.as_str() {
            "mode" => {
                start.mode = match value.as_str() {
                    "lab" | "" => Mode::Lab,
                    "signin" | "sign-in" => Mode::SignIn,
                    _ => return Err(invalid("mode", "lab or signin")),
                }
            }
            "portal" => {
                if !is_web_url(&value) {
                    return Err(invalid("portal", "an absolute http:// or https:// address"));
                }
                if web_origin(&value) != web_origin(origin) {
                    return Err(PageError::OtherOrigin {
                        value,
                        origin: origin.trim_end_matches('/').to_string(),
                    });
                }
                start.portal_url = value.trim_end_matches('/').to_string();
            }
            "lang" => {
                start.lang = Some(value.parse().map_err(|_| invalid("lang", "en or es"))?);
            }
            "camera" => {
                start.facing = match value.as_str() {
                    "environment" | "back" => Facing::Environment,
                    "user" | "front" => Facing::User,
                    _ => return Err(invalid("camera", "environment or user")),
                }
            }
            "demo" => {
                start.demo = match value.as_str() {
                    "1" | "true" => true,
                    "0" | "false" | "" => false,
                    _ => return Err(invalid("demo", "1 or 0")),
                }
            }
            "request" => {
                let ok = (16..=128).contains(&value.len())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !ok {
                    return Err(invalid("request", "the id the portal put there"));
                }
                start.request = Some(value);
            }
            // Unknown keys (tracking parameters, cache busters) are ignored.
            _ => {}
        }
    }
    if !is_web_url(&start.portal_url) {
        return Err(PageError::Invalid {
            key: "portal",
            value: start.portal_url,
            expected: "an absolute http:// or https:// address (the page has no web origin)",
        });
    }
    if start.demo && !is_loopback(&start.portal_url) {
        return Err(PageError::DemoNotLocal);
    }
    if start.mode == Mode::SignIn && start.request.is_none() {
        return Err(PageError::NoSignInRequest);
    }
    Ok(start)
}

fn is_web_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains(['@', ' '])
    })
}

/// `scheme://host[:port]` of an absolute `http(s)` address, lower-cased and without the
/// scheme's default port, so that two spellings of one origin compare equal.
fn web_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

fn is_loopback(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or("");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Percent-decoding of one query component (`+` is a space); bad escapes stay as written.
fn decode(s: &str) -> String {
    let bytes = quickcard::util::percent_decode(s, quickcard::util::BadEscape::Keep)
        .expect("bad escapes are kept, never refused");
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://portal.school.example";

    #[test]
    fn defaults_to_a_lab_kiosk_on_the_page_origin() {
        let s = parse("", ORIGIN).unwrap();
        assert_eq!(s.mode, Mode::Lab);
        assert_eq!(s.portal_url, ORIGIN);
        assert_eq!((s.lang, s.facing, s.demo), (None, Facing::User, false));
    }

    #[test]
    fn reads_every_key() {
        let s = parse(
            "?mode=signin&portal=http%3A%2F%2F127.0.0.1%3A8080%2F&lang=es&camera=back&demo=1&utm=x\
             &request=Abc-123_def456XYZ",
            "http://127.0.0.1:8080",
        )
        .unwrap();
        assert_eq!(s.mode, Mode::SignIn);
        assert_eq!(s.request.as_deref(), Some("Abc-123_def456XYZ"));
        assert_eq!(s.portal_url, "http://127.0.0.1:8080");
        assert_eq!(s.lang, Some(Lang::Es));
        assert_eq!(s.facing, Facing::Environment);
        assert!(s.demo);
    }

    #[test]
    fn refuses_bad_values_with_the_key() {
        let e = parse("mode=tablet", ORIGIN).unwrap_err();
        assert!(e.to_string().contains("mode=\"tablet\""), "{e}");
        let e = parse("portal=javascript:alert(1)", ORIGIN).unwrap_err();
        assert!(matches!(e, PageError::Invalid { key: "portal", .. }), "{e}");
        assert!(parse("lang=fr", ORIGIN).is_err());
        assert!(parse("camera=left", ORIGIN).is_err());
        // A page opened from a file has no web origin and no portal to talk to.
        assert!(parse("", "null").is_err());
    }

    #[test]
    fn sign_in_needs_the_portals_request_id() {
        assert_eq!(
            parse("mode=signin", ORIGIN),
            Err(PageError::NoSignInRequest)
        );
        let e = parse("mode=signin&request=../../v1/admin", ORIGIN).unwrap_err();
        assert!(
            matches!(e, PageError::Invalid { key: "request", .. }),
            "{e}"
        );
        assert!(parse("mode=signin&request=short", ORIGIN).is_err());
    }

    #[test]
    fn the_demo_key_is_only_trusted_with_a_local_portal() {
        assert_eq!(parse("demo=1", ORIGIN), Err(PageError::DemoNotLocal));
        assert!(parse("demo=1", "http://localhost:8080").unwrap().demo);
        assert!(parse("demo=1", "http://[::1]:9").unwrap().demo);
        assert_eq!(
            parse("demo=1", "http://127.0.0.1.evil.example"),
            Err(PageError::DemoNotLocal)
        );
    }

    #[test]
    fn the_portal_is_always_the_pages_own_origin() {
        // Another site, another port, another scheme: refused, saying what to do.
        for other in [
            "https://evil.example",
            "https://portal.school.example.evil.example",
            "https://portal.school.example:8443",
            "http://portal.school.example",
        ] {
            let e = parse(&format!("portal={other}"), ORIGIN).unwrap_err();
            assert!(matches!(e, PageError::OtherOrigin { .. }), "{other}: {e}");
            assert!(e.to_string().contains("remove portal="), "{e}");
        }
        // A user name in front of the host is no address at all.
        let e = parse("portal=https://evil.example@portal.school.example", ORIGIN).unwrap_err();
        assert!(matches!(e, PageError::Invalid { key: "portal", .. }), "{e}");
        let e = parse("portal=http%3A%2F%2F127.0.0.1%3A9", "http://127.0.0.1:8470").unwrap_err();
        assert!(matches!(e, PageError::OtherOrigin { .. }), "{e}");
        // The page's own origin, however spelt, is what it was anyway.
        for same in [
            "https://portal.school.example/",
            "https://Portal.School.Example:443",
        ] {
            let s = parse(&format!("portal={same}"), ORIGIN).unwrap();
            assert_eq!(
                s.portal_url.to_ascii_lowercase().replace(":443", ""),
                ORIGIN
            );
        }
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(decode("a%20b+c%zz%4"), "a b c%zz%4");
    }
}
