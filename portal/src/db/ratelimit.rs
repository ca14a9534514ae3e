//! Scan rate limits of kiosks and cards: counters in the database, counted in groups.
//!
//! Every exchange counts one hit for its caller (the kiosk, or the sign-in page's address) and
//! one for its card, in fixed windows of `rate_limit.window_secs`. The counters are in the
//! database so that replicas share them: a flood spread over several replicas meets one
//! budget. Counting each exchange's hits with its own upsert made them a third of an
//! exchange's cost and, on SQLite, a second turn at the single writer; so concurrent requests'
//! hits are counted together ([`crate::db::group`]): one upsert per group adds each bucket's hits
//! and returns its totals, and each request gets its own place in the count, exactly as if the
//! requests had counted one after another.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tokio::sync::oneshot;

use crate::AppState;
use crate::db::group::{Group, GroupWork};
use crate::db::{Db, DbKind};
use crate::error::ApiError;

/// Counts hits in shared fixed-window buckets (`kiosk:ID`, `card:ID`, `signin-ip:ADDR`,
/// `client:ADDR`, `enrol`).
#[derive(Debug)]
pub struct RateCounter {
    group: Group<Counter>,
}

#[derive(Debug)]
struct Counter {
    db: Db,
}

#[derive(Debug)]
pub struct Job {
    buckets: Vec<String>,
    window_start: i64,
    reply: oneshot::Sender<Result<Vec<u64>, sqlx::Error>>,
}

impl RateCounter {
    /// How many groups were written so far, and how many requests they held.
    pub fn stats(&self) -> crate::db::group::GroupStats {
        self.group.stats()
    }

    pub fn new(db: Db) -> RateCounter {
        RateCounter {
            group: Group::new(crate::db::group::writers_for(db.kind), Counter { db }),
        }
    }

    /// Counts one hit for each bucket in the window that starts at `window_start` and returns
    /// each bucket's hits in this window so far, this one included.
    pub async fn hit<const N: usize>(
        &self,
        buckets: [&str; N],
        window_start: i64,
    ) -> Result<[u64; N], sqlx::Error> {
        let hits = self
            .group
            .ask(|reply| Job {
                buckets: buckets.iter().map(|b| b.to_string()).collect(),
                window_start,
                reply,
            })
            .await?;
        let mut out = [0; N];
        for (o, h) in out.iter_mut().zip(hits) {
            *o = h;
        }
        Ok(out)
    }
}

/// One upsert for a group: each distinct bucket with the number of hits the group adds. On
/// PostgreSQL one statement may not update a row twice, hence one row per bucket; buckets
/// are in sorted order, so concurrent upserts lock rows in one order.
const UPSERT_POSTGRES: &str = concat!(
    "INSERT INTO rate_buckets (bucket, window_start, hits) ",
    "SELECT b.bucket, b.window_start, b.n ",
    "FROM json_to_recordset($1::json) AS b(bucket TEXT, window_start BIGINT, n BIGINT) ",
    "ORDER BY b.bucket ",
    "ON CONFLICT (bucket) DO UPDATE SET ",
    "hits = CASE WHEN rate_buckets.window_start = excluded.window_start ",
    "THEN rate_buckets.hits + excluded.hits ELSE excluded.hits END, ",
    "window_start = excluded.window_start ",
    "RETURNING bucket, hits"
);

const UPSERT_SQLITE: &str = concat!(
    "INSERT INTO rate_buckets (bucket, window_start, hits) ",
    "SELECT json_extract(value, '$.bucket'), json_extract(value, '$.window_start'), ",
    "json_extract(value, '$.n') FROM json_each($1) WHERE true ",
    "ON CONFLICT (bucket) DO UPDATE SET ",
    "hits = CASE WHEN rate_buckets.window_start = excluded.window_start ",
    "THEN rate_buckets.hits + excluded.hits ELSE excluded.hits END, ",
    "window_start = excluded.window_start ",
    "RETURNING bucket, hits"
);

impl GroupWork for Counter {
    type Job = Job;
    const MAX: usize = 256;

    /// One window per group (a group at a window's edge ends there).
    fn fits(group: &[Job], next: &Job) -> bool {
        group[0].window_start == next.window_start
    }

    async fn write(&self, group: Vec<Job>) {
        let window_start = group[0].window_start;
        let mut added: BTreeMap<&str, u64> = BTreeMap::new();
        for job in &group {
            for b in &job.buckets {
                *added.entry(b.as_str()).or_insert(0) += 1;
            }
        }
        let rows: Vec<serde_json::Value> = added
            .iter()
            .map(|(b, n)| serde_json::json!({"bucket": b, "window_start": window_start, "n": n}))
            .collect();
        let json = serde_json::Value::Array(rows).to_string();
        let totals = upsert(&self.db, json).await;
        let mut totals: BTreeMap<String, u64> = match totals {
            Ok(t) => t,
            Err(e) => {
                for (job, err) in group.into_iter().zip(crate::db::group::fan_out(e)) {
                    let _ = job.reply.send(Err(err));
                }
                return;
            }
        };
        // The group's hits on a bucket are numbered in queue order, ending at its total.
        let mut next: BTreeMap<&str, u64> = added
            .iter()
            .map(|(b, n)| (*b, totals.remove(*b).unwrap_or(*n).saturating_sub(*n)))
            .collect();
        let mut answers = Vec::with_capacity(group.len());
        for job in &group {
            let hits: Vec<u64> = job
                .buckets
                .iter()
                .map(|b| {
                    let n = next.get_mut(b.as_str()).expect("every bucket was counted");
                    *n += 1;
                    *n
                })
                .collect();
            answers.push(hits);
        }
        for (job, hits) in group.into_iter().zip(answers) {
            let _ = job.reply.send(Ok(hits));
        }
    }
}

