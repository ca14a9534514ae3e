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
use crate::error::ApiError;

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
        let header = |t: String| HeaderValue::from_str(&t).expect("hex is a valid header value");
        let mut files = HashMap::new();
        for (name, body) in raw {
            let tag = hex(&Sha256::digest(&body)[..12]);
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
        })
    }

    /// The folder the bundle was read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The response for `name` (`""` is `index.html`), honouring `If-None-Match` and
    /// `Accept-Encoding: gzip`.
    fn respond(&self, name: &str, request: &HeaderMap) -> Response {
        let name = if name.is_empty() { "index.html" } else { name };
        let Some(file) = self.files.get(name) else {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
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
        if name == "index.html" {
            // Nobody may frame the kiosk (a card scanned inside someone else's page).
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            );
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
        Some(bundle) => bundle.respond(name, headers),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_web_kiosk",
            "this portal serves no browser kiosk: build it with scripts/build-web.sh and set \
             web_dir in the portal's config",
        )
        .into_response(),
    }
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
