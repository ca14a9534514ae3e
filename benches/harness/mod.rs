//! The one rule for every benchmark in the workspace. Each is a `harness = false` binary that
//! includes this file (`#[path = …] mod harness;`) and starts with [`mode`]:
//!
//! - `cargo bench` passes `--bench`: [`Mode::Measure`], the full measurement and its table;
//! - anything else is a test run, [`Mode::Smoke`]: the same code on a small input, asserting
//!   that it works, its numbers meaningless. `cargo test --all-targets` runs the binary with
//!   no arguments; `cargo nextest run` lists it first (`--list --format terse [--ignored]`:
//!   one test, `smoke`, printed here, then [`Mode::Done`]) and then runs that test
//!   (`smoke --exact --nocapture`).
//! - A smoke run that needs what a plain test run does not have (the browser bench: the bundle
//!   and Chromium) is an ignored test, like the browser tests: it runs only when asked for
//!   (`--ignored`, as `cargo nextest run --run-ignored …` passes it).
//!
//! [`args`] gives the bench its own arguments without the ones the test runners add.

/// What the bench binary does this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `cargo bench`: measure and print the table.
    Measure,
    /// A test run: the same code on a small input.
    Smoke,
    /// Nothing more: a test listing was printed, or an ignored smoke run was not asked for.
    Done,
}

/// The arguments test runners pass; [`args`] leaves them out.
const RUNNER_ARGS: &[&str] = &[
    "--bench",
    "--exact",
    "--nocapture",
    "--ignored",
    "--include-ignored",
    "smoke",
];

/// The mode for this run. `ignored`: the smoke run needs more than a plain test run has.
pub fn mode(ignored: bool) -> Mode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| all.iter().any(|a| a == flag);
    if has("--bench") {
        Mode::Measure
    } else if has("--list") {
        // Without `--ignored` nextest wants the tests that are not ignored, with it those that
        // are (stdout carries only this line).
        if has("--ignored") == ignored {
            println!("smoke: test");
        }
        Mode::Done
    } else if ignored && !has("--ignored") && !has("--include-ignored") {
        eprintln!("smoke run ignored: it runs with --ignored (see benches/harness/mod.rs)");
        Mode::Done
    } else {
        Mode::Smoke
    }
}

/// The bench's own arguments (a folder, `--secs 10`, …), without the test runners' ones.
#[allow(dead_code)] // not every bench takes arguments
pub fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !RUNNER_ARGS.contains(&a.as_str()))
        .collect()
}
