#!/usr/bin/python3
"""Writes nms_fixtures.bin: random box sets with the keep indices of torchvision's NMS.

Run from the repository root with the system Python (torch 1.13, torchvision 0.14):

    /usr/bin/python3 tests/pipeline/make_nms_fixtures.py

The C++ test (nms_fixture_test.cc) reads the file and requires identical keep lists, so the
test itself never needs Python. The generator is seeded: rerunning it rewrites the same file.

Cases mix clustered boxes (so suppression happens), exact duplicates, zero-width, zero-height
and inverted boxes, and scores quantized to a few levels (so ties are common), over several IoU
thresholds. Keep lists are written in the order torchvision.ops.nms returns (score
descending, equal scores by index); see check_order for batched_nms. Class-wise cases go through torchvision.ops.batched_nms on both of its code paths:
below 1000 boxes it offsets every class by (max coordinate + 1) and runs one nms; above, it
runs nms per class. The offset is exact only when the coordinates are, so class-wise cases use
coordinates on a 1/4-pixel grid, all >= 0 (the offset trick assumes that too).

Layout (little-endian):
  8 bytes magic "OPNMS1\\0\\0", u32 case count, then per case:
  u32 n, u32 classes (0: class-agnostic torchvision.ops.nms), f64 iou_threshold,
  f32 boxes[n][4] (x1, y1, x2, y2), f32 scores[n], i32 class_ids[n] (only when classes > 0),
  u32 kept, i32 keep[kept].
"""
import os
import struct

import numpy as np
import torch
import torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nms_fixtures.bin")


def make_boxes(rng, n, grid, allow_negative):
    """n boxes: clusters around a few centres, plus duplicates and degenerate boxes."""
    centres = rng.uniform(0, 100, size=(max(1, n // 12), 2))
    sizes = rng.uniform(4, 30, size=(len(centres), 2))
    pick = rng.integers(0, len(centres), size=n)
    w = sizes[pick, 0] * rng.uniform(0.7, 1.3, n)
    h = sizes[pick, 1] * rng.uniform(0.7, 1.3, n)
    cx = centres[pick, 0] + rng.normal(0, 1, n) * 0.15 * w
    cy = centres[pick, 1] + rng.normal(0, 1, n) * 0.15 * h
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    k = n // 20
    if k == 0:
        return boxes.astype(np.float32)
    # Degenerate boxes: zero width, zero height, a point, inverted (x2 < x1, y2 < y1).
    idx = rng.choice(n, size=4 * k, replace=False)
    boxes[idx[:k], 2] = boxes[idx[:k], 0]
    boxes[idx[k:2 * k], 3] = boxes[idx[k:2 * k], 1]
    boxes[idx[2 * k:3 * k], 2:] = boxes[idx[2 * k:3 * k], :2]
    boxes[idx[3 * k:], 0], boxes[idx[3 * k:], 2] = boxes[idx[3 * k:], 2].copy(), boxes[idx[3 * k:], 0].copy()
    # Exact duplicates of other boxes.
    src = rng.choice(n, size=k, replace=False)
    dst = rng.choice(n, size=k, replace=False)
    boxes[dst] = boxes[src]
    if grid:
        boxes = np.round(boxes * 4) / 4
    if not allow_negative:
        boxes = np.clip(boxes, 0, None)
    return boxes.astype(np.float32)


def make_scores(rng, n, levels):
    if levels:
        s = rng.integers(1, levels + 1, size=n) / levels  # many exact ties
    else:
        s = rng.uniform(0, 1, n)
    return s.astype(np.float32)


def check_order(keep, scores, exact):
    """Returns keep in the documented order: score descending, then index ascending.

    torchvision.ops.nms and batched_nms's offset path return exactly that order (`exact`).
    batched_nms's per-class path sorts the merged list with an unstable sort, so among equal
    scores its order is unspecified: there only the set and the score sequence must match.
    """
    expect = sorted(keep, key=lambda i: (-float(scores[i]), i))
    if exact and list(keep) != expect:
        bad = [(int(a), int(b), float(scores[a])) for a, b in zip(keep, expect) if a != b][:5]
        raise AssertionError(f"torchvision order differs from (score desc, index asc): {bad}")
    assert [scores[i] for i in keep] == [scores[i] for i in expect]
    return np.array(expect, dtype=np.int64)


def main():
    rng = np.random.default_rng(20261126)
    cases = []
    # Class-agnostic: torchvision.ops.nms.
    for n, iou, grid, levels in [(60, 0.5, False, 0), (200, 0.3, False, 8), (300, 0.5, True, 4),
                                 (400, 0.7, False, 0), (250, 0.0, True, 16), (150, 1.0, True, 4),
                                 (1, 0.5, False, 0), (0, 0.5, False, 0)]:
        boxes = make_boxes(rng, n, grid, allow_negative=True) if n else np.zeros((0, 4), np.float32)
        scores = make_scores(rng, n, levels)
        keep = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou).numpy()
        keep = check_order(keep, scores, exact=True)
        cases.append((boxes, scores, None, 0, iou, keep))
    # Class-wise: torchvision.ops.batched_nms (offset path below 1000 boxes, per-class above).
    for n, classes, iou, levels in [(300, 4, 0.5, 8), (500, 7, 0.45, 0), (1200, 5, 0.5, 16),
                                    (1100, 3, 0.6, 0)]:
        boxes = make_boxes(rng, n, grid=True, allow_negative=False)
        scores = make_scores(rng, n, levels)
        ids = rng.integers(0, classes, size=n).astype(np.int32)
        keep = torchvision.ops.batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores),
                                           torch.from_numpy(ids).long(), iou).numpy()
        keep = check_order(keep, scores, exact=n * 4 <= 4000)
        cases.append((boxes, scores, ids, classes, iou, keep))

    with open(OUT, "wb") as f:
        f.write(b"OPNMS1\0\0" + struct.pack("<I", len(cases)))
        for boxes, scores, ids, classes, iou, keep in cases:
            f.write(struct.pack("<IId", len(scores), classes, iou))
            f.write(boxes.astype("<f4").tobytes() + scores.astype("<f4").tobytes())
            if classes:
                f.write(ids.astype("<i4").tobytes())
            f.write(struct.pack("<I", len(keep)) + keep.astype("<i4").tobytes())
    total = sum(len(c[1]) for c in cases)
    kept = sum(len(c[5]) for c in cases)
    print(f"wrote {OUT}: {len(cases)} cases, {total} boxes, {kept} kept, "
          f"{os.path.getsize(OUT)} bytes (torch {torch.__version__}, "
          f"torchvision {torchvision.__version__})")


if __name__ == "__main__":
    main()
