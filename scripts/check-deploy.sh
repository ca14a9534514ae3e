#!/usr/bin/env bash
# Checks everything in deploy/ that a machine can check without booting it:
#  1. every systemd unit passes `systemd-analyze verify` with no warning at all (the units'
#     /usr/bin/quickcard-* and /usr/bin/cage are pointed at real binaries in a temporary copy,
#     so the executables are really checked), and deliberately broken copies are refused; the
#     portal's units score at most 2.5 in `systemd-analyze security --offline=true`, the apps'
#     unit (a browser) at most 3.5; the lines that keep the kiosk's credential from the apps
#     (LoadCredential=, the apps user, InaccessiblePaths=) are there;
#  2. every example config is accepted by the program that reads it (`--check-config`), and a
#     broken one is refused;
#  3. the nginx example passes `nginx -t` (with a throw-away certificate) when nginx is there.
#
#   scripts/check-deploy.sh
#
# Needs: systemd (systemd-analyze), installed here with apt-get when missing; the kiosk and
# portal binaries (built with `cargo build` when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v systemd-analyze >/dev/null; then
  echo "==> installing systemd (for systemd-analyze)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq systemd >/dev/null
fi

# The programs as packaged (scripts/shipped-features.sh), so build-debs.sh reuses this build.
# shellcheck source=scripts/shipped-features.sh
. scripts/shipped-features.sh
echo "==> cargo build -p quickcard-kiosk -p quickcard-portal ${SHIPPED_FEATURES[*]}"
cargo build --quiet -p quickcard-kiosk -p quickcard-portal --bins "${SHIPPED_FEATURES[@]}"
BIN="$ROOT/target/debug"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail=0

# --- 1. unit files ----------------------------------------------------------------------------
mkdir -p "$TMP/bin" "$TMP/units"
ln -s "$BIN/quickcard-kiosk" "$TMP/bin/quickcard-kiosk"
ln -s "$BIN/quickcard-portal" "$TMP/bin/quickcard-portal"
if command -v cage >/dev/null; then
  ln -s "$(command -v cage)" "$TMP/bin/cage"
else
  # cage itself is not needed to check the unit; an executable in its place is.
  printf '#!/bin/sh\nexit 0\n' >"$TMP/bin/cage"; chmod +x "$TMP/bin/cage"
fi

