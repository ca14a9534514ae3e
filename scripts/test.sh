#!/usr/bin/env bash
# Runs every QuickCard test on a fresh Debian machine: installs the system packages the tests
# need (when run as root or with sudo), runs the fast checks first (formatting, lints native
# and wasm32, the API docs, known advisories), starts a throw-away PostgreSQL on loopback for
# the portal's tests, then runs the whole workspace's test suite under cargo-nextest (one build
# for every test; doc tests with `cargo test --doc`, which nextest cannot run), the fuzzers, the
# browser tests, the deploy checks and the Debian packages. CI (.ci/run) runs exactly this.
#
#   ./scripts/test.sh                # everything
#   ./scripts/test.sh -p quickcard   # extra arguments go to `cargo nextest run` and
#                                    # `cargo test --doc`
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: libclang for nokhwa's bindings, poppler-utils to render PDFs in tests,
# PostgreSQL for the portal's second database, Xvfb and friends for the kiosk's screenshots,
# xmlsec1 + pysaml2 as the independent SAML checker and service provider, Chromium and its
# WebDriver for the browser kiosk's tests, Python's prometheus_client as the independent
# parser of the portal's /metrics page.
PACKAGES=(libclang-dev libasound2-dev pkg-config poppler-utils postgresql xvfb x11-apps imagemagick
          matchbox-window-manager mesa-vulkan-drivers fonts-dejavu-core
          xmlsec1 python3-pysaml2 openssl systemd nginx dpkg-dev
          chromium chromium-driver python3-prometheus-client)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust 1.95 with rustup first (https://rustup.rs)" >&2
  exit 1
fi

# Fast checks first: a mistake they catch fails the run in minutes, not after the long tests.
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (native, every target)"
cargo clippy --workspace --all-targets -- -D warnings
echo "==> the card format and the kiosk core build for the browser (wasm32), lint-clean"
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo check --quiet -p quickcard --no-default-features --target wasm32-unknown-unknown
cargo clippy --quiet -p quickcard-kiosk --lib --no-default-features --features web \
  --target wasm32-unknown-unknown -- -D warnings
echo "==> cargo doc (no warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --workspace --no-deps
# Known advisories (RustSec) against Cargo.lock: a self-test on a local database, then the real
# one when it can be fetched (it lives on GitHub only; without it the script says so and goes
# on, unless QUICKCARD_REQUIRE_ADVISORY_DB=1). deny.toml lists what may stay open and why.
echo "==> advisories: Cargo.lock against the RustSec database (cargo deny, deny.toml)"
scripts/check-advisories.sh

# A PostgreSQL server of our own on loopback, for the portal's tests (skipped if a URL is given).
if [ -z "${QUICKCARD_TEST_POSTGRES_URL:-}" ] && [ -x scripts/start-postgres.sh ]; then
  QUICKCARD_TEST_POSTGRES_URL="$(scripts/start-postgres.sh)"
  export QUICKCARD_TEST_POSTGRES_URL
fi

# cargo-nextest runs each test in its own process, all binaries side by side; .config/nextest.toml
# keeps apart the tests that must not share the machine. Installed (pinned) when missing.
NEXTEST_VERSION=0.9.143
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "==> installing cargo-nextest $NEXTEST_VERSION (once)"
  cargo install --locked cargo-nextest --version "$NEXTEST_VERSION"
fi
echo "==> cargo nextest run --workspace --all-targets (benchmarks as smoke runs), then the doc tests"
cargo nextest run --workspace --all-targets "$@"
cargo test --workspace --doc "$@"

echo "==> the fuzz targets: 60 s each with coverage, the format's dictionary and the sample cards as seeds"
# Fails the run on a crash; the input is kept in quickcard/fuzz/artifacts/.
quickcard/fuzz/run.sh 60

echo "==> the browser kiosk and the Chromebook sign-in: bundle, then headless Chromium with a fake camera against the portal (and a pysaml2 SP as Google)"
scripts/build-web.sh
# The ignored browser tests and the browser bench's smoke run, one at a time (test group
# `browser`); the same arguments as above, so the same build.
cargo nextest run --workspace --all-targets --run-ignored only \
  -E 'binary_id(quickcard-kiosk::web_kiosk) | binary_id(quickcard-kiosk::web_signin) | binary_id(quickcard-kiosk::bench/web)'

echo "==> deploy: unit files verify, example configs pass --check-config, nginx example"
scripts/check-deploy.sh
echo "==> Debian packages (dev profile) and their file lists"
scripts/build-debs.sh
