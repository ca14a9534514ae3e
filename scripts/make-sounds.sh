#!/usr/bin/env bash
# Regenerates assets/sounds/: the kiosk's spoken prompts (English and Spanish) and its four
# short cues. The files are committed, so neither the build nor CI needs a speech engine; run
# this again only when a prompt's words change, then listen to the result (a program can only
# check that the files exist, decode, are short and are neither silent nor clipped:
# tests/sounds.rs).
#
# Needs espeak-ng and sox. On Debian or Ubuntu: sudo apt-get install -y espeak-ng sox
#
# The prompt ids below are the file names the kiosk plays (`PromptId::file_stem` in
# src/app/ports.rs); tests/sounds.rs fails when one is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in espeak-ng sox soxi; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "make-sounds: $tool is missing. Install it with: sudo apt-get install -y espeak-ng sox" >&2
        exit 1
    fi
done

OUT=assets/sounds
# A child of five follows speech slower than espeak-ng's default 175 words a minute.
RATE=135
# Every file must last at most this long (seconds); a prompt that is longer at RATE is sped up
# just enough to fit (sox `tempo` keeps the pitch).
MAX_SECS=1.9
# One format for every file: small, and what every sound device plays without resampling.
FORMAT=(-r 22050 -c 1 -b 16 -e signed-integer)

# Peak-normalised to -3 dBFS: all files equally loud, with headroom so nothing clips.
finish() { # in.wav out.wav
    local in=$1 out=$2 tmp
    tmp=$(mktemp --suffix=.wav)
    # Trim silence at both ends (reverse, trim, reverse), then normalise.
    sox "$in" "${FORMAT[@]}" "$tmp" \
        silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3
    local dur
    dur=$(soxi -D "$tmp")
    if awk -v d="$dur" -v m="$MAX_SECS" 'BEGIN { exit !(d > m) }'; then
        local factor
        factor=$(awk -v d="$dur" -v m="$MAX_SECS" 'BEGIN { printf "%.3f", d / m }')
        sox "$tmp" "${FORMAT[@]}" "$out" tempo -s "$factor" norm -3
    else
        mv "$tmp" "$out"
    fi
    rm -f "$tmp"
}

speak() { # voice id text
    local voice=$1 id=$2 text=$3 dir raw
    dir=$OUT/${voice%%-*}
    mkdir -p "$dir"
    raw=$(mktemp --suffix=.wav)
    espeak-ng -v "$voice" -s "$RATE" -w "$raw" "$text"
    finish "$raw" "$dir/$id.wav"
    rm -f "$raw"
    printf '%-6s %-16s %5.2fs  %s\n' "$voice" "$id" "$(soxi -D "$dir/$id.wav")" "$text"
}

# id | English | Spanish. Shorter than the sentences on screen (src/app/i18n.rs) so that each
# fits in two seconds at a child's pace; the meaning is the same. No prompt for "no code in
# view": the kiosk would talk to an empty room. The Spanish is Latin American
# (the kiosk's Spanish says "computadora", "maestra"), hence the es-419 voice.
PROMPTS=(
    "come_closer|Come closer.|Acércate más."
    "too_dark|Too dark. Turn on a light.|Muy oscuro. Prende la luz."
    "too_bright|Too shiny. Tilt your card.|Brilla mucho. Inclínala."
    "hold_still|Hold still.|No te muevas."
    "show_all|Show all of your card.|Enseña toda tu tarjeta."
    "not_your_card|That is not your card.|Esa no es tu tarjeta."
    "wrong_pin|Wrong PIN. Try again.|PIN incorrecto. Otra vez."
    "too_old|This card is too old.|Esta tarjeta ya no sirve."
    "swapped|This card was swapped.|Esta tarjeta se cambió."
    "other_school|Another school. Show your teacher.|Otra escuela. Avísale a tu maestra."
    "not_school_card|Not a school card.|No es de la escuela."
    "card_broken|It does not work. Ask your teacher.|No funciona. Pregúntale a tu maestra."
    "erased|Show this card to your teacher.|Enséñasela a tu maestra."
    "ask_adult|Ask a grown-up for help.|Pide ayuda a un adulto."
    "not_allowed|Not on this computer.|Aquí no se puede usar."
    "locked|Too many tries. Wait a little.|Muchos intentos. Espera."
    "unreachable|No connection. Wait a little.|Sin conexión. Espera un poco."
)

rm -f "$OUT"/en/*.wav "$OUT"/es/*.wav "$OUT"/cues/*.wav
for line in "${PROMPTS[@]}"; do
    IFS='|' read -r id en es <<<"$line"
    speak en-us "$id" "$en"
    speak es-419 "$id" "$es"
done

# The cues: soft sine tones with short fades, so none of them startles.
mkdir -p "$OUT/cues"
cue() { # id sox-synth-args...
    local id=$1 raw
    shift
    raw=$(mktemp --suffix=.wav)
    sox -n "${FORMAT[@]}" "$raw" "$@"
    finish "$raw" "$OUT/cues/$id.wav"
    rm -f "$raw"
    printf '%-6s %-16s %5.2fs\n' cue "$id" "$(soxi -D "$OUT/cues/$id.wav")"
}
# Start: two rising notes (C6, G6).
cue chime synth 0.18 sine 1047 fade q 0.01 0.18 0.08 : synth 0.30 sine 1568 fade q 0.01 0.30 0.2
# Card read: a quick rising third (E5, G#5, B5).
cue got_it synth 0.09 sine 659 fade q 0.005 0.09 0.03 : synth 0.09 sine 831 fade q 0.005 0.09 0.03 : synth 0.2 sine 988 fade q 0.005 0.2 0.12
# Refused: two gentle falling notes, low, never a buzzer.
cue try_again synth 0.2 sine 523 fade q 0.01 0.2 0.08 : synth 0.3 sine 392 fade q 0.01 0.3 0.2
# Idle countdown: one short, soft tick.
cue tick synth 0.05 sine 1200 fade q 0.003 0.05 0.04

du -ch "$OUT"/{en,es,cues}/*.wav | tail -n 1
