//! The browser kiosk's files, served by the portal at `/kiosk/`.
//!
//! Why the portal serves them: a Chromebook's web kiosk and its sign-in screen open one
//! address, and the page talks to the portal, so page and API share one origin (no CORS, one
//! certificate, one firewall exemption). The bundle is what `scripts/build-web.sh` writes
//! (`index.html`, the wasm-bindgen output, the manifest, icons); the config's `web_dir` points
//! at it and it is read into memory once at start-up.
//!
//! Caching is what makes 30 Chromebooks opening the page at 8:00 cheap:
//! - the JavaScript and `.wasm` carry a content hash in their names (`build-web.sh` adds it),
//!   so they are served `immutable` for a year: after the first morning nothing is downloaded;
//! - `index.html` and the manifest are `no-cache` with a strong `ETag`: a browser asks every
//!   time and gets `304 Not Modified` (a few hundred bytes) until the bundle changes;
//! - a file with a `.gz` twin (written by `build-web.sh`) is sent gzip-compressed to browsers
//!   that accept it, compressed once at build time rather than per request.
//!
//! Every file goes out with a Content-Security-Policy ([`WebBundle::policy`]) that keeps the
//! kiosk's credential, cards and PINs on this portal: the page may connect, load scripts and
//! start its scan worker only from its own origin, and post a form (the signed SAML answer)
//! only to the ACS addresses of the configured service providers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// Where the page lives on the portal.
pub const MOUNT: &str = "/kiosk/";

/// Why the bundle cannot be served.
#[derive(Debug, Error)]
pub enum WebError {
    #[error("web_dir {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "web_dir {0}: no index.html there; build the browser kiosk with scripts/build-web.sh \
         and point web_dir at its output (target/web)"
    )]
    NoIndex(String),
}

/// One file of the bundle, ready to send.
#[derive(Debug)]
struct File {
    /// `Bytes`: each response shares the one copy in memory.
    body: Bytes,
    etag: HeaderValue,
    /// The `.gz` twin and its own tag (a strong `ETag` names one representation).
    gzip: Option<(Bytes, HeaderValue)>,
    content_type: &'static str,
    cache: &'static str,
}

/// The browser kiosk's files, in memory.
#[derive(Debug)]
pub struct WebBundle {
    dir: PathBuf,
    files: HashMap<String, File>,
    /// `'sha256-…'` of each inline `<script>` of `index.html` (its boot code), for the policy.
    inline_scripts: Vec<String>,
    /// The same for its inline `<style>` elements.
    inline_styles: Vec<String>,
}

/// A year: what "never changes" means to a browser cache.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Ask every time (answered by `304` while the `ETag` matches).
const REVALIDATE: &str = "no-cache";
/// Icons: a day, then ask again.
const DAY: &str = "public, max-age=86400";

impl WebBundle {
    /// Reads every file directly in `dir` (no subfolders: the bundle is flat).
    pub fn load(dir: &Path) -> Result<WebBundle, WebError> {
        let shown = dir.display().to_string();
        let read_err = |source| WebError::Read {
            path: shown.clone(),
            source,
        };
        let mut raw: HashMap<String, Vec<u8>> = HashMap::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            if !entry.file_type().map_err(read_err)?.is_file() {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            raw.insert(name, std::fs::read(entry.path()).map_err(read_err)?);
        }
        if !raw.contains_key("index.html") {
            return Err(WebError::NoIndex(shown));
        }
        // The `.gz` twins first, so each file can take its own by name.
        let mut twins: HashMap<String, Vec<u8>> = HashMap::new();
        raw.retain(|name, body| match name.strip_suffix(".gz") {
            Some(base) => {
                twins.insert(base.to_string(), std::mem::take(body));
                false
            }
            None => true,
        });
        let page = String::from_utf8_lossy(&raw["index.html"]).into_owned();
        let inline_scripts = inline_hashes(&page, "script");
        let inline_styles = inline_hashes(&page, "style");
        let header = |t: String| HeaderValue::from_str(&t).expect("hex is a valid header value");
        let mut files = HashMap::new();
        for (name, body) in raw {
            let tag = quickcard::util::hex(&Sha256::digest(&body)[..12]);
            let gzip = twins
                .remove(&name)
                .map(|gz| (Bytes::from(gz), header(format!("\"{tag}-gz\""))));
            let file = File {
                content_type: content_type(&name),
                cache: cache_policy(&name),
                etag: header(format!("\"{tag}\"")),
                body: Bytes::from(body),
                gzip,
            };
            files.insert(name, file);
        }
        tracing::info!(dir = %shown, files = files.len(), "browser kiosk bundle loaded");
        Ok(WebBundle {
            dir: dir.to_path_buf(),
            files,
            inline_scripts,
            inline_styles,
        })
    }

