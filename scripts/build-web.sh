#!/usr/bin/env bash
# Builds the browser kiosk (issue 9): the quickcard-kiosk library for wasm32-unknown-unknown
# with feature `web`, bound with the wasm-bindgen CLI at the exact version in Cargo.lock, into
# target/web/ beside web/index.html, the manifest and the icons. Prints the sizes.
#
#   scripts/build-web.sh            # dev profile (dependencies are optimised even there)
#   scripts/build-web.sh --release  # release profile
#   scripts/build-web.sh --profile=NAME  # a custom cargo profile (target/wasm32-…/NAME/)
#   OUT=dir scripts/build-web.sh    # another output folder
#
# Measured (issue 9): the dev profile leaves this crate (scanner, RGBA→luma) unoptimised, so
# grabbing + scanning a 720p frame on the UI thread takes ~78 + ~37 ms there against ~6 + ~8
# ms with --release, and the download is 2.86 MB gzip against 2.10 MB. Ship --release (or a
# profile with opt-level 3 for quickcard-kiosk).
#
# Needs: rustup target wasm32-unknown-unknown (added if missing), network to crates.io the
# first time (cargo install wasm-bindgen-cli). No wasm-opt: Debian's binaryen 108 produces a
# module that fails to load, npm's takes minutes for ~10 % (see shared notes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PROFILE=dev
PROFILE_DIR=debug
for arg in "$@"; do
  case "$arg" in
    --release) PROFILE=release; PROFILE_DIR=release ;;
    --profile=*) PROFILE=${arg#--profile=}; PROFILE_DIR=$PROFILE ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d'; exit 0 ;;
    *) echo "build-web.sh: unknown argument $arg (use --release)" >&2; exit 2 ;;
  esac
done
TARGET=wasm32-unknown-unknown
OUT=${OUT:-$ROOT/target/web}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WB_VERSION" ]; then
  echo "build-web.sh: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WB_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION" >&2
  # Without --locked: the CLI's own lock file does not build with this toolchain.
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# `cargo rustc --crate-type cdylib` makes the .wasm without making the native library a
# cdylib too (that would slow every native build and test).
cargo rustc --target "$TARGET" -p quickcard-kiosk --lib --no-default-features --features web \
  --profile "$PROFILE" --crate-type cdylib

WASM="$TARGET_DIR/$TARGET/$PROFILE_DIR/quickcard_kiosk.wasm"
rm -rf "$OUT"
mkdir -p "$OUT"
wasm-bindgen --target web --no-typescript --out-dir "$OUT" --out-name quickcard_kiosk "$WASM"
cp web/index.html web/manifest.webmanifest web/*.png "$OUT/"

echo "web kiosk in $OUT ($PROFILE profile):"
total_gz=0
for f in "$OUT"/*; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total_gz=$((total_gz + gz))
  printf '  %-28s %10d bytes  %10d gzip\n' "$(basename "$f")" "$raw" "$gz"
done
printf '  %-28s %10s        %10d gzip (%.2f MB)\n' "total download" "" "$total_gz" \
  "$(echo "$total_gz / 1000000" | bc -l)"
