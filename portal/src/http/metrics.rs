//! `/metrics`: what operators watch, in the Prometheus text format (0.0.4).
//!
//! Counted by a middleware over every route, from each reply's error code (see
//! [`crate::error::ErrorCode`]), so a handler cannot forget to count: exchanges by result and
//! their latency, Chromebook sign-ins by result, rate-limit refusals and PIN lockout refusals.
//! The retention task adds the rows it deletes. Database pool and kiosk last-seen gauges are
//! read when the page is scraped.
//!
//! The page is served to the admin token only (`GET /metrics` with `Authorization: Bearer`),
//! or without a token on `[metrics] listen`, which must be a loopback address: it names
//! kiosks and shows traffic, nothing for the world. No metric holds a user id or a name.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::domain::retention::Swept;
use crate::error::{ApiError, ErrorCode};

/// `[metrics]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// A second listen address serving only `/metrics`, without a token (loopback only:
    /// a Prometheus on this host, or an SSH tunnel). Unset: only `/metrics` with the admin
    /// token on the main address.
    pub listen: Option<SocketAddr>,
}

impl MetricsConfig {
    pub fn validate(&self) -> Result<(), String> {
        match self.listen {
            Some(addr) if !addr.ip().is_loopback() => Err(format!(
                "metrics.listen = {addr}: the metrics page has no login of its own, so it is only \
                 served on a loopback address (127.0.0.1 or ::1); to scrape from another host, \
                 use GET /metrics on the portal's address with the admin token"
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SigninLabels {
    protocol: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabel {
    table: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KioskLabel {
    kiosk: String,
}

/// The portal's metrics (one set per [`AppState`]).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    exchanges: Family<ResultLabel, Counter>,
    exchange_seconds: Histogram,
    signins: Family<SigninLabels, Counter>,
    rate_limited: Family<RouteLabel, Counter>,
    lockouts: Counter,
    retention_deleted: Family<TableLabel, Counter>,
    pool_size: Gauge,
    pool_idle: Gauge,
    kiosk_last_seen: Family<KioskLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("quickcard");
        let exchanges = Family::<ResultLabel, Counter>::default();
        registry.register(
            "exchanges",
            "Card exchanges (POST /v1/exchange) by result: ok or the error code",
            exchanges.clone(),
        );
        // 1 ms to about 8 s.
        let exchange_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register(
            "exchange_duration_seconds",
            "Time to answer a card exchange, in seconds",
            exchange_seconds.clone(),
        );
        let signins = Family::<SigninLabels, Counter>::default();
        registry.register(
            "signins",
            "Chromebook sign-ins (card scans on the SAML sign-in page) by protocol and result",
            signins.clone(),
        );
        let rate_limited = Family::<RouteLabel, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused as rate_limited, by route",
            rate_limited.clone(),
        );
        let lockouts = Counter::default();
        registry.register(
            "pin_lockout_refusals",
            "Requests refused as locked_out (too many wrong PINs)",
            lockouts.clone(),
        );
        let retention_deleted = Family::<TableLabel, Counter>::default();
        registry.register(
            "retention_deleted_rows",
            "Rows deleted by retention, by table",
            retention_deleted.clone(),
        );
        let pool_size = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections open in this replica's pool",
            pool_size.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections in this replica's pool",
            pool_idle.clone(),
        );
        let kiosk_last_seen = Family::<KioskLabel, Gauge>::default();
        registry.register(
            "kiosk_last_seen_timestamp_seconds",
            "When each enrolled, enabled kiosk last called the portal (Unix seconds)",
            kiosk_last_seen.clone(),
        );
        // Each family on the page from the start (at 0), so dashboards and alert rules find
        // them before the first sign-in of the day.
        let _ = exchanges.get_or_create(&ResultLabel {
            result: "ok".into(),
        });
        let _ = signins.get_or_create(&SigninLabels {
            protocol: "saml".into(),
            result: "ok".into(),
        });
        let _ = rate_limited.get_or_create(&RouteLabel {
            route: "exchange".into(),
        });
        Metrics {
            registry,
            exchanges,
            exchange_seconds,
            signins,
            rate_limited,
            lockouts,
            retention_deleted,
            pool_size,
            pool_idle,
            kiosk_last_seen,
        }
    }

    /// Adds what one retention sweep deleted.
    pub fn retention_deleted(&self, swept: &Swept) {
        for (table, n) in &swept.counts {
            self.retention_deleted
                .get_or_create(&TableLabel {
                    table: table.to_string(),
                })
                .inc_by(*n);
        }
    }

    fn observe(&self, path: &str, code: &str, started: Instant) {
        if path == "/v1/exchange" {
            self.exchanges
                .get_or_create(&ResultLabel {
                    result: code.to_string(),
                })
                .inc();
            self.exchange_seconds
                .observe(started.elapsed().as_secs_f64());
        } else if path.starts_with("/v1/signin/") && path.ends_with("/exchange") {
            self.signins
                .get_or_create(&SigninLabels {
                    protocol: "saml".into(),
                    result: code.to_string(),
                })
                .inc();
        }
        match code {
            "rate_limited" => {
                self.rate_limited
                    .get_or_create(&RouteLabel {
                        route: route_of(path).into(),
                    })
                    .inc();
            }
            "locked_out" => {
                self.lockouts.inc();
            }
            _ => {}
        }
    }
}

/// The route family of a path (never the ids in it: they are tokens or user ids).
fn route_of(path: &str) -> &'static str {
    if path == "/v1/exchange" {
        "exchange"
    } else if path.starts_with("/v1/signin/") {
        "signin"
    } else if path.starts_with("/v1/launch/") {
        "launch"
    } else if path == "/v1/kiosks/enroll" {
        "enroll"
    } else if path.starts_with("/saml/") {
        "saml"
    } else {
        "other"
    }
}

/// The middleware counting every reply (see the module docs).
pub async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let code = match resp.extensions().get::<ErrorCode>() {
        Some(c) => c.as_str(),
        None if resp.status().is_success() || resp.status().is_redirection() => "ok",
        None => "other_error",
    };
    state.metrics.observe(&path, code, started);
    resp
}

/// The page, with the gauges read now.
pub async fn render(state: &AppState) -> Result<String, ApiError> {
    let m = &state.metrics;
    m.pool_size.set(i64::from(state.db.pool.size()));
    m.pool_idle.set(state.db.pool.num_idle() as i64);
    let kiosks = crate::db::store::list_kiosks(&state.db).await?;
    m.kiosk_last_seen.clear();
    for k in kiosks
        .iter()
        .filter(|k| k.enrolled_at.is_some() && k.disabled_at.is_none())
    {
        m.kiosk_last_seen
            .get_or_create(&KioskLabel {
                kiosk: k.name.clone(),
            })
            .set(k.last_seen_at.or(k.enrolled_at).unwrap_or(0));
    }
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, &m.registry)
        .map_err(ApiError::internal)?;
    Ok(out)
}

