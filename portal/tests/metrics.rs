//! `/metrics`: served to the admin token or on a loopback address only, parsed by an
//! independent parser (Python `prometheus_client`'s), and its counters move as exchanges
//! succeed and fail.

mod common;

use std::collections::BTreeMap;
use std::io::Write;

use common::*;
use quickcard::Role;
use quickcard_portal::domain::secrets::Secret;

/// Every sample of a scraped page as `name{label="value",…}` → value, read by
/// `prometheus_client.parser` (Debian's python3-prometheus-client).
fn parse(page: &str) -> BTreeMap<String, f64> {
    const SCRIPT: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
        print("%s{%s} %r" % (s.name, labels, s.value))
"#;
    // Debian's package is installed for the system's Python, which another Python earlier on
    // PATH (pyenv) would not see.
    let python = std::env::var("QUICKCARD_TEST_PYTHON").unwrap_or_else(|_| {
        if std::path::Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3".into()
        } else {
            "python3".into()
        }
    });
    let mut child = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (with python3-prometheus-client) is needed for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Python parser refused the page ({}):\n{page}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

fn get(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

fn free_loopback_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_and_the_page_is_not_for_the_world() {
    let token = Secret::token("qca_");
    let hash = token.hash();
    let loopback = free_loopback_port();
    let w = World::with(sqlite_db(), move |c| {
        c.admin.token_sha256 = Some(hash);
        c.metrics.listen = Some(loopback);
        c.rate_limit.card_max = 2;
    })
    .await;
    let scrape = || async {
        let r = w
            .http
            .get(w.url("/metrics"))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        let text = r.text().await.unwrap();
        (parse(&text), text)
    };

    // Not without the admin token on the main address.
    let r = w.http.get(w.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = w
        .http
        .get(w.url("/metrics"))
        .bearer_auth("qca_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let (before, _) = scrape().await;
    // One success, two refusals as unknown_user, then that card is rate-limited.
    let ok = w
        .exchange(&w.card("stu-maya", Role::Student, "sch-lincoln"))
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let stranger = w.card("stu-nobody", Role::Student, "sch-lincoln");
    for want in ["unknown_user", "unknown_user", "rate_limited"] {
        let r = w.exchange(&stranger).await;
        assert_eq!(r.code(), want, "{r:?}");
    }
    let (after, page_text) = scrape().await;
    // Every metric the dashboard and the alert rules use is on the page.
    for file in ["grafana-dashboard.json", "alerts.yml"] {
        let path = format!("{}/../deploy/monitoring/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        for name in metric_names(&text) {
            assert!(
                page_text.contains(&format!("# TYPE {name} "))
                    || page_text.contains(&format!("\n{name}{{"))
                    || page_text.contains(&format!("\n{name} ")),
                "{file} uses {name}, which the portal does not export:\n{page_text}"
            );
        }
    }

    let moved = |key: &str| get(&after, key) - get(&before, key);
    assert_eq!(moved("quickcard_exchanges_total{result=\"ok\"}"), 1.0);
    assert_eq!(
        moved("quickcard_exchanges_total{result=\"unknown_user\"}"),
        2.0
    );
    assert_eq!(
        moved("quickcard_exchanges_total{result=\"rate_limited\"}"),
        1.0
    );
    assert_eq!(
        moved("quickcard_rate_limited_total{route=\"exchange\"}"),
        1.0
    );
    assert_eq!(moved("quickcard_exchange_duration_seconds_count{}"), 4.0);
    assert!(get(&after, "quickcard_exchange_duration_seconds_sum{}") > 0.0);
    assert_eq!(
        get(
            &after,
            "quickcard_exchange_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        get(&after, "quickcard_exchange_duration_seconds_count{}")
    );
    assert!(get(&after, "quickcard_db_pool_connections{}") >= 1.0);
    assert!(after.contains_key("quickcard_db_pool_idle_connections{}"));
    assert!(after.contains_key("quickcard_pin_lockout_refusals_total{}"));
    // The start-up retention sweep has run (nothing was old).
    assert_eq!(
        get(
            &after,
            "quickcard_retention_deleted_rows_total{table=\"audit\"}"
        ),
        0.0,
        "{after:?}"
    );
    assert!(
        after.contains_key("quickcard_retention_deleted_rows_total{table=\"audit\"}"),
        "{after:?}"
    );
    assert!(
        get(
            &after,
            "quickcard_kiosk_last_seen_timestamp_seconds{kiosk=\"LAB-1\"}"
        ) > 0.0
    );
    // No user id or name on the page.
    let page = format!("{after:?}");
    assert!(!page.contains("stu-") && !page.contains("Maya"), "{page}");

    // The loopback listener serves the same page without a token.
    let r = w
        .http
        .get(format!("http://{loopback}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let open = parse(&r.text().await.unwrap());
    assert_eq!(
        get(&open, "quickcard_exchanges_total{result=\"ok\"}"),
        get(&after, "quickcard_exchanges_total{result=\"ok\"}")
    );
    // And nothing else.
    let r = w
        .http
        .get(format!("http://{loopback}/v1/kiosk/config"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// The `quickcard_…` names in a dashboard or rules file.
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("quickcard_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    assert!(out.len() >= 3, "{out:?}");
    out
}

/// The alert rules pass `promtool check rules` (Debian's `prometheus` package), when installed.
#[test]
fn alert_rules_pass_promtool() {
    let rules = format!(
        "{}/../deploy/monitoring/alerts.yml",
        env!("CARGO_MANIFEST_DIR")
    );
    match std::process::Command::new("promtool")
        .args(["check", "rules", &rules])
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("promtool is not installed (Debian: apt-get install prometheus): not checked")
        }
        Err(e) => panic!("promtool: {e}"),
    }
}

#[test]
fn the_metrics_listener_must_be_loopback() {
    let e = quickcard_portal::Config::from_toml(
        "[metrics]\nlisten = \"0.0.0.0:9464\"\n",
        "t.toml",
        Vec::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
    let c = quickcard_portal::Config::from_toml(
        "[metrics]\nlisten = \"127.0.0.1:9464\"\n",
        "t.toml",
        Vec::new(),
    )
    .unwrap();
    assert_eq!(c.metrics.listen.unwrap().port(), 9464);
}
