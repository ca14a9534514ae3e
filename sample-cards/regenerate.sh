#!/usr/bin/env bash
# Regenerates the sample sheets (PDF) and single cards (PNG) from the demo roster, signed with
# the published DEMO key. Run from anywhere: sample-cards/regenerate.sh
#
# The cards are issued "at" SOURCE_DATE_EPOCH (default 2026-08-12T00:00:00Z) and expire at the
# end of 2027-06-30, so re-running produces identical files. Demo kiosks and portals must be
# started in demo mode to accept them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1786492800}"
export RUST_LOG="${RUST_LOG:-error}"   # hush the "demo key" warning
cargo build --quiet -p card-printer
cp="$root/target/debug/card-printer"
key="$here/keys/demo-issuer.secret"
expires=2027-06-30

mkdir -p "$here/sheets" "$here/png"
rm -f "$here"/sheets/*.pdf "$here"/png/*.png

# Every card of Lincoln Elementary, one PDF per layout (simple CSV roster).
for layout in letter-8 a4-8 avery-5371 avery-8371; do
  "$cp" print --key "$key" --roster "$here/roster.csv" --layout "$layout" \
    --expires "$expires" --out "$here/sheets/lincoln-$layout.pdf"
done

# One class from the OneRoster 1.1 export (same people), on Avery 8371.
"$cp" print --key "$key" --roster "$here/roster-oneroster" --class cls-k-rivera \
  --layout avery-8371 --expires "$expires" --out "$here/sheets/kindergarten-oneroster-avery-8371.pdf"

# Staff cards with a second factor (PIN) for the kiosk's PIN-pad demo: Hélène Lefèvre.
"$cp" print --key "$key" --roster "$here/roster.csv" --user tea-lefevre --second-factor \
  --layout letter-8 --expires "$expires" --out "$here/sheets/tea-lefevre-pin-letter-8.pdf"

# Single cards as PNG (300 dpi, 3.5 x 2 in): accents, apostrophes, Cyrillic, Greek, a teacher.
for user in stu-1001 stu-1005 stu-2002 3f2504e0-4f89-41d3-9a0c-0305e82c3301 stu-3007 \
            stu-3009 tea-okafor stf-nurse; do
  "$cp" png --key "$key" --roster "$here/roster.csv" --user "$user" \
    --expires "$expires" --out "$here/png/$user.png"
done
"$cp" png --key "$key" --roster "$here/roster.csv" --user tea-lefevre --second-factor \
  --expires "$expires" --out "$here/png/tea-lefevre-pin.png"

# Check: every PNG decodes and verifies against the demo public key.
for f in "$here"/png/*.png; do
  "$cp" inspect "$f" --trust "$here/keys/demo-issuer.pub" --demo > /dev/null \
    || { echo "inspect failed: $f" >&2; exit 1; }
done
du -ch "$here/sheets" "$here/png" | tail -1
