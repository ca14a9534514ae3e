//! docs/district-admins.md, "A key leaked", followed step by step against a real portal: the
//! district's `[[trust]]` entries as the guide writes them, a restart, and the cards a thief
//! prints with the stolen key (issued-at backdated into the key's window, expiry ten years
//! out). Also the maximum card lifetime, which holds even for a key that did not leak.

mod common;

use common::{ClockExt, Server, T0, TestDb, World, reply};
use quickcard::{Claims, Flags, IssuerKey, Role, time};
use quickcard_portal::config::Config;

both_databases!(
    a_leaked_key_is_stopped_by_revoked_at_and_new_cards_work,
    a_card_valid_too_long_is_refused_even_from_a_good_key,
);

const DAY: u64 = 86_400;

fn sign(key: &IssuerKey, user: &str, issued_at: u64, expires_at: u64) -> String {
    let c = Claims::new(
        user,
        Role::Student,
        "sch-lincoln",
        issued_at,
        expires_at,
        Flags::default(),
    )
    .unwrap();
    quickcard::sign(&c, key)
}

/// The portal's config with `trust` replaced by the guide's `[[trust]]` text.
fn with_trust(w: &World, toml: &str) -> Config {
    let mut cfg = common::config(&w.db);
    cfg.trust = Config::from_toml(toml, "portal.toml", Vec::new())
        .unwrap()
        .trust;
    cfg
}

/// "Restart every replica": same database, new config.
async fn restart(w: &mut World, cfg: Config) {
    let old = std::mem::replace(&mut w.server, Server::start(cfg, &w.clock).await);
    old.stop().await;
}

async fn a_leaked_key_is_stopped_by_revoked_at_and_new_cards_work(db: TestDb) {
    let leaked = common::issuer();
    // Step 1: a new key (`card-printer keygen`).
    let fresh = IssuerKey::from_seed([8; 32], "Lincoln Elementary 2026-27 (after the leak)");
    let t = |s: &str| time::parse(s).unwrap();
    // T0 is 2027-01-15T08:00:00Z. The old key's entry as the guide sets it up.
    let before = format!(
        r#"
[[trust]]
public = "{}"
name = "Lincoln Elementary 2026-27"
valid_from = "2026-07-01"
valid_until = "2027-07-31"
school = "sch-lincoln"
"#,
        leaked.public()
    );
    let mut w = World::new(db).await;
    let cfg = with_trust(&w, &before);
    restart(&mut w, cfg).await;

    // The thief's cards: issued-at backdated into the key's window, one with an expiry ten
    // years out, one that looks like an ordinary card of this school year.
    let decade = sign(&leaked, "stu-maya", t("2026-09-01"), T0 + 3650 * DAY);
    let ordinary = sign(&leaked, "stu-omar", t("2026-09-01"), t("2027-06-30"));
    // valid_until cannot tell them apart from genuine cards: the ordinary one gets in.
    let r = w.exchange(&ordinary).await;
    assert_eq!(r.status, 200, "{r:?}");

    // Steps 2 and 3: trust the new key, set revoked_at on the old one, restart.
    let after = format!(
        r#"{before}revoked_at = "2027-01-15T09:00:00Z"   # the leaked key: no card of it works from now

[[trust]]
public = "{}"
name = "Lincoln Elementary 2026-27 (after the leak)"
valid_from = "2027-01-15"
valid_until = "2027-07-31"
school = "sch-lincoln"
"#,
        fresh.public()
    );
    let revoked_at = t("2027-01-15T09:00:00Z");
    w.clock.set(revoked_at);
    let cfg = with_trust(&w, &after);
    restart(&mut w, cfg).await;

    for (name, card) in [("ten-year", &decade), ("ordinary", &ordinary)] {
        let r = w.exchange(card).await;
        assert_eq!(r.status, 403, "{name}: {r:?}");
        assert_eq!(r.code(), "key_revoked", "{name}: {r:?}");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("reprint the cards"), "{message}");
    }
    let audit = w.audit().await;
    assert!(audit.iter().any(|a| a.result == "key_revoked"), "{audit:?}");

    // Kiosks get the revocation with the trust list, so they refuse such cards offline too.
    let cfg = reply(
        w.http
            .get(w.url("/v1/kiosk/config"))
            .bearer_auth(&w.kiosk)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cfg.status, 200, "{cfg:?}");
    assert_eq!(cfg.body["trust"][0]["revoked_at"], "2027-01-15T09:00:00Z");

    // Step 4: cards reprinted with the new key work.
    let reprinted = sign(
        &fresh,
        "stu-maya",
        w.clock.now_i64() as u64,
        t("2027-06-30"),
    );
    let r = w.exchange(&reprinted).await;
    assert_eq!(r.status, 200, "{r:?}");
}

async fn a_card_valid_too_long_is_refused_even_from_a_good_key(db: TestDb) {
    let w = World::new(db).await;
    let key = common::issuer();
    let issued = T0 - DAY;
    let long = sign(&key, "stu-maya", issued, issued + 401 * DAY);
    let r = w.exchange(&long).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.code(), "lifetime_too_long", "{r:?}");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("longer than the 400 days"), "{message}");
    // 400 days is the default maximum, and allowed.
    let r = w
        .exchange(&sign(&key, "stu-maya", issued, issued + 400 * DAY))
        .await;
    assert_eq!(r.status, 200, "{r:?}");

    // The district can lower it: `[session] max_card_lifetime_days = 200`.
    let w = World::with(common::sqlite_db(), |c| {
        c.session.max_card_lifetime_days = 200;
    })
    .await;
    let r = w
        .exchange(&sign(&key, "stu-omar", issued, issued + 201 * DAY))
        .await;
    assert_eq!(r.code(), "lifetime_too_long", "{r:?}");
}
