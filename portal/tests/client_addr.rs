//! Which address a request counts against, over real HTTP: a forwarding header is believed
//! only from a trusted proxy, and then only its right-most untrusted entry (a client can write
//! anything to the left of what the proxy appends).

mod common;

use common::*;
use quickcard_portal::ManualClock;

async fn server(trusted: Option<Vec<String>>) -> (Server, TestDb) {
    let db = sqlite_db();
    let mut cfg = config(&db);
    cfg.rate_limit.client_ip_header = Some("X-Forwarded-For".into());
    cfg.rate_limit.client_max = 2;
    if let Some(t) = trusted {
        cfg.rate_limit.trusted_proxies = t;
    }
    let server = Server::start(cfg, &ManualClock::new(1_800_000_000)).await;
    (server, db)
}

/// `GET /v1/launch/{random}` as if forwarded for `xff`: the status.
async fn open(s: &Server, xff: &str) -> u16 {
    client()
        .get(format!("{}/v1/launch/AAAAAAAAAAAAAAAAAAAAAA", s.url))
        .header("X-Forwarded-For", xff)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget_and_cannot_forge_one() {
    // The test's requests come from 127.0.0.1: a proxy on this host (trusted by default).
    let (s, _db) = server(None).await;
    assert_ne!(open(&s, "203.0.113.1").await, 429);
    assert_ne!(open(&s, "203.0.113.2").await, 429);
    assert_ne!(open(&s, "203.0.113.3").await, 429);
    // A client writing its own header adds entries on the left: still 203.0.113.1.
    assert_ne!(open(&s, "198.51.100.77, 203.0.113.1").await, 429);
    assert_eq!(open(&s, "198.51.100.78, 203.0.113.1").await, 429);
}

#[tokio::test]
async fn from_an_untrusted_peer_the_header_is_ignored() {
    let (s, _db) = server(Some(vec!["10.9.9.9".into()])).await;
    assert_ne!(open(&s, "203.0.113.1").await, 429);
    assert_ne!(open(&s, "203.0.113.2").await, 429);
    // All three were the peer itself, 127.0.0.1.
    assert_eq!(open(&s, "203.0.113.3").await, 429);
}
