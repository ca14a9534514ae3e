#!/usr/bin/env bash
# Checks Cargo.lock against the RustSec advisory database with cargo-deny; deny.toml lists the
# advisories that may stay open, each with its reason.
#
#   scripts/check-advisories.sh              # self-test, then the real check
#   scripts/check-advisories.sh --self-test  # only the self-test (no network needed)
#
# 1. Self-test: a small advisory database made here (a local git repository in the RustSec
#    format) proves that the check fails on a vulnerable crate in our Cargo.lock, that
#    deny.toml's ignore list is what lets RUSTSEC-2023-0071 (rsa) pass, and that a clean
#    database passes.
# 2. The real check: `cargo deny fetch db` clones the RustSec database from GitHub into
#    $CARGO_HOME/advisory-dbs, then `cargo deny check advisories` runs on it offline. Any open
#    advisory not in deny.toml fails, and so does a database older than 30 days.
#    When GitHub cannot be reached and no earlier copy exists, the check cannot run: this says
#    so loudly and, unless QUICKCARD_REQUIRE_ADVISORY_DB=1, does not fail (CI machines that
#    reach only package registries would otherwise never pass). A copy made elsewhere
#    (`git clone https://github.com/rustsec/advisory-db`) can be given with
#    QUICKCARD_ADVISORY_DB=/path/to/advisory-db.
#
# cargo-deny is installed (pinned, --locked) when missing; building it takes a few minutes once.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CARGO_DENY_VERSION=0.20.2
if ! command -v cargo-deny >/dev/null; then
  echo "==> installing cargo-deny $CARGO_DENY_VERSION (once)"
  cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
fi
if ! command -v git >/dev/null; then
  echo "==> installing git (cargo-deny clones the advisory database with it)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq git >/dev/null
fi