    /// The Content-Security-Policy of the kiosk's files; `form_targets` are the ACS URLs the
    /// sign-in page may post the signed answer to (none: no form may be posted).
    ///
    /// - `default-src 'self'`, `connect-src 'self'`: the page talks to this portal only, so a
    ///   crafted address (or injected markup) cannot send the credential elsewhere;
    /// - `script-src`: this origin, the page's own inline boot code by its hash, and
    ///   `'wasm-unsafe-eval'`, without which the browser refuses to compile the kiosk's
    ///   WebAssembly (the scan worker compiles nothing: the page hands it the module);
    /// - `worker-src 'self'`: the scan worker's script;
    /// - `style-src`: the page's inline style sheet by its hash (eframe styles the canvas
    ///   through the CSSOM, which the policy does not restrict);
    /// - `form-action`: the service providers' ACS URLs (without their query: CSP matches
    ///   scheme, host, port and path);
    /// - `base-uri 'none'`, `object-src 'none'`, `frame-ancestors 'none'`: no `<base>` to
    ///   redirect relative addresses, no plug-ins, and nobody may frame the kiosk (a card
    ///   scanned inside someone else's page).
    pub fn policy<'a>(&self, form_targets: impl IntoIterator<Item = &'a str>) -> String {
        let sources = |fixed: &str, hashes: &[String]| {
            std::iter::once(fixed.to_string())
                .chain(hashes.iter().cloned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut forms: Vec<String> = form_targets.into_iter().filter_map(form_source).collect();
        forms.sort();
        forms.dedup();
        let forms = if forms.is_empty() {
            "'none'".to_string()
        } else {
            forms.join(" ")
        };
        [
            "default-src 'self'".to_string(),
            format!(
                "script-src {}",
                sources("'self' 'wasm-unsafe-eval'", &self.inline_scripts)
            ),
            "worker-src 'self'".to_string(),
            format!("style-src {}", sources("'self'", &self.inline_styles)),
            "connect-src 'self'".to_string(),
            "img-src 'self'".to_string(),
            format!("form-action {forms}"),
            "base-uri 'none'".to_string(),
            "object-src 'none'".to_string(),
            "frame-ancestors 'none'".to_string(),
        ]
        .join("; ")
    }

    /// The folder the bundle was read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The response for `name` (`""` is `index.html`), honouring `If-None-Match` and
    /// `Accept-Encoding: gzip`; `policy` is its Content-Security-Policy.
    fn respond(&self, name: &str, request: &HeaderMap, policy: &str) -> Response {
        let name = if name.is_empty() { "index.html" } else { name };
        let Some(file) = self.files.get(name) else {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                format!("the browser kiosk has no file {name:?}"),
            )
            .into_response();
        };
        let (body, etag, gzipped) = match &file.gzip {
            Some((gz, etag)) if accepts_gzip(request) => (gz, etag, true),
            _ => (&file.body, &file.etag, false),
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, etag.clone());
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(file.cache));
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // On every file, not only the page: a worker's script is governed by the policy it is
        // served with.
        match HeaderValue::from_str(policy) {
            Ok(v) => {
                headers.insert(header::CONTENT_SECURITY_POLICY, v);
            }
            Err(_) => {
                // Cannot happen (form_source keeps header-safe text); refuse rather than serve
                // the page unprotected.
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::BadPolicy,
                    "the browser kiosk's Content-Security-Policy is not a valid header; check \
                     the ACS URLs of the [saml] service providers",
                )
                .into_response();
            }
        }
        if name == "index.html" {
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
        if if_none_match(request, etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        if gzipped {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        (headers, body.clone()).into_response()
    }
}

/// The routes: `/kiosk` → `/kiosk/`, `/kiosk/` (the page) and `/kiosk/{file}`. Without a
/// bundle they answer 404 with what to configure.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kiosk", get(redirect_to_mount))
        .route("/kiosk/", get(index))
        .route("/kiosk/{file}", get(file))
}

