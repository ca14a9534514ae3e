#!/usr/bin/env bash
# Builds the Debian packages quickcard-kiosk and quickcard-portal with cargo-deb and checks
# that each holds its binary, systemd units, config files and maintainer scripts, and that the
# kiosk's binary links no part of the portal (no axum, no sqlx: the demo's embedded portal is
# the cargo feature `demo`, left out here) and names no path of this source tree.
#
#   scripts/build-debs.sh            # dev profile (what CI runs: no release build)
#   scripts/build-debs.sh --release  # optimised packages for real machines
#
# The .deb files land in target/debian/. cargo-deb is installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=dev
if [ "${1:-}" = "--release" ]; then PROFILE=release; fi

# cargo-deb 3.8 accepts --profile dev (with a warning that a later version will refuse it), so
# the version is pinned.
CARGO_DEB_VERSION=3.8.0
if ! cargo deb --version >/dev/null 2>&1; then
  echo "==> installing cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked \
    || cargo install cargo-deb --version "$CARGO_DEB_VERSION"
fi

if [ ! -e target/web/index.html ]; then
  echo "==> the browser kiosk bundle (the portal package ships it)"
  scripts/build-web.sh
fi

# shellcheck source=scripts/shipped-features.sh
. scripts/shipped-features.sh
echo "==> cargo build --profile $PROFILE ${SHIPPED_FEATURES[*]} (kiosk and portal)"
cargo build --profile "$PROFILE" -p quickcard-kiosk -p quickcard-portal --bins "${SHIPPED_FEATURES[@]}"

OUT=target/debian
mkdir -p "$OUT"
status=0

# portal_crates BINARY: the axum and sqlx crates whose code is in BINARY, one per line (their
# source paths, `…/axum-0.8.9/src/…`, which panic locations carry even in a stripped binary).
portal_crates() {
  strings -a "$1" | grep -oE '(^|/)(axum|sqlx)(-[a-z]+)*-[0-9]+[.][0-9]+[.][0-9]+[^/]*/' \
    | sed 's#^/##; s#/$##' | sort -u || true
}

# check_kiosk_binary BINARY: the packaged kiosk holds no part of the portal and no path of this
# source tree (`env!("CARGO_MANIFEST_DIR")` is the demo's only).
check_kiosk_binary() {
  local bin="$1" bad=0 tree found
  tree="$(cargo tree -q -p quickcard-kiosk --no-default-features --features "$KIOSK_FEATURES" \
    -e normal --prefix none)"
  found="$(echo "$tree" | grep -E '^(axum|sqlx|quickcard-portal)[a-z-]* ' | sort -u || true)"
  if [ -n "$found" ]; then
    echo "KIOSK DEPENDS ON THE PORTAL (cargo tree, features $KIOSK_FEATURES):" >&2
    echo "$found" | sed 's/^/    /' >&2; bad=1
  fi
  found="$(portal_crates "$bin")"
  if [ -n "$found" ]; then
    echo "KIOSK BINARY CONTAINS THE PORTAL'S CRATES: $(echo "$found" | tr '\n' ' ')" >&2; bad=1
  fi
  # Paths into target/*/build/ are dependencies' build-script output (glutin's generated GL
  # bindings name their file); only a build with remapped paths could drop those.
  local root_re
  root_re="$(printf '%s' "$PWD" | sed 's/[][\.*^$+?(){}|/]/\\&/g')"
  found="$(grep -aoE "${root_re}[[:print:]]{0,60}" "$bin" | grep -vE "^${root_re}/target/[^/]+/build/" \
    | sort -u || true)"
  if [ -n "$found" ]; then
    echo "KIOSK BINARY NAMES THE BUILD MACHINE'S SOURCE TREE ($PWD):" >&2
    echo "$found" | head -5 | sed 's/^/    /' >&2; bad=1
  fi
  [ "$bad" -eq 0 ] && echo "    ok: no axum, no sqlx, no path into $PWD in the kiosk"
  return "$bad"
}

