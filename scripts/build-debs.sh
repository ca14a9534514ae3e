#!/usr/bin/env bash
# Builds the Debian packages quickcard-kiosk and quickcard-portal with cargo-deb and checks
# that each holds its binary, systemd units, config files and maintainer scripts.
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

echo "==> cargo build --profile $PROFILE (kiosk and portal)"
cargo build --profile "$PROFILE" -p quickcard-kiosk -p quickcard-portal --bins

OUT=target/debian
mkdir -p "$OUT"
status=0

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
        || { echo "MISSING in $pkg: the browser kiosk's wasm (usr/share/quickcard-portal/web)" >&2; missing=1; } ;;
    quickcard-kiosk)
      "$root/usr/bin/$pkg" check-config --config "$root/usr/share/quickcard-kiosk/kiosk.toml" >/dev/null \
        || { echo "PACKAGED CONFIG REFUSED: kiosk.toml" >&2; missing=1; } ;;
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