async fn redirect_to_mount(uri: Uri) -> Redirect {
    match uri.query() {
        Some(q) => Redirect::permanent(&format!("{MOUNT}?{q}")),
        None => Redirect::permanent(MOUNT),
    }
}

async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state, "", &headers)
}

async fn file(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state, &name, &headers)
}

fn serve(state: &AppState, name: &str, headers: &HeaderMap) -> Response {
    match &state.web {
        Some(bundle) => bundle.respond(name, headers, &bundle.policy(acs_urls(state))),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NoWebKiosk,
            "this portal serves no browser kiosk: build it with scripts/build-web.sh and set \
             web_dir in the portal's config",
        )
        .into_response(),
    }
}

/// The ACS URLs of the configured service providers: where the sign-in page may post.
/// Chrome applies `form-action` to the redirects that follow the post too, and Google's ACS
/// answers by sending the browser on to its own sign-in hosts: with a Google service provider
/// those hosts are allowed as well (anything posted there goes to Google, the SP itself).
#[cfg(feature = "saml")]
fn acs_urls(state: &AppState) -> Vec<&str> {
    state.saml.as_ref().map_or_else(Vec::new, |idp| {
        let mut urls: Vec<&str> = idp
            .idp
            .allow_list()
            .providers()
            .iter()
            .map(|sp| sp.acs_url())
            .collect();
        if urls.iter().any(|u| {
            u.starts_with("https://www.google.com/")
                || u.starts_with("https://accounts.google.com/")
        }) {
            urls.extend(GOOGLE_SIGN_IN_HOSTS);
        }
        urls
    })
}

/// Where Google's ACS sends the Chromebook next (host-wide sources: the trailing `/`).
#[cfg(feature = "saml")]
const GOOGLE_SIGN_IN_HOSTS: [&str; 2] = ["https://accounts.google.com/", "https://www.google.com/"];

#[cfg(not(feature = "saml"))]
fn acs_urls(_state: &AppState) -> Vec<&str> {
    Vec::new()
}

/// A `form-action` source for an ACS URL: the URL without query or fragment (CSP sources have
/// none), with the characters that would end a source or a directive percent-encoded (CSP
/// decodes paths before it compares them). Not an `http(s)` URL: none.
fn form_source(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    let bare = url.split(['?', '#']).next().unwrap_or_default();
    let mut out = String::with_capacity(bare.len());
    for b in bare.bytes() {
        if b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\'' | b'"') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

/// `'sha256-…'` of the text of each inline `<tag>` element of `html` (a `<script src=…>` has
/// no inline text to allow), as CSP hashes it: the exact characters between the tags.
fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    use base64::Engine as _;
    let lower = html.to_ascii_lowercase();
    let (open, close) = (format!("<{tag}"), format!("</{tag}"));
    let mut hashes = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find(&open).map(|i| at + i) {
        let after_name = start + open.len();
        // `<scripts>` or `<style-x>` are other elements.
        if !lower[after_name..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace()) {
            at = after_name;
            continue;
        }
        let Some(body) = lower[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        let Some(end) = lower[body..].find(&close).map(|i| body + i) else {
            break;
        };
        let external = lower[start..body].contains(" src=");
        if !external {
            let digest = Sha256::digest(&html.as_bytes()[body..end]);
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest.as_slice());
            hashes.push(format!("'sha256-{b64}'"));
        }
        at = end + close.len();
    }
    hashes
}

