#!/usr/bin/env bash
# Screenshots of the real kiosk app for the README: runs the demo (embedded portal, replayed
# frames) under Xvfb + matchbox-window-manager and saves docs/screenshots/kiosk-*.png:
#   kiosk-scanning.png   classroom frames with no card (the scanning screen and its hint)
#   kiosk-dashboard.png  the demo card (the built-in demo replay) → the dashboard
#   kiosk-error.png      a foreign QR code (a book page with a URL) → "That is not your login card."
#   kiosk-pin.png        a teacher's demo card (second factor) → the PIN pad
# Needs: xvfb, matchbox-window-manager, x11-apps (xwd), imagemagick (convert).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"
cargo build -p quickcard-kiosk --bin quickcard-kiosk
bin=target/debug/quickcard-kiosk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
photos=sample-cards/photos
mkdir -p "$work/scan" "$work/foreign"
for f in "$photos"/no-code-0[0-5].jpg; do ln -s "$PWD/$f" "$work/scan/"; done
ln -s "$PWD/$photos/foreign-00.jpg" "$work/foreign/"
export QUICKCARD_KIOSK_CONFIG="$work/none.toml"   # no config: the demo
W=1280 H=800

shoot() { # name, seconds, kiosk args...
  local name=$1 secs=$2; shift 2
  local disp=":$((90 + RANDOM % 100))"
  Xvfb "$disp" -screen 0 ${W}x${H}x24 -nolisten tcp &
  local xvfb=$!
  sleep 1
  DISPLAY=$disp matchbox-window-manager -use_titlebar no &
  local wm=$!
  sleep 0.5
  DISPLAY=$disp LIBGL_ALWAYS_SOFTWARE=1 "$bin" --windowed --size ${W}x${H} "$@" >"$work/$name.log" 2>&1 &
  local app=$!
  sleep "$secs"
  DISPLAY=$disp xwd -root -silent > "$work/$name.xwd"
  convert "$work/$name.xwd" "$out/kiosk-$name.png"
  kill "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
  kill "$wm" "$xvfb" 2>/dev/null || true
  wait "$wm" "$xvfb" 2>/dev/null || true
  echo "wrote $out/kiosk-$name.png"
}

shoot scanning 6 --replay "$work/scan" --replay-fps 4
shoot dashboard 9 --replay-fps 10
shoot error 6 --replay "$work/foreign" --replay-fps 4
shoot pin 8 --demo-card tea-rivera --replay-fps 10