async fn upsert(db: &Db, json: String) -> Result<BTreeMap<String, u64>, sqlx::Error> {
    use sqlx::Row;
    let rows = match db.kind {
        DbKind::Sqlite => {
            let mut turn = db.write_turn().await.expect("SQLite has write turns");
            let result = sqlx::query(UPSERT_SQLITE)
                .bind(json)
                .fetch_all(turn.conn().await?)
                .await;
            if result.is_err() {
                turn.discard();
            }
            result?
        }
        DbKind::Postgres => {
            sqlx::query(UPSERT_POSTGRES)
                .bind(json)
                .fetch_all(&db.pool)
                .await?
        }
    };
    let mut totals = BTreeMap::new();
    for r in rows {
        let bucket: String = r.try_get("bucket")?;
        let hits: i64 = r.try_get("hits")?;
        totals.insert(bucket, hits.max(0) as u64);
    }
    Ok(totals)
}

/// The client's address: the TCP peer, or the last entry of the proxy's header
/// (`rate_limit.client_ip_header`, else `saml.client_ip_header`) when the portal is behind a
/// reverse proxy that sets it. The key of the per-address limits on the routes anyone can
/// call.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    /// The rate-limit bucket of this client: an IPv4 address as is, an IPv6 address by its
    /// /64 (a host is normally given a whole /64 and picks addresses in it at will, so
    /// counting single IPv6 addresses would not limit anybody).
    pub fn bucket(&self, prefix: &str) -> String {
        match self.0.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}:{net}/64")
            }
            Ok(IpAddr::V6(v6)) => format!("{prefix}:{}", v6.to_canonical()),
            _ => format!("{prefix}:{}", self.0),
        }
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        let header = state.config.rate_limit.client_ip_header.as_deref();
        #[cfg(feature = "saml")]
        let header = header.or_else(|| {
            state
                .saml
                .as_ref()
                .and_then(|i| i.settings.client_ip_header.as_deref())
        });
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_canonical());
        let trusted = &state.config.rate_limit.trusted_proxies;
        if let (Some(h), Some(peer)) = (header, peer)
            && is_trusted(trusted, peer)
            && let Some(v) = parts.headers.get(h).and_then(|v| v.to_str().ok())
        {
            return Ok(ClientAddr(
                client_from_header(v, trusted).unwrap_or(peer).to_string(),
            ));
        }
        Ok(ClientAddr(
            peer.map(|p| p.to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

fn is_trusted(trusted: &[String], ip: IpAddr) -> bool {
    trusted.iter().any(|t| {
        t.parse::<ipnet::IpNet>()
            .map(|n| n.contains(&ip))
            .or_else(|_| t.parse::<IpAddr>().map(|a| a.to_canonical() == ip))
            .unwrap_or(false)
    })
}

/// The client in a forwarding header (`X-Forwarded-For: client, proxy1, proxy2`): the
/// right-most entry that is not one of our proxies. Entries further left were written by
/// whoever sent the request and prove nothing; an unreadable entry ends the walk (`None`:
/// the peer itself is the client).
fn client_from_header(value: &str, trusted: &[String]) -> Option<IpAddr> {
    for entry in value.rsplit(',').map(str::trim) {
        let ip = entry.parse::<IpAddr>().ok()?.to_canonical();
        if !is_trusted(trusted, ip) {
            return Some(ip);
        }
    }
    None
}

/// Counts one request of `client` against `rate_limit.client_max`. Past the limit the
/// request is refused before it reads or writes anything else.
pub async fn client_hit(state: &AppState, client: &ClientAddr) -> Result<(), ApiError> {
    let now = state.now();
    let w = state.config.rate_limit.window_secs.max(1) as i64;
    let start = now - now.rem_euclid(w);
    let [hits] = state
        .rate
        .hit([client.bucket("client").as_str()], start)
        .await?;
    let max = state.config.rate_limit.client_max;
    if hits > max {
        if hits == max + 1 {
            // Logged, not audited: an audit row would be the write this limit prevents.
            tracing::warn!(client = %client.0, "client exceeded the per-address rate limit");
        }
        return Err(ApiError::rate_limited((start + w - now).max(1) as u64));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let b = |a: &str| ClientAddr(a.into()).bucket("client");
        assert_eq!(b("192.0.2.7"), "client:192.0.2.7");
        assert_eq!(b("2001:db8:1:2:aaaa::1"), "client:2001:db8:1:2::/64");
        assert_eq!(b("2001:db8:1:2:ffff:1:2:3"), b("2001:db8:1:2::9"));
        assert_ne!(b("2001:db8:1:2::1"), b("2001:db8:1:3::1"));
        // An IPv4 client seen through an IPv6 socket is that IPv4 client.
        assert_eq!(b("::ffff:192.0.2.7"), "client:192.0.2.7");
        assert_eq!(b("unknown"), "client:unknown");
    }
}

#[cfg(test)]
mod forwarded_tests {
    use super::*;

    fn t() -> Vec<String> {
        vec!["127.0.0.0/8".into(), "::1".into(), "10.0.0.5".into()]
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // A client that writes its own header cannot choose its address.
        assert_eq!(
            client_from_header("1.2.3.4, 203.0.113.9", &t()),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_from_header("1.2.3.4, 203.0.113.9, 10.0.0.5", &t()),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_from_header("::ffff:198.51.100.1", &t()),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(client_from_header("10.0.0.5", &t()), None);
        assert_eq!(client_from_header("garbage, 10.0.0.5", &t()), None);
        assert!(is_trusted(&t(), ip("127.0.0.1")));
        assert!(is_trusted(&t(), ip("10.0.0.5")));
        assert!(!is_trusted(&t(), ip("10.0.0.6")));
    }
}
