#!/usr/bin/env bash
# Runs the QuickCard kiosk demo on a fresh Debian machine: installs the system packages the
# kiosk needs (when run as root or with sudo), then starts the kiosk with no config, which
# means demo mode (embedded portal, sample roster, demo key, camera or replayed sample photos).
# The embedded portal also serves the browser kiosk at http://127.0.0.1:8470/kiosk/ (the
# address with the demo kiosk's credential is printed at start).
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(libclang-dev libasound2-dev pkg-config libxkbcommon-x11-0 libgl1 libegl1 fonts-dejavu-core)
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
# The browser kiosk (the Chromebook build) too, so the demo serves it; skip with
# QUICKCARD_DEMO_NO_WEB=1.
if [ -z "${QUICKCARD_DEMO_NO_WEB:-}" ]; then
  echo "==> building the browser kiosk (scripts/build-web.sh)"
  scripts/build-web.sh >/dev/null \
    || echo "==> the browser kiosk did not build (see above); the demo runs without it" >&2
fi
exec cargo run -p quickcard-kiosk -- "$@"
