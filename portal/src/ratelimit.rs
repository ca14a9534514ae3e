//! Scan rate limits of kiosks and cards: counters in the database, counted in groups.
//!
//! Every exchange counts one hit for its caller (the kiosk, or the sign-in page's address) and
//! one for its card, in fixed windows of `rate_limit.window_secs`. The counters are in the
//! database so that replicas share them: a flood spread over several replicas meets one
//! budget. Counting each exchange's hits with its own upsert made them a third of an
//! exchange's cost and, on SQLite, a second turn at the single writer; so concurrent requests'
//! hits are counted together ([`crate::group`]): one upsert per group adds each bucket's hits
//! and returns its totals, and each request gets its own place in the count, exactly as if the
//! requests had counted one after another.

use std::collections::BTreeMap;

use tokio::sync::oneshot;

use crate::db::{Db, DbKind};
use crate::group::{Group, GroupWork};

/// Counts hits in shared fixed-window buckets (`kiosk:ID`, `card:ID`, `signin-ip:ADDR`,
/// `enrol`).
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
    pub fn stats(&self) -> crate::group::GroupStats {
        self.group.stats()
    }

    pub fn new(db: Db) -> RateCounter {
        RateCounter {
            group: Group::new(crate::group::writers_for(db.kind), Counter { db }),
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
                for (job, err) in group.into_iter().zip(crate::group::fan_out(e)) {
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
