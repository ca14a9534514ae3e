#!/usr/bin/env bash
# Builds the fuzz targets with coverage instrumentation and runs each for SECONDS (default 60)
# with the dictionary and the seed corpus; exits non-zero if a target crashes (the input is
# kept in quickcard/fuzz/artifacts/). Stable Rust: the flags are cargo-fuzz's, without a
# sanitizer (the crate has no unsafe code; `unsafe_code = "forbid"`).
#
#   quickcard/fuzz/run.sh          # every target, 60 s each (side by side)
#   quickcard/fuzz/run.sh 600 card_fields
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(verify_card card_fields subject_id)

host="$(rustc -vV | sed -n 's/^host: //p')"
# Without --target, RUSTFLAGS would instrument build scripts too, which then fail to link.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
cargo build --quiet --release --manifest-path "$here/Cargo.toml" --target "$host" \
  $(printf -- '--bin %s ' "${targets[@]}")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pids=()
for t in "${targets[@]}"; do
  # New inputs go to a scratch corpus; the committed seeds are only read.
  mkdir -p "$work/$t" "$here/artifacts/$t"
  "$here/target/$host/release/$t" "$work/$t" "$here/seeds/$t" \
    -dict="$here/quickcard.dict" -max_total_time="$secs" -timeout=10 \
    -artifact_prefix="$here/artifacts/$t/" -print_final_stats=1 \
    >"$work/$t.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!targets[@]}"; do
  t="${targets[$i]}"
  if wait "${pids[$i]}"; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")"
    cov="$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1)"
    echo "fuzz $t: ${runs:-?} runs in ${secs} s, $cov, no crash"
  else
    failed=1
    echo "fuzz $t: CRASH (input in quickcard/fuzz/artifacts/$t/)" >&2
    grep -m1 -A3 'panicked at' "$work/$t.log" >&2 || true
    grep -v '^#[0-9]' "$work/$t.log" | grep -A12 'ERROR: libFuzzer' >&2 || tail -20 "$work/$t.log" >&2
  fi
done
exit "$failed"