fn if_none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(v) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ours = etag.to_str().unwrap_or_default();
    v.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == ours)
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("webmanifest") => "application/manifest+json",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Files named `stem-<16 hex>.ext` are content-addressed by `build-web.sh`: they never change.
fn cache_policy(name: &str) -> &'static str {
    let stem = name.split('.').next().unwrap_or_default();
    let hashed = stem
        .rsplit_once('-')
        .is_some_and(|(_, h)| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if hashed {
        IMMUTABLE
    } else if name.ends_with(".png") {
        DAY
    } else {
        REVALIDATE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn hashed_names_are_immutable_the_page_revalidates() {
        assert_eq!(
            cache_policy("quickcard_kiosk-0123456789abcdef.js"),
            IMMUTABLE
        );
        assert_eq!(
            cache_policy("quickcard_kiosk_bg-0123456789abcdef.wasm"),
            IMMUTABLE
        );
        assert_eq!(cache_policy("index.html"), REVALIDATE);
        assert_eq!(cache_policy("manifest.webmanifest"), REVALIDATE);
        assert_eq!(cache_policy("quickcard_kiosk.js"), REVALIDATE);
        assert_eq!(cache_policy("icon-192.png"), DAY);
        // Not 16 hex digits: not a content hash.
        assert_eq!(cache_policy("icon-maskable-512.png"), DAY);
        assert_eq!(cache_policy("app-0123456789abcdeg.js"), REVALIDATE);
    }

    #[test]
    fn gzip_only_when_accepted() {
        assert!(accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br, zstd"
        )])));
        assert!(accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "br;q=1.0, GZIP;q=0.5"
        )])));
        assert!(!accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "gzip;q=0"
        )])));
        assert!(!accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "br")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn etag_matching() {
        let tag = HeaderValue::from_static("\"abc\"");
        assert!(if_none_match(
            &headers(&[(header::IF_NONE_MATCH, "\"x\", \"abc\"")]),
            &tag
        ));
        assert!(if_none_match(
            &headers(&[(header::IF_NONE_MATCH, "W/\"abc\"")]),
            &tag
        ));
        assert!(if_none_match(
            &headers(&[(header::IF_NONE_MATCH, "*")]),
            &tag
        ));
        assert!(!if_none_match(
            &headers(&[(header::IF_NONE_MATCH, "\"abd\"")]),
            &tag
        ));
        assert!(!if_none_match(&HeaderMap::new(), &tag));
    }

    #[test]
    fn inline_scripts_and_styles_are_hashed_as_written() {
        let html = "<STYLE>a{}</STYLE><script type=\"module\">go()</script>\
                    <script src=\"x.js\"></script><scripts>no</scripts><script>\n</script>";
        let sha = |t: &str| {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(t));
            format!("'sha256-{b64}'")
        };
        assert_eq!(inline_hashes(html, "script"), [sha("go()"), sha("\n")]);
        assert_eq!(inline_hashes(html, "style"), [sha("a{}")]);
        assert!(inline_hashes("<script>unclosed", "script").is_empty());
    }

    #[test]
    fn form_sources_drop_the_query_and_cannot_end_a_directive() {
        assert_eq!(
            form_source("https://accounts.google.com/samlrp/acs?rpid=abc").as_deref(),
            Some("https://accounts.google.com/samlrp/acs")
        );
        assert_eq!(
            form_source("https://sp.example/a;b c,d").as_deref(),
            Some("https://sp.example/a%3Bb%20c%2Cd")
        );
        assert_eq!(form_source("javascript:alert(1)"), None);
    }

    #[test]
    fn a_folder_without_index_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.js"), "1").unwrap();
        let e = WebBundle::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("no index.html") && e.contains("build-web.sh"),
            "{e}"
        );
        let missing = WebBundle::load(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(missing, WebError::Read { .. }), "{missing}");
    }
}
