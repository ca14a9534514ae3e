#!/usr/bin/env bash
# Smoke test of the browser kiosk (issue 9) in a real headless Chromium with a fake camera.
#
#   scripts/web-smoke.sh [--no-build]
#
# 1. builds the bundle (scripts/build-web.sh) and the portal, unless --no-build;
# 2. starts the portal's in-memory demo (`quickcard-portal --demo serve`) on loopback;
# 3. serves target/web/ from a tiny Python server that forwards /v1/* and /healthz to the
#    portal, so the page and the portal share one origin (the portal serving the bundle
#    itself is the next step of issue 9);
# 4. drives Chromium through chromedriver's WebDriver HTTP API (curl), with a fake camera
#    playing a y4m video made by ffmpeg, and polls document.title:
#    - a test-pattern video (no card in view) must reach "scanning", and come back to it after
#      an uncaught error (the page's crash restart);
#    - a video of the demo card stu-1001 must reach "dashboard".
#
#    - a forged card (one signature bit flipped) and a foreign QR code reach
#      "error:not-school-card", a revoked card (revoked through the admin API first) reaches
#      "error:revoked" without an exchange in the portal's audit.
#
# Needs (Debian): chromium chromium-driver ffmpeg qrencode python3 curl.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=1
[ "${1:-}" = "--no-build" ] && BUILD=0

if [ "$BUILD" = 1 ]; then
  scripts/build-web.sh >&2
  cargo build -p quickcard-portal >&2
fi
WEB=${WEB:-$ROOT/target/web}
PORTAL_BIN=${PORTAL_BIN:-$ROOT/target/debug/quickcard-portal}
for f in "$WEB/index.html" "$WEB/quickcard_kiosk_bg.wasm" "$PORTAL_BIN"; do
  [ -e "$f" ] || { echo "web-smoke: missing $f (run without --no-build)" >&2; exit 1; }
done
for cmd in chromium chromedriver ffmpeg qrencode python3 curl; do
  command -v "$cmd" >/dev/null || { echo "web-smoke: needs $cmd (apt-get install chromium chromium-driver ffmpeg qrencode)" >&2; exit 1; }
done

WORK=$(mktemp -d)
OUTDIR=${OUTDIR:-$ROOT/target/web-smoke}
mkdir -p "$OUTDIR"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "web-smoke: $1 did not come up" >&2; return 1
}

# The portal's demo (in-memory SQLite, sample roster, demo key trusted, one enrolled kiosk).
PORTAL_PORT=$(free_port)
QUICKCARD_PORTAL_LISTEN="127.0.0.1:$PORTAL_PORT" "$PORTAL_BIN" --demo serve 2>"$WORK/portal.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$PORTAL_PORT/healthz"
CREDENTIAL=$(sed -n 's/.*credential: \([^ ]*\).*/\1/p' "$WORK/portal.log" | head -1)
[ -n "$CREDENTIAL" ] || { echo "web-smoke: no kiosk credential in the portal's output" >&2; cat "$WORK/portal.log" >&2; exit 1; }

