#!/usr/bin/env sh
# Regenerates sample-cards/photos/ (frames + manifest.json) deterministically: QuickCards signed
# with the demo key, foreign QR codes and empty scenes through camera-like distortions.
# The dev profile (dependencies optimised) renders the 120 frames in about a minute and reuses
# the test build. Two runs give byte-identical files. CI does not run this.
set -eu
cd "$(dirname "$0")/.."
rm -f sample-cards/photos/*.jpg sample-cards/photos/manifest.json
cargo run --example make_photos -- sample-cards/photos
