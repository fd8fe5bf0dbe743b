#!/usr/bin/python3
"""Writes area_resize_fixtures.bin: a small RGB image and OpenCV's INTER_AREA downscales of it,
the reference for io::Preprocess with ResizeMethod::kArea. The image is resized as float32 so
the reference keeps OpenCV's unrounded averages.

Layout (little endian): int32 height, width; uint8 pixels[height][width][3]; int32 cases;
per case: int32 out_height, out_width; float32 values[out_height][out_width][3].

Run: /usr/bin/python3 tests/io/make_area_fixtures.py
"""
import os
import struct

import cv2
import numpy as np

SIZES = [(15, 20), (11, 13), (5, 7), (30, 9), (8, 40)]  # (height, width): integer, fractional, mixed


def main():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'area_resize_fixtures.bin')
    with open(out, 'wb') as f:
        f.write(struct.pack('<ii', *img.shape[:2]))
        f.write(img.tobytes())
        f.write(struct.pack('<i', len(SIZES)))
        for h, w in SIZES:
            r = cv2.resize(img.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
            f.write(struct.pack('<ii', h, w))
            f.write(r.astype('<f4').tobytes())
    print(out, os.path.getsize(out), 'bytes, OpenCV', cv2.__version__)


if __name__ == '__main__':
    main()