# One origin for page and portal.
WEB_PORT=$(free_port)
cat > "$WORK/serve.py" <<'PY'
import http.server, sys, urllib.request, urllib.error
web, port, portal = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript",
                      ".webmanifest": "application/manifest+json"}
    def __init__(self, *a, **k): super().__init__(*a, directory=web, **k)
    def log_message(self, *a): pass
    def proxy(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        req = urllib.request.Request(portal + self.path, data=body, method=self.command)
        for k in ("Authorization", "Content-Type", "Accept"):
            if self.headers.get(k): req.add_header(k, self.headers[k])
        try:
            r = urllib.request.urlopen(req, timeout=10); status, data, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, data, hdrs = e.code, e.read(), e.headers
        self.send_response(status)
        self.send_header("Content-Type", hdrs.get("Content-Type", "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers(); self.wfile.write(data)
    def route(self, static):
        if self.path.startswith("/v1/") or self.path == "/healthz": self.proxy()
        elif static: static()
        else: self.send_error(405)
    def do_GET(self): self.route(super().do_GET)
    def do_HEAD(self): self.route(super().do_HEAD)
    def do_POST(self): self.route(None)
    def do_DELETE(self): self.route(None)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
python3 "$WORK/serve.py" "$WEB" "$WEB_PORT" "http://127.0.0.1:$PORTAL_PORT" &
PIDS+=($!)
wait_http "http://127.0.0.1:$WEB_PORT/index.html"

DRIVER_PORT=$(free_port)
chromedriver --port="$DRIVER_PORT" >"$WORK/chromedriver.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$DRIVER_PORT/status"
WD="http://127.0.0.1:$DRIVER_PORT"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# run NAME IMAGE EXPECTED_STATE: plays IMAGE as the camera and waits for the title.
run() {
  local name=$1 image=$2 want=$3
  if [ "${image#qr:}" != "$image" ]; then # a QR code of the given text, printed large
    qrencode -l M -s 12 -m 4 -o "$WORK/$name.png" "${image#qr:}"
    image="$WORK/$name.png"
  fi
  if [ "$image" = none ]; then # a moving test pattern: a camera with no card in view
    ffmpeg -loglevel error -y -f lavfi -i testsrc=size=1280x720:rate=15 -t 4 -pix_fmt yuv420p "$WORK/$name.y4m"
  else
    ffmpeg -loglevel error -y -loop 1 -i "$image" -vf "scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2:white" \
      -t 4 -r 15 -pix_fmt yuv420p "$WORK/$name.y4m"
  fi
  local profile="$WORK/profile-$name"
  mkdir -p "$profile"
  local caps
  caps=$(python3 - "$WORK/$name.y4m" "$profile" <<'PY'
import json, sys
args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,800", "--user-data-dir=" + sys.argv[2],
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--use-file-for-fake-video-capture=" + sys.argv[1]]
print(json.dumps({"capabilities": {"alwaysMatch": {"browserName": "chrome",
    "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}}))
PY
)
  local sid
  sid=$(curl -fsS -X POST -H 'Content-Type: application/json' -d "$caps" "$WD/session" | json 'd["value"]["sessionId"]')
  local url="http://127.0.0.1:$WEB_PORT/index.html?mode=lab&demo=1#credential=$CREDENTIAL"
  curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"url\": \"$url\"}" "$WD/session/$sid/url" >/dev/null
  local t0 title="" seen=""
  t0=$(date +%s%N)
  for _ in $(seq 1 150); do
    title=$(curl -fsS "$WD/session/$sid/title" | json 'd["value"]')
    case "$seen" in *"|$title|"*) ;; *) seen="$seen|$title|"; echo "  $name: $title ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" ;; esac
    [ "$title" = "QuickCard kiosk — $want" ] && break
    sleep 0.1
  done
  if [ "$want" = scanning ]; then
    # Frame and scan times on the UI thread (medians published on the live region).
    local frames=0 numbers=""
    for _ in $(seq 1 100); do
      numbers=$(curl -fsS -X POST -H 'Content-Type: application/json' \
        -d '{"script": "const e = document.getElementById(\"quickcard-state\"); return [e.dataset.frames || \"0\", e.dataset.grabMs || \"\", e.dataset.scanMs || \"\"].join(\" \")", "args": []}' \
        "$WD/session/$sid/execute/sync" | json 'd["value"]')
      frames=${numbers%% *}
      [ "$frames" -ge 32 ] && break
      sleep 0.1
    done
    echo "  $name: after $frames frames: median grab $(echo "$numbers" | cut -d' ' -f2) ms, median scan $(echo "$numbers" | cut -d' ' -f3) ms per frame"
  fi
  if [ "${4:-}" = crash ]; then
    # The page restarts itself after an uncaught error (a Rust panic aborts the module on
    # wasm32): throw one and wait for "crashed" and then the state again.
    curl -fsS -X POST -H 'Content-Type: application/json' \
      -d '{"script": "setTimeout(() => { throw new Error(\"web-smoke: simulated crash\") }, 0); return 1", "args": []}' \
      "$WD/session/$sid/execute/sync" >/dev/null
    local crashed=0
    title=""
    for _ in $(seq 1 100); do
      title=$(curl -fsS "$WD/session/$sid/title" | json 'd["value"]')
      [ "$title" = "QuickCard kiosk — crashed" ] && crashed=1
      [ "$crashed" = 1 ] && [ "$title" = "QuickCard kiosk — $want" ] && break
      sleep 0.1
    done
    if [ "$crashed" = 1 ] && [ "$title" = "QuickCard kiosk — $want" ]; then
      echo "  $name: crashed and came back to $want"
    else
      echo "web-smoke: $name: no restart after a crash (crashed=$crashed, title \"$title\")" >&2
      title="(no restart)"
    fi
  fi
  if [ "$want" != scanning ]; then
    local first
    first=$(curl -fsS -X POST -H 'Content-Type: application/json' \
      -d '{"script": "return document.getElementById(\"quickcard-state\").dataset.firstCardMs || \"\"", "args": []}' \
      "$WD/session/$sid/execute/sync" | json 'd["value"]')
    echo "  $name: first card read ${first:-?} ms after navigation start"
  fi
  local live
  live=$(curl -fsS -X POST -H 'Content-Type: application/json' \
    -d '{"script": "return document.getElementById(\"quickcard-state\").textContent", "args": []}' \
    "$WD/session/$sid/execute/sync" | json 'd["value"]')
  curl -fsS "$WD/session/$sid/screenshot" \
    | json 'd["value"]' | base64 -d > "$OUTDIR/$name.png" 2>/dev/null || true
  curl -fsS -X DELETE "$WD/session/$sid" >/dev/null || true
  if [ "$title" != "QuickCard kiosk — $want" ] || [ "$live" != "$want" ]; then
    echo "web-smoke: $name: wanted $want, got title \"$title\", live region \"$live\"" >&2
    return 1
  fi
  echo "web-smoke: $name: reached $want (screenshot $OUTDIR/$name.png)"
}

ADMIN_TOKEN=$(sed -n 's/.*admin token: \([^ ]*\).*/\1/p' "$WORK/portal.log" | head -1)
KIOSK_ID=$(sed -n 's/^demo kiosk \([^ ]*\) .*/\1/p' "$WORK/portal.log" | head -1)
audit() { curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORTAL_PORT/v1/admin/audit"; }
# exchanges USER [RESULT]: how many card exchanges the portal audited for USER from this kiosk.
exchanges() {
  audit | python3 -c '
import json, sys
user, kiosk, result = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
rows = json.load(sys.stdin)["rows"]
print(sum(1 for r in rows if r["kind"] == "exchange" and r["user_id"] == user
          and r["kiosk_id"] == kiosk and (result is None or r["result"] == result)))' "$1" "$KIOSK_ID" "${2:-}"
}

status=0
run no-card none scanning crash || status=1
run card "$ROOT/sample-cards/png/stu-1001.png" dashboard || status=1
# The exchange reached the portal from the web kiosk.
if [ "$(exchanges stu-1001 ok)" -lt 1 ]; then
  echo "web-smoke: the portal's audit shows no exchange for stu-1001 from kiosk $KIOSK_ID" >&2; status=1
fi
# Negative runs: each reaches its own error state, and nothing is exchanged.
FORGED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["card"])' \
  "$ROOT/sample-cards/vectors/reject-bad-signature-bit-flipped.json")
run forged "qr:$FORGED" error:not-school-card || status=1
run foreign "qr:https://example.com/not-a-card" error:not-school-card || status=1
curl -fsS -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
  "http://127.0.0.1:$PORTAL_PORT/v1/admin/users/stu-1005/revoke" >/dev/null
run revoked "$ROOT/sample-cards/png/stu-1005.png" error:revoked || status=1
if [ "$(exchanges stu-1005)" != 0 ]; then
  echo "web-smoke: the revoked card reached the portal (audit has an exchange for stu-1005)" >&2
  status=1
fi
[ "$status" = 0 ] && echo "web-smoke: all runs passed"
exit $status