# verify_units DIR: runs systemd-analyze verify on every unit in DIR; any output is a failure
# (unknown keys, bad values and missing executables are only warnings to systemd).
verify_units() {
  local dir="$1" out rc=0 files=()
  local f
  for f in "$dir"/*.service "$dir"/*.socket "$dir"/*.timer; do
    [ -e "$f" ] && files+=("./$(basename "$f")")
  done
  out="$(cd "$dir" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "${files[@]}" 2>&1)" || rc=$?
  # Lines about the host's own units (not ours) are not our business.
  out="$(echo "$out" | grep -E 'quickcard' || true)"
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    echo "$out"
    return 1
  fi
  return 0
}

units=()
while IFS= read -r f; do units+=("$f"); done < <(find deploy -name '*.service' -o -name '*.socket' -o -name '*.timer' | sort)
for f in "${units[@]}"; do
  sed -e "s#/usr/bin/quickcard-#$TMP/bin/quickcard-#g" -e "s#/usr/bin/cage#$TMP/bin/cage#g" \
    "$f" >"$TMP/units/$(basename "$f")"
done
echo "==> systemd-analyze verify: ${units[*]}"
if verify_units "$TMP/units"; then
  echo "    ok: ${#units[@]} units"
else
  echo "FAIL: a unit file does not verify" >&2
  fail=1
fi

# The check must be able to fail: a misspelt hardening key, a missing executable, a misspelt
# LoadCredential=, and a broken key in the apps' template unit.
breakages=(
  "quickcard-portal.service|s/^ProtectSystem=strict/ProtectSytem=strict/"
  "quickcard-portal.service|s#^ExecStart=$TMP/bin/quickcard-portal#ExecStart=$TMP/bin/no-such-binary#"
  "quickcard-kiosk.service|s/^LoadCredential=/LoadCredentail=/"
  "quickcard-apps@.service|s/^InaccessiblePaths=/InaccessiblePath=/"
)
for entry in "${breakages[@]}"; do
  unit="${entry%%|*}"; breakage="${entry#*|}"
  rm -rf "$TMP/broken"; mkdir "$TMP/broken"
  sed -e "$breakage" "$TMP/units/$unit" >"$TMP/broken/$unit"
  if cmp -s "$TMP/units/$unit" "$TMP/broken/$unit"; then
    echo "FAIL: the breakage '$breakage' changed nothing in $unit" >&2; fail=1; continue
  fi
  if verify_units "$TMP/broken" >/dev/null 2>&1; then
    echo "FAIL: a broken unit ($unit: $breakage) passed verification" >&2
    fail=1
  else
    echo "    ok: a broken copy is refused ($unit: $breakage)"
  fi
done

# What keeps a child's browser away from the kiosk's secrets must stay in the units (systemd
# accepts a unit without any of it).
require() { # require UNIT LINE...: each LINE must be in deploy/kiosk/UNIT exactly
  local unit="$1" line; shift
  for line in "$@"; do
    if grep -qxF -- "$line" "deploy/kiosk/$unit"; then
      echo "    ok: $unit: $line"
    else
      echo "FAIL: $unit must say: $line" >&2; fail=1
    fi
  done
}
require quickcard-kiosk.service \
  "LoadCredential=credential:/etc/quickcard/kiosk/credential" \
  "NoNewPrivileges=yes" \
  "RuntimeDirectory=quickcard-kiosk"
require quickcard-apps.socket \
  "SocketUser=quickcard-kiosk" "SocketMode=0600" "Accept=yes"
require quickcard-apps@.service \
  "User=quickcard-apps" \
  "InaccessiblePaths=-/etc/quickcard -/var/lib/quickcard-kiosk" \
  "NoNewPrivileges=yes"

# The portal's units must stay hardened: systemd's own exposure score (0 = locked down,
# 10 = unprotected) at most 2.5.
# The apps' unit runs a web browser, which needs namespaces for its own sandbox, a JIT and the
# network: at most 3.5 there.
for entry in quickcard-portal.service:25 quickcard-portal-import.service:25 quickcard-apps@.service:35; do
  u="${entry%%:*}"; limit="${entry#*:}"
  score="$(SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=true --no-pager "$TMP/units/$u" 2>/dev/null \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
  if SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=true --threshold="$limit" --no-pager "$TMP/units/$u" >/dev/null 2>&1; then
    echo "    ok: $u exposure $score (systemd-analyze security, limit ${limit:0:1}.${limit:1})"
  else
    echo "FAIL: $u exposure ${score:-?} is above ${limit:0:1}.${limit:1} (systemd-analyze security --offline=true)" >&2
    fail=1
  fi
done

# --- 2. example configs -----------------------------------------------------------------------
check() { # check DESCRIPTION COMMAND...: must succeed
  local out
  if out="$("${@:2}" 2>&1)"; then
    echo "    ok: $1"
  else
    echo "$out" | sed 's/^/    /'
    echo "FAIL: $1" >&2
    fail=1
  fi
}
refuse() { # refuse DESCRIPTION COMMAND...: must fail
  if "${@:2}" >/dev/null 2>&1; then
    echo "FAIL: $1 was accepted" >&2
    fail=1
  else
    echo "    ok: $1 is refused"
  fi
}

echo "==> example configs"
# No QUICKCARD_PORTAL_* variable from the caller may change what is checked.
unset_env=(env -u QUICKCARD_PORTAL_CONFIG -u QUICKCARD_KIOSK_CONFIG)
for v in $(env | grep -o '^QUICKCARD_PORTAL_[A-Z_]*' || true); do unset_env+=(-u "$v"); done
# The installed portal.toml serves the browser kiosk from where the package puts it
# (/usr/share/quickcard-portal/web); here that folder is the built bundle, or a stand-in with
# only an index.html when it is not built (build-debs.sh checks the real one in the package).
WEB_DIR=target/web
if [ ! -e "$WEB_DIR/index.html" ]; then
  WEB_DIR="$TMP/web"; mkdir -p "$WEB_DIR"; echo '<!doctype html>' >"$WEB_DIR/index.html"
fi
for f in deploy/portal/*.toml; do
  check "$f" "${unset_env[@]}" QUICKCARD_PORTAL_WEB_DIR="$WEB_DIR" "$BIN/quickcard-portal" --config "$f" --check-config
done
for f in deploy/kiosk/*.toml; do
  check "$f" "${unset_env[@]}" "$BIN/quickcard-kiosk" check-config --config "$f"
done
printf 'listen = "127.0.0.1:8080"\n[lockout]\nmax_failure = 5\n' >"$TMP/bad-portal.toml"
refuse "a portal config with a misspelt key" "${unset_env[@]}" "$BIN/quickcard-portal" --config "$TMP/bad-portal.toml" --check-config
sed 's#^portal_url = .*#portal_url = "portal.district.example"#' deploy/kiosk/kiosk.toml >"$TMP/bad-kiosk.toml"
refuse "a kiosk config without https://" "${unset_env[@]}" "$BIN/quickcard-kiosk" check-config --config "$TMP/bad-kiosk.toml"
sed 's#^run_as = .*#run_as = "root"#' deploy/kiosk/kiosk.toml >"$TMP/root-apps.toml"
refuse "a kiosk config whose apps run as root" "${unset_env[@]}" "$BIN/quickcard-kiosk" check-config --config "$TMP/root-apps.toml"

# --- 3. the reverse proxy example -------------------------------------------------------------
if command -v nginx >/dev/null && command -v openssl >/dev/null; then
  echo "==> nginx -t on deploy/portal/nginx-quickcard-portal.conf"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=portal.district.example \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
  sed -e "s#/etc/letsencrypt/live/portal.district.example/fullchain.pem#$TMP/cert.pem#" \
      -e "s#/etc/letsencrypt/live/portal.district.example/privkey.pem#$TMP/key.pem#" \
      -e "s#root /var/www/html#root $TMP#" \
      deploy/portal/nginx-quickcard-portal.conf >"$TMP/site.conf"
  cat >"$TMP/nginx.conf" <<NGINX
pid $TMP/nginx.pid;
error_log $TMP/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $TMP; proxy_temp_path $TMP; fastcgi_temp_path $TMP;
    uwsgi_temp_path $TMP; scgi_temp_path $TMP;
    include $TMP/site.conf;
}
NGINX
  check "nginx example" nginx -t -q -c "$TMP/nginx.conf"
else
  echo "==> nginx example: skipped (apt-get install nginx openssl to check it)"
fi

if [ "$fail" -ne 0 ]; then
  echo "check-deploy: FAILED" >&2
  exit 1
fi
echo "check-deploy: all unit files verify and all example configs are accepted"
