"""Trains the shapes detector on synthetic camera frames and writes models/zoo/shapes_detector/.

    /usr/bin/python3 models/shapes_detector.py [--tool build/release/tools/synthetic_frames/synthetic_frames]
                                               [--epochs 14] [--out models/zoo/shapes_detector]

The frames come from the C++ synthetic camera itself (tools/synthetic_frames), rendered at the
model's input size, 160x120, so the training pixels are exactly what the camera produces and no
resize sits between camera and model. Training scenes use seeds 1000 and up; evaluation
(`outpost eval --synthetic`, tests/zoo/shapes_detector_test.cc) uses other seeds.

Model: five 3x3 convolutions (BatchNorm + ReLU each, the first three of stride 2), then a 1x1
head on the stride-8 grid (20x15 cells), anchor-free: the cell holding an object's centre and
those of its 8 neighbours whose centres lie inside the object's box predict its class and its
box (centre sampling, as FCOS); NMS keeps the best of them. Class scores are trained with a
sigmoid focal loss, boxes with GIoU. The exported graph decodes the head itself, so its output
is what the "yolo" "flat" post-processing reads with objectness false and transposed true:
[1, 7, 300], rows cx, cy, w, h (input pixels) then the three class probabilities, for cells in
row-major order. Decoding, per cell (x, y) with s = sigmoid of the head:
    cx = (x + 4 s0 - 1.5) * 8    cy = (y + 4 s1 - 1.5) * 8     (-1.5 to 2.5 cells)
    w  = 64 s2^2                 h  = 64 s3^2            (0 to 64 pixels)
    class k probability = s(4 + k)
using only Sigmoid, Mul, Add, Slice, Concat and Reshape, which `outpost compile` supports.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402

WIDTH, HEIGHT, STRIDE = 160, 120, 8
GRID_W, GRID_H = WIDTH // STRIDE, HEIGHT // STRIDE
LABELS = ["circle", "square", "triangle"]
NUM_CLASSES = len(LABELS)
SIZE_SCALE = 64.0  # w = SIZE_SCALE * s^2

# (frames, camera options): the clean scenes and every robustness effect the camera has, so
# the detector survives them. Each block gets its own seed.
DATA = [
    (1200, {}),
    (300, {"lighting": 0.5}),
    (300, {"noise": 12}),
    (300, {"blur": 2}),
    (300, {"occlusion": 0.2}),
    (400, {"lighting": 0.3, "noise": 8, "blur": 1}),
    (200, {"glitch": 0.5}),
]
TRAIN_SEED = 1000


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def render(tool, frames, options, seed):
    """Frames [N, H, W, 3] uint8 and truth [M, 6] (frame, class, x1, y1, x2, y2)."""
    cam = {"width": WIDTH, "height": HEIGHT, "seed": seed, "scene_frames": 6,
           "objects": [0, 6], **options}
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "d")
        subprocess.run([tool, prefix, str(frames), json.dumps(cam)], check=True)
        return np.load(prefix + ".frames.npy"), np.load(prefix + ".truth.npy")


def load_data(tool):
    images, boxes = [], []
    base = 0
    for i, (n, options) in enumerate(DATA):
        x, t = render(tool, n, options, TRAIN_SEED + i)
        images.append(x)
        t = t.copy()
        t[:, 0] += base
        boxes.append(t)
        base += n
    return np.concatenate(images), np.concatenate(boxes)


def conv(cin, cout, kernel, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, 1 if kernel == 3 else 0, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ShapesDetector(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(conv(3, 16, 3, 2), conv(16, 32, 3, 2), conv(32, 48, 3, 2),
                                  conv(48, 48, 3, 1), conv(48, 48, 3, 1))
        self.head = nn.Conv2d(48, 4 + NUM_CLASSES, 1)
        ys, xs = torch.meshgrid(torch.arange(GRID_H), torch.arange(GRID_W), indexing="ij")
        # Per-cell offset of the decoded centre: (x - 1.5) * stride, as a [1, 2, H, W] constant.
        self.register_buffer("grid", (torch.stack([xs, ys]).float()[None] - 1.5) * STRIDE)

    def raw(self, x):
        return self.head(self.body(x))

    def decode(self, raw):
        """[N, 7, H, W] logits -> [N, 7, H, W] boxes (cx, cy, w, h) and class probabilities."""
        s = torch.sigmoid(raw)
        xy = s[:, 0:2] * (4 * STRIDE) + self.grid
        wh = s[:, 2:4] * s[:, 2:4] * SIZE_SCALE
        return torch.cat([xy, wh, s[:, 4:]], 1)

    def forward(self, x):
        return self.decode(self.raw(x)).reshape(1, 4 + NUM_CLASSES, GRID_H * GRID_W)


def targets(truth, count):
    """Per frame and cell: class (-1 background) and the box (x1, y1, x2, y2) it must predict.

    The cell holding a box centre and each neighbour whose centre is inside the box own it;
    a cell claimed by two boxes takes the smaller."""
    cls = np.full((count, GRID_H, GRID_W), -1, np.int64)
    box = np.zeros((count, GRID_H, GRID_W, 4), np.float32)
    area = np.full((count, GRID_H, GRID_W), np.inf, np.float32)
    for f, c, x1, y1, x2, y2 in truth:
        f = int(f)
        gx = min(int((x1 + x2) / 2 / STRIDE), GRID_W - 1)
        gy = min(int((y1 + y2) / 2 / STRIDE), GRID_H - 1)
        a = (x2 - x1) * (y2 - y1)
        for y in range(max(gy - 1, 0), min(gy + 2, GRID_H)):
            for x in range(max(gx - 1, 0), min(gx + 2, GRID_W)):
                centre_x, centre_y = (x + 0.5) * STRIDE, (y + 0.5) * STRIDE
                own = (x, y) == (gx, gy) or (x1 < centre_x < x2 and y1 < centre_y < y2)
                if own and a < area[f, y, x]:
                    area[f, y, x] = a
                    cls[f, y, x] = int(c)
                    box[f, y, x] = (x1, y1, x2, y2)
    return torch.from_numpy(cls), torch.from_numpy(box)


def giou_loss(pred, want):
    """1 - GIoU of (x1, y1, x2, y2) boxes."""
    area_p = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area_w = (want[:, 2] - want[:, 0]) * (want[:, 3] - want[:, 1])
    iw = (torch.min(pred[:, 2], want[:, 2]) - torch.max(pred[:, 0], want[:, 0])).clamp(min=0)
    ih = (torch.min(pred[:, 3], want[:, 3]) - torch.max(pred[:, 1], want[:, 1])).clamp(min=0)
    inter = iw * ih
    union = area_p + area_w - inter + 1e-6
    cw = torch.max(pred[:, 2], want[:, 2]) - torch.min(pred[:, 0], want[:, 0])
    ch = torch.max(pred[:, 3], want[:, 3]) - torch.min(pred[:, 1], want[:, 1])
    hull = cw * ch + 1e-6
    return 1 - inter / union + (hull - union) / hull


def loss_fn(model, x, cls, box):
    raw = model.raw(x)
    out = model.decode(raw)
    # Class scores: sigmoid focal loss over every cell, normalized by the positives.
    logits = raw[:, 4:]
    onehot = torch.zeros_like(logits)
    pos = cls >= 0
    onehot.permute(0, 2, 3, 1)[pos] = F.one_hot(cls[pos], NUM_CLASSES).float()
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, onehot, reduction="none")
    pt = p * onehot + (1 - p) * (1 - onehot)
    alpha = 0.25 * onehot + 0.75 * (1 - onehot)
    npos = max(int(pos.sum()), 1)
    cls_loss = (alpha * (1 - pt) ** 2 * ce).sum() / npos
    if not pos.any():
        return cls_loss
    b = out.permute(0, 2, 3, 1)[pos][:, :4]
    pred = torch.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2,
                        b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)
    return cls_loss + 2.0 * giou_loss(pred, box[pos]).mean()


def to_input(u8):
    """uint8 [N, H, W, 3] -> float [N, 3, H, W] in [0, 1]: Outpost's value_scale 1/255."""
    return torch.from_numpy(u8).permute(0, 3, 1, 2).float() / 255.0


