# Sourced by scripts/build-debs.sh and scripts/check-deploy.sh: the cargo features the Debian
# packages' programs are built with, in one place, so both scripts check the same binaries and
# share one build. The kiosk leaves out `demo` (the embedded portal: axum, sqlx and this source
# tree's paths); the portal keeps its defaults. `[package.metadata.deb]` in Cargo.toml says the
# same for a plain `cargo deb`.
KIOSK_FEATURES=camera
# shellcheck disable=SC2034  # used by the scripts that source this file
SHIPPED_FEATURES=(--no-default-features
                  --features "quickcard-kiosk/$KIOSK_FEATURES,quickcard-portal/default")