# deny CONFIG ARGS...: cargo deny over the whole workspace and the committed Cargo.lock.
deny() {
  local config="$1"; shift
  cargo deny --color never --workspace --locked --config "$config" "$@"
}

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# --- 1. self-test -----------------------------------------------------------------------------
self_test() {
  echo "==> advisories self-test (a local advisory database)"
  local db="$TMP/fake-db" fail=0 out
  mkdir -p "$db/crates/rsa" "$db/crates/sha2"
  # The real advisory's metadata (no fixed version), as in the RustSec database.
  cat >"$db/crates/rsa/RUSTSEC-2023-0071.md" <<'EOF'
```toml
[advisory]
id = "RUSTSEC-2023-0071"
package = "rsa"
date = "2023-11-22"
url = "https://people.redhat.com/~hkario/marvin/"
categories = ["crypto-failure"]
keywords = ["cryptography"]
aliases = ["CVE-2023-49092", "GHSA-c38w-74pg-36hr"]
cvss = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"

[versions]
patched = []
```

# Marvin Attack: potential key recovery through timing sidechannels

Copy for the self-test of scripts/check-advisories.sh.
EOF
  # A made-up vulnerability in a crate the workspace really uses (fixed only in a version that
  # does not exist): the check must fail on it.
  cat >"$db/crates/sha2/RUSTSEC-2099-0001.md" <<'EOF'
```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "sha2"
date = "2099-01-01"
categories = ["crypto-failure"]

[versions]
patched = [">= 99.0.0"]
```

# Made up for the self-test of scripts/check-advisories.sh

Not a real advisory.
EOF
  git -C "$db" init -q -b main
  commit() { git -C "$db" -c user.name=self-test -c user.email=self-test@localhost add -A \
    && git -C "$db" -c user.name=self-test -c user.email=self-test@localhost commit -q -m "$1"; }
  commit "advisories for the self-test"

  # Our deny.toml with a throw-away clone folder; git (which cargo-deny clones with) is told
  # to fetch the RustSec URL from the local database instead.
  sed -e "s#^db-urls = .*#&\ndb-path = \"$TMP/dbs\"#" deny.toml >"$TMP/deny.toml"
  grep -q "^db-path = \"$TMP/dbs\"" "$TMP/deny.toml" || { echo "FAIL: could not give deny.toml a test db-path" >&2; return 1; }
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.file://$db.insteadOf"
  GIT_CONFIG_VALUE_0="$(sed -n 's/^db-urls = \["\([^"]*\)"\]/\1/p' deny.toml)"
  export GIT_CONFIG_VALUE_0
  # The same without the ignore list.
  sed -e '/^ignore = \[/,/^\]/d' "$TMP/deny.toml" >"$TMP/deny-no-ignore.toml"

  if out="$(deny "$TMP/deny.toml" check advisories 2>&1)"; then
    echo "FAIL: a vulnerable crate in Cargo.lock passed the check" >&2; fail=1
  elif ! grep -q "RUSTSEC-2099-0001" <<<"$out"; then
    echo "$out" | sed 's/^/    /'
    echo "FAIL: the check failed, but not on the planted advisory" >&2; fail=1
  elif grep -q "RUSTSEC-2023-0071" <<<"$out" && ! grep -q "advisory-ignored\|ignored" <<<"$out"; then
    echo "$out" | sed 's/^/    /'
    echo "FAIL: RUSTSEC-2023-0071 was reported although deny.toml ignores it" >&2; fail=1
  else
    echo "    ok: a vulnerable crate fails the check (RUSTSEC-2099-0001 on sha2)"
  fi

  git -C "$db" rm -q crates/sha2/RUSTSEC-2099-0001.md
  commit "the made-up advisory is withdrawn"
  rm -rf "$TMP/dbs"
  if out="$(deny "$TMP/deny.toml" check advisories 2>&1)"; then
    echo "    ok: with only RUSTSEC-2023-0071 open the check passes (deny.toml ignores it)"
  else
    echo "$out" | sed 's/^/    /'
    echo "FAIL: the check fails although every open advisory is in deny.toml" >&2; fail=1
  fi
  rm -rf "$TMP/dbs"
  if out="$(deny "$TMP/deny-no-ignore.toml" check advisories 2>&1)"; then
    echo "FAIL: RUSTSEC-2023-0071 passed without deny.toml's ignore entry" >&2; fail=1
  elif grep -q "RUSTSEC-2023-0071" <<<"$out"; then
    echo "    ok: without the ignore entry RUSTSEC-2023-0071 fails the check"
  else
    echo "$out" | sed 's/^/    /'
    echo "FAIL: without the ignore list the check failed for another reason" >&2; fail=1
  fi
  unset GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0
  return "$fail"
}

self_test || { echo "check-advisories: the self-test FAILED" >&2; exit 1; }
if [ "${1:-}" = "--self-test" ]; then
  echo "check-advisories: self-test passed"
  exit 0
fi

# --- 2. the real database ---------------------------------------------------------------------
echo "==> cargo deny check advisories (the RustSec database)"
config=deny.toml
if [ -n "${QUICKCARD_ADVISORY_DB:-}" ]; then
  # A checkout brought in by hand: cloned from there instead of GitHub (its last commit's date
  # is what the 30-day staleness rule looks at).
  db="$(cd "$QUICKCARD_ADVISORY_DB" && pwd)"
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.file://$db.insteadOf"
  GIT_CONFIG_VALUE_0="$(sed -n 's/^db-urls = \["\([^"]*\)"\]/\1/p' deny.toml)"
  export GIT_CONFIG_VALUE_0
  sed -e "s#^db-urls = .*#&\ndb-path = \"$TMP/dbs\"#" deny.toml >"$TMP/deny.toml"
  config="$TMP/deny.toml"
  echo "    using the advisory database in $db"
fi

offline=()
if fetch_log="$(deny "$config" fetch db 2>&1)"; then
  echo "    advisory database fetched"
elif compgen -G "${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-*/crates" >/dev/null; then
  echo "    WARNING: could not update the advisory database; checking the copy from an earlier fetch"
  offline=(--offline)
  echo "$fetch_log" | grep -i "error\|fatal" | head -3 | sed 's/^/      /'
else
  cat >&2 <<EOF

  ************************************************************************************************
  ADVISORIES NOT CHECKED: the RustSec advisory database could not be fetched, and there is no
  earlier copy on this machine. cargo-deny said:
$(echo "$fetch_log" | grep -i "error\|fatal" | head -3 | sed 's/^/    /')
  The database is a git repository on GitHub only (https://github.com/rustsec/advisory-db).
  Run this where GitHub is reachable, or set QUICKCARD_ADVISORY_DB to a checkout of it.
  ************************************************************************************************

EOF
  if [ "${QUICKCARD_REQUIRE_ADVISORY_DB:-0}" = 1 ]; then
    echo "check-advisories: FAILED (QUICKCARD_REQUIRE_ADVISORY_DB=1 and no database)" >&2
    exit 1
  fi
  echo "check-advisories: self-test passed; the real check was SKIPPED (no database)"
  exit 0
fi
cd "$ROOT"
deny "$config" "${offline[@]}" check advisories
echo "check-advisories: no open advisory outside deny.toml"