def train(images, truth, epochs, seed):
    torch.manual_seed(seed)
    model = ShapesDetector()
    cls, box = targets(truth, len(images))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    batch = 64
    steps = epochs * ((len(images) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps,
                                                pct_start=0.15)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(images), generator=gen)
        total, t0 = 0.0, time.time()
        for i in range(0, len(images), batch):
            idx = order[i:i + batch]
            x = to_input(images[idx.numpy()])
            # Horizontal flips: every shape is mirror-symmetric.
            if torch.rand(1, generator=gen).item() < 0.5:
                x = x.flip(3)
                b = box[idx].clone()
                b[..., 0], b[..., 2] = WIDTH - box[idx][..., 2], WIDTH - box[idx][..., 0]
                loss = loss_fn(model, x, cls[idx].flip(2), b.flip(2))
            else:
                loss = loss_fn(model, x, cls[idx], box[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}/{epochs}: loss {total / len(images):.4f} ({time.time() - t0:.0f} s)")
    return model.eval()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", default=os.path.join(root, "build/release/tools/synthetic_frames/synthetic_frames"))
    ap.add_argument("--epochs", type=int, default=14)
    ap.add_argument("--out", default=os.path.join(here, "zoo/shapes_detector"))
    args = ap.parse_args()
    # One thread: on the shared 2-core build machine two threads were slower per batch.
    torch.set_num_threads(1)

    t0 = time.time()
    images, truth = load_data(args.tool)
    log(f"{len(images)} frames, {len(truth)} boxes rendered in {time.time() - t0:.1f} s")
    model = train(images, truth, args.epochs, seed=7)
    log(f"trained in {time.time() - t0:.0f} s")

    # The reference input: a clean evaluation frame (seed 7, never seen in training).
    x_u8, _ = render(args.tool, 1, {"objects": 4}, 7)
    example = to_input(x_u8)
    metadata = {
        "outpost.task": "detection",
        "outpost.labels": ",".join(LABELS),
        "outpost.layout": "NCHW",
        "outpost.color": "rgb",
        "outpost.value_scale": repr(1 / 255),
        "outpost.mean": "0",
        "outpost.std": "1",
    }
    proto = export.export_onnx(model, example, metadata)
    meta = export.write_bundle(args.out, proto, model, example, {
        "name": "shapes_detector",
        "task": "detection",
        "training": {"frames": len(images), "boxes": int(len(truth)), "epochs": args.epochs,
                     "data": [{"frames": n, "camera": o} for n, o in DATA],
                     "camera_seed": TRAIN_SEED, "torch_seed": 7},
        "input_source": "synthetic camera frame, seed 7, 4 objects, 160x120, pixels / 255",
        "postprocess": {"type": "detection", "format": "yolo", "head": "flat",
                        "num_classes": NUM_CLASSES, "num_boxes": GRID_W * GRID_H,
                        "objectness": False, "transposed": True, "score_threshold": 0.25,
                        "iou": 0.45, "max_detections": 100},
    })
    log(f"wrote {args.out}: {meta['onnx_bytes']} bytes, {meta['macs']} MACs, {meta['params']} params")


if __name__ == "__main__":
    main()