fn page(text: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
        )],
        text,
    )
        .into_response()
}

/// `GET /metrics` on the main address: the admin token only.
pub async fn admin_metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    crate::http::api::admin(&state, &headers)?;
    Ok(page(render(&state).await?))
}

async fn open_metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(page(render(&state).await?))
}

/// The router of `[metrics] listen` (loopback only): `/metrics` and nothing else.
pub fn loopback_app(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(open_metrics))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(m: &Metrics) -> String {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &m.registry).unwrap();
        out
    }

    #[test]
    fn replies_are_counted_by_route_family_never_by_id() {
        let m = Metrics::new();
        let t = Instant::now();
        m.observe("/v1/signin/req-secret-id/exchange", "ok", t);
        m.observe("/v1/signin/req-secret-id/exchange", "wrong_pin", t);
        m.observe("/v1/signin/req-secret-id/exchange", "locked_out", t);
        m.observe("/v1/launch/token-secret", "rate_limited", t);
        m.observe("/v1/exchange", "rate_limited", t);
        m.observe("/v1/session", "session_expired", t);
        let p = page(&m);
        for line in [
            "quickcard_signins_total{protocol=\"saml\",result=\"ok\"} 1",
            "quickcard_signins_total{protocol=\"saml\",result=\"wrong_pin\"} 1",
            "quickcard_signins_total{protocol=\"saml\",result=\"locked_out\"} 1",
            "quickcard_pin_lockout_refusals_total 1",
            "quickcard_rate_limited_total{route=\"launch\"} 1",
            "quickcard_rate_limited_total{route=\"exchange\"} 1",
            "quickcard_exchanges_total{result=\"rate_limited\"} 1",
            "quickcard_exchange_duration_seconds_count 1",
        ] {
            assert!(p.contains(line), "{line} missing:\n{p}");
        }
        assert!(!p.contains("secret"), "{p}");
        assert!(!p.contains("session_expired"), "{p}");
    }

    #[test]
    fn the_tokenless_listener_is_loopback_only() {
        let ok = MetricsConfig {
            listen: Some("[::1]:9464".parse().unwrap()),
        };
        assert!(ok.validate().is_ok());
        let world = MetricsConfig {
            listen: Some("192.0.2.1:9464".parse().unwrap()),
        };
        assert!(world.validate().unwrap_err().contains("loopback"));
    }
}
