#!/usr/bin/env sh
# Regenerates sample-cards/photos/ (frames + manifest.json) deterministically: QuickCards signed
# with the demo key, foreign QR codes and empty scenes through camera-like distortions.
# Release mode only because rendering 120 frames in debug takes minutes; CI does not run this.
set -eu
cd "$(dirname "$0")/.."
rm -f sample-cards/photos/*.jpg sample-cards/photos/manifest.json
cargo run --release --example make_photos -- sample-cards/photos
