#!/usr/bin/env bash
# Regenerates the web kiosk's icons (ImageMagick): a blue tile with a white card carrying a
# QR-like finder pattern. The PNGs are committed; run this only to change them.
set -euo pipefail
cd "$(dirname "$0")"
draw() { # size, margin (maskable icons keep their picture inside the safe zone)
  local s=$1 m=$2 r
  r=$(( s / 8 ))
  local cx0=$(( m + s / 8 )) cy0=$(( m + s / 6 )) cx1=$(( s - m - s / 8 )) cy1=$(( s - m - s / 6 ))
  local f=$(( (cy1 - cy0) / 2 ))          # finder size
  local fx=$(( cx0 + (cy1 - cy0) / 6 )) fy=$(( cy0 + (cy1 - cy0) / 4 ))
  convert -size "${s}x${s}" xc:none \
    -fill '#1d4ed8' -draw "roundrectangle 0,0 $((s-1)),$((s-1)) $r,$r" \
    -fill '#fff8ec' -draw "roundrectangle $cx0,$cy0 $cx1,$cy1 $((r/2)),$((r/2))" \
    -fill '#1b1b2f' -draw "rectangle $fx,$fy $((fx+f)),$((fy+f))" \
    -fill '#fff8ec' -draw "rectangle $((fx+f/7)),$((fy+f/7)) $((fx+f-f/7)),$((fy+f-f/7))" \
    -fill '#1b1b2f' -draw "rectangle $((fx+2*f/7)),$((fy+2*f/7)) $((fx+f-2*f/7)),$((fy+f-2*f/7))" \
    -fill '#1b1b2f' -draw "rectangle $((fx+f+f/3)),$((fy+f/7)) $((cx1-f/3)),$((fy+2*f/7))" \
    -fill '#1b1b2f' -draw "rectangle $((fx+f+f/3)),$((fy+3*f/7)) $((cx1-f/2)),$((fy+4*f/7))" \
    -fill '#1b1b2f' -draw "rectangle $((fx+f+f/3)),$((fy+5*f/7)) $((cx1-f/3)),$((fy+6*f/7))" \
    -strip "PNG32:$3"
}
draw 192 0 icon-192.png
draw 512 0 icon-512.png
convert -size 512x512 xc:'#1d4ed8' \( "icon-512.png" -resize 80% \) -gravity center -composite \
  -strip PNG32:icon-maskable-512.png