# check_deb PACKAGE PATH...: every PATH (as dpkg-deb -c prints it, "./usr/bin/x") must be in it.
check_deb() {
  local pkg="$1"; shift
  local deb
  deb="$(ls -t "$OUT/${pkg}"_*.deb | head -1)"
  echo "==> $deb"
  local list
  list="$(dpkg-deb -c "$deb")"
  echo "$list" | awk '{print "    " $1, $2, $6}'
  local missing=0
  for want in "$@"; do
    if ! echo "$list" | awk '{print $6}' | grep -qxF "$want"; then
      echo "MISSING in $pkg: $want" >&2
      missing=1
    fi
  done
  # A binary that is not executable is as bad as a missing one.
  if ! echo "$list" | grep -E " \./usr/bin/$pkg\$" | grep -q '^-rwxr-xr-x'; then
    echo "NOT EXECUTABLE in $pkg: ./usr/bin/$pkg" >&2
    missing=1
  fi
  local control
  control="$(mktemp -d)"
  dpkg-deb -e "$deb" "$control"
  for script in postinst prerm postrm; do
    if [ ! -x "$control/$script" ]; then
      echo "MISSING maintainer script in $pkg: $script" >&2
      missing=1
    fi
  done
  echo "    control: $(cd "$control" && ls | tr '\n' ' ')"
  for script in postinst prerm postrm; do
    sh -n "$control/$script" || { echo "SYNTAX ERROR in $pkg $script" >&2; missing=1; }
  done
  rm -rf "$control"
  # The packaged binary runs, and the packaged config is accepted by it.
  local root
  root="$(mktemp -d)"
  dpkg-deb -x "$deb" "$root"
  if ! "$root/usr/bin/$pkg" --version >/dev/null; then
    echo "PACKAGED BINARY DOES NOT RUN: $pkg" >&2; missing=1
  fi
  case "$pkg" in
    quickcard-portal)
      # The packaged config with the packaged browser kiosk (web_dir moved into this root).
      for f in "$root"/usr/share/quickcard-portal/portal.toml "$root"/usr/share/doc/quickcard-portal/examples/*.toml; do
        env -u QUICKCARD_PORTAL_CONFIG QUICKCARD_PORTAL_WEB_DIR="$root/usr/share/quickcard-portal/web" \
          "$root/usr/bin/$pkg" --config "$f" --check-config >/dev/null \
          || { echo "PACKAGED CONFIG REFUSED: $f" >&2; missing=1; }
      done
      ls "$root"/usr/share/quickcard-portal/web/quickcard_kiosk_bg-*.wasm.gz >/dev/null 2>&1 \
        || { echo "MISSING in $pkg: the browser kiosk's wasm (usr/share/quickcard-portal/web)" >&2; missing=1; }
      # The kiosk's look for the portal's crates must find them here, or it proves nothing.
      local crates
      crates="$(portal_crates "$root/usr/bin/$pkg")"
      grep -q '^axum' <<<"$crates" && grep -q '^sqlx' <<<"$crates" \
        || { echo "CHECK BROKEN: portal_crates finds no axum or sqlx in the portal itself" >&2; missing=1; } ;;
    quickcard-kiosk)
      "$root/usr/bin/$pkg" check-config --config "$root/usr/share/quickcard-kiosk/kiosk.toml" >/dev/null \
        || { echo "PACKAGED CONFIG REFUSED: kiosk.toml" >&2; missing=1; }
      check_kiosk_binary "$root/usr/bin/$pkg" || missing=1
      # Without the demo, no config means no kiosk: it says why instead of starting one.
      local out
      # (No display, and a time limit: a kiosk that did start a demo must not hang the check.)
      if out="$(env -u QUICKCARD_KIOSK_CONFIG -u DISPLAY -u WAYLAND_DISPLAY HOME="$root" \
          XDG_CONFIG_HOME="$root" timeout 60 "$root/usr/bin/$pkg" 2>&1)" \
          || ! grep -q "built without the demo" <<<"$out"; then
        echo "PACKAGED KIOSK WITHOUT A CONFIG DID NOT REFUSE THE DEMO: $out" >&2; missing=1
      fi ;;
  esac
  rm -rf "$root"
  if [ "$missing" -ne 0 ]; then status=1; else echo "    ok: binary, units, configs, maintainer scripts"; fi
}

for pkg in quickcard-kiosk quickcard-portal; do
  echo "==> cargo deb -p $pkg --profile $PROFILE --no-build"
  cargo deb -p "$pkg" --profile "$PROFILE" --no-build --output "$OUT"
done

check_deb quickcard-kiosk \
  ./usr/bin/quickcard-kiosk \
  ./usr/lib/systemd/system/quickcard-kiosk.service \
  ./usr/lib/systemd/system/quickcard-apps.socket \
  ./usr/lib/systemd/system/quickcard-apps@.service \
  ./usr/lib/udev/rules.d/70-quickcard-camera.rules \
  ./etc/pam.d/quickcard-kiosk \
  ./usr/share/quickcard-kiosk/kiosk.toml \
  ./usr/share/doc/quickcard-kiosk/lab-technicians.md

check_deb quickcard-portal \
  ./usr/bin/quickcard-portal \
  ./usr/lib/systemd/system/quickcard-portal.service \
  ./usr/lib/systemd/system/quickcard-portal-import.service \
  ./usr/lib/systemd/system/quickcard-portal-import.timer \
  ./usr/share/quickcard-portal/portal.toml \
  ./usr/share/doc/quickcard-portal/examples/portal-sqlite.toml \
  ./usr/share/doc/quickcard-portal/examples/portal-postgres.toml \
  ./usr/share/doc/quickcard-portal/examples/nginx-quickcard-portal.conf \
  ./usr/share/doc/quickcard-portal/district-admins.md \
  ./usr/share/doc/quickcard-portal/chromebook-admin.md \
  ./usr/share/quickcard-portal/web/index.html \
  ./usr/share/quickcard-portal/web/manifest.webmanifest

if [ "$status" -ne 0 ]; then
  echo "build-debs: a package is incomplete" >&2
  exit 1
fi
echo "build-debs: both packages complete"
