#!/usr/bin/env bash
# Builds the browser kiosk: the quickcard-kiosk library for wasm32-unknown-unknown
# with feature `web`, bound with the wasm-bindgen CLI at the exact version in Cargo.lock, into
# target/web/ beside web/index.html, the scan worker's script, the manifest and the icons.
# Prints the sizes.
#
#   scripts/build-web.sh            # the `web` profile (Cargo.toml): what CI builds and ships
#   scripts/build-web.sh --release  # release profile (thin LTO; slower to build)
#   scripts/build-web.sh --profile=NAME  # another cargo profile (target/wasm32-…/NAME/)
#   OUT=dir scripts/build-web.sh    # another output folder
#
# The JavaScript, the .wasm and the scan worker's script (web/scan-worker.js, which imports the
# same JavaScript) get a content hash in their names (the portal serves them as immutable;
# index.html, which names them, is revalidated), and every text or wasm file gets a gzip twin
# (`.gz`) that the portal sends to browsers that accept gzip.
#
# Why a `web` profile: the plain dev profile leaves this crate (scanner, RGBA→luma) unoptimised,
# so grabbing + scanning a 720p frame took ~78 + ~37 ms there against ~6 + ~8 ms optimised,
# and the download was 2.86 MB gzip against 2.10 MB.
#
# Needs: rustup target wasm32-unknown-unknown (added if missing), network to crates.io the
# first time (cargo install wasm-bindgen-cli). No wasm-opt: Debian's binaryen 108 produces a
# module that fails to load, npm's takes minutes for ~10 % (see shared notes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PROFILE=web
PROFILE_DIR=web
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

# Content-addressed names for what never changes under a name; index.html points at them.
hash16() { sha256sum "$1" | cut -c1-16; }
JS="quickcard_kiosk-$(hash16 "$OUT/quickcard_kiosk.js").js"
BG="quickcard_kiosk_bg-$(hash16 "$OUT/quickcard_kiosk_bg.wasm").wasm"
mv "$OUT/quickcard_kiosk.js" "$OUT/$JS"
mv "$OUT/quickcard_kiosk_bg.wasm" "$OUT/$BG"
# The scan worker imports the same JavaScript (and gets the compiled wasm from the page), so
# it names the hashed JS, and its own name hashes that in.
sed -e "s|\./quickcard_kiosk\.js|./$JS|g" web/scan-worker.js > "$OUT/scan-worker.js"
grep -q "$JS" "$OUT/scan-worker.js" || {
  echo "build-web.sh: web/scan-worker.js no longer imports ./quickcard_kiosk.js" >&2
  exit 1
}
WORKER="scan-worker-$(hash16 "$OUT/scan-worker.js").js"
mv "$OUT/scan-worker.js" "$OUT/$WORKER"
sed -e "s|\./quickcard_kiosk\.js|./$JS|g" -e "s|\./quickcard_kiosk_bg\.wasm|./$BG|g" \
  -e "s|\./scan-worker\.js|./$WORKER|g" web/index.html > "$OUT/index.html"
grep -q "$JS" "$OUT/index.html" && grep -q "$BG" "$OUT/index.html" \
  && grep -q "$WORKER" "$OUT/index.html" || {
  echo "build-web.sh: web/index.html no longer names ./quickcard_kiosk.js, ./quickcard_kiosk_bg.wasm and ./scan-worker.js" >&2
  exit 1
}
cp web/manifest.webmanifest web/*.png "$OUT/"
for f in "$OUT"/*.js "$OUT"/*.wasm "$OUT"/*.html "$OUT"/*.webmanifest; do
  gzip -9 -n -k "$f"
done

echo "web kiosk in $OUT ($PROFILE profile):"
total_gz=0
for f in "$OUT"/*; do
  case "$f" in *.gz) continue ;; esac
  raw=$(stat -c %s "$f")
  if [ -e "$f.gz" ]; then gz=$(stat -c %s "$f.gz"); else gz=$(gzip -9 -c "$f" | wc -c); fi
  total_gz=$((total_gz + gz))
  printf '  %-42s %10d bytes  %10d gzip\n' "$(basename "$f")" "$raw" "$gz"
done
printf '  %-42s %10s        %10d gzip (%s MB)\n' "total download" "" "$total_gz" \
  "$(awk -v b="$total_gz" 'BEGIN { printf "%.2f", b / 1000000 }')"
