#!/usr/bin/env python3
"""Reads every frame of a photo set with zxing-cpp (PyPI `zxing-cpp`, `pillow`) and prints one
JSON object per frame: file, found, text, ms. The scanner benchmark compares itself with this.

Usage: scripts/zxing_photos.py FOLDER [REPEATS]
FOLDER has a manifest.json (a list of {"file": ...}) or, without one, every image below it (PNG,
JPEG, WebP, GIF, BMP) is read (file names relative to FOLDER).
Timing covers zxing-cpp's `read_barcodes` on an 8-bit grayscale frame already in memory (the
same work our benchmark times: decoding, not JPEG loading), best configured for QR codes only,
single-threaded as the benchmark is.
"""
import json
import os
import statistics
import sys
import time

import zxingcpp
from PIL import Image


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "sample-cards/photos"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if os.path.exists(os.path.join(folder, "manifest.json")):
        manifest = json.load(open(os.path.join(folder, "manifest.json")))
    else:
        manifest = [
            {"file": os.path.relpath(os.path.join(root, name), folder)}
            for root, _, names in sorted(os.walk(folder))
            for name in sorted(names)
            if name.lower().endswith((".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"))
        ]
    for entry in manifest:
        img = Image.open(os.path.join(folder, entry["file"])).convert("L")
        times = []
        results = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            results = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
            times.append((time.perf_counter() - t0) * 1000.0)
        text = None
        for r in results:
            if r.valid:
                text = r.text
                break
        print(json.dumps({
            "file": entry["file"],
            "found": text is not None,
            "text": text,
            "ms": round(statistics.median(times), 3),
        }))


if __name__ == "__main__":
    main()
