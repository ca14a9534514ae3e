//! SQLite's write-ahead log is checkpointed in the background until it is copied completely,
//! so the next write starts it over and the file stays small under a steady stream of
//! exchanges (`Db::checkpoint`, run by `serve`). A checkpoint that only ever trails the writer
//! lets the log grow until SQLite checkpoints inside a commit, with every waiting exchange
//! waiting for it. SQLite only: PostgreSQL checkpoints itself.

mod common;

use common::World;
use futures_util::future::join_all;
use quickcard::Role;

const ROUNDS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_ahead_log_starts_over_under_steady_exchanges() {
    let db = common::sqlite_db();
    let wal = format!("{}-wal", db.url.trim_start_matches("sqlite://"));
    let w = World::with(db, |c| {
        c.rate_limit.kiosk_max = 1_000_000;
        c.rate_limit.card_max = 1_000_000;
    })
    .await;
    let cards: Vec<String> = ["stu-maya", "stu-omar", "stu-ben"]
        .iter()
        .map(|u| w.card(u, Role::Student, "sch-lincoln"))
        .collect();

    // Rounds of exchanges, 12 in flight at a time, with no pause between them.
    let mut sizes = Vec::new();
    for _ in 0..ROUNDS {
        for _ in 0..20 {
            let replies = join_all(cards.iter().cycle().take(12).map(|c| w.exchange(c))).await;
            assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
        }
        sizes.push(std::fs::metadata(&wal).expect("the log exists").len());
    }

    // Each round appends about as much to the log as the first; a log that never started
    // over would be ROUNDS times the first round's size by now.
    let first = sizes[0].max(1);
    let last = *sizes.last().unwrap();
    assert!(
        last < 3 * first,
        "the log grew round after round: {sizes:?} bytes"
    );
}
