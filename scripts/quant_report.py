#!/usr/bin/python3
"""The int8 quantization report of docs/quantization.md, measured in one run.

    /usr/bin/python3 scripts/quant_report.py [--calib 1000] [--out build/quant_report.md]

For the Fashion-MNIST CNN and the Fashion-MNIST MobileNetV2-style model, side by side:
fp32 accuracy; Outpost int8 accuracy for every calibration method; PyTorch's eager PTQ
(onednn and qnnpack engines, models/pytorch_ptq.py); ONNX Runtime on the QDQ export of
Outpost's int8 model and Outpost itself on that same QDQ file; file sizes. Every accuracy is
on all 10,000 Fashion-MNIST test images; calibration uses the same N training images (evenly
spaced over the set) for every tool. Needs the release build (scripts/build.sh release) and ONNX Runtime
(scripts/setup.sh --peers).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPOST = os.path.join(ROOT, "build", "release", "tools", "outpost", "outpost")
DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
TRAIN_IMAGES = os.path.join(DATA, "train-images-idx3-ubyte.gz")
TEST_IMAGES = os.path.join(DATA, "t10k-images-idx3-ubyte.gz")
TEST_LABELS = os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")
ORT_EVAL = os.path.join(ROOT, "tools", "ort_eval", "ort_eval.js")
MODELS = ["fashion_cnn", "fashion_mobilenet"]
METHODS = ["minmax", "percentile", "entropy", "mse"]


def log(msg):
    print(f"[quant_report] {msg}", file=sys.stderr, flush=True)


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.strip()}")
    return proc.stdout


def outpost_accuracy(opm):
    out = run([OUTPOST, "eval", opm, "--images", TEST_IMAGES, "--labels", TEST_LABELS, "--json"])
    result = json.loads(out)
    return result["correct"], result["total"]


def ort_accuracy(onnx_path, meta):
    out = run(["node", ORT_EVAL, onnx_path, TEST_IMAGES, TEST_LABELS,
               "--mean", meta["outpost.mean"], "--std", meta["outpost.std"],
               "--value-scale", meta["outpost.value_scale"]])
    result = json.loads(out.strip().splitlines()[-1])
    return result["correct"], result["images"], result["runtime"]


def onnx_metadata(path):
    import onnx
    return {p.key: p.value for p in onnx.load(path).metadata_props}


def pct(correct, total):
    return 100.0 * correct / total


def report_model(name, calib, work):
    onnx_path = os.path.join(ROOT, "models", "zoo", name, "model.onnx")
    meta = onnx_metadata(onnx_path)
    rows = []
    fp32 = os.path.join(work, f"{name}_fp32.opm")
    run([OUTPOST, "compile", "--prepack", "none", onnx_path, "-o", fp32])
    c, n = outpost_accuracy(fp32)
    fp32_acc = pct(c, n)
    fp32_size = os.path.getsize(fp32)
    rows.append(("Outpost fp32", "-", fp32_acc, fp32_size))
    log(f"{name}: fp32 {c}/{n}")

    best = None
    for method in METHODS:
        out = os.path.join(work, f"{name}_int8_{method}.opm")
        start = time.time()
        run([OUTPOST, "quantize", "--prepack", "none", onnx_path, "--calib", TRAIN_IMAGES, "--calib-limit", str(calib),
             "--method", method, "-o", out])
        seconds = time.time() - start
        c, n = outpost_accuracy(out)
        acc = pct(c, n)
        rows.append((f"Outpost int8, {method}", f"{seconds:.0f} s", acc, os.path.getsize(out)))
        log(f"{name}: int8 {method} {c}/{n} ({seconds:.0f} s)")
        if best is None or acc > best[1]:
            best = (method, acc, out)

    # Per-tensor weights: the naive scheme that fails on depthwise models elsewhere.
    out = os.path.join(work, f"{name}_int8_per_tensor.opm")
    run([OUTPOST, "quantize", "--prepack", "none", onnx_path, "--calib", TRAIN_IMAGES, "--calib-limit", str(calib),
         "--per-tensor", "-o", out])
    c, n = outpost_accuracy(out)
    rows.append(("Outpost int8, minmax, per-tensor weights", "-", pct(c, n), os.path.getsize(out)))
    # Weight-only storage: activations stay float.
    for kind in ["fp16", "int8"]:
        out = os.path.join(work, f"{name}_weights_{kind}.opm")
        run([OUTPOST, "quantize", "--prepack", "none", onnx_path, "--weights-only", kind, "-o", out])
        c, n = outpost_accuracy(out)
        rows.append((f"Outpost {kind} weights only (float activations)", "-", pct(c, n),
                     os.path.getsize(out)))
    log(f"{name}: per-tensor and weight-only done")

    for engine, extra in [("onednn", []), ("qnnpack", []), ("qnnpack", ["--contiguous-relu6"])]:
        out = run(["/usr/bin/python3", os.path.join(ROOT, "models", "pytorch_ptq.py"), name,
                   "--engine", engine, "--calib", str(calib)] + extra)
        r = json.loads(out.strip().splitlines()[-1])
        label = f"PyTorch eager PTQ, {engine}"
        if extra:
            label += " (ReLU6 given contiguous input)"
        rows.append((label, f"{r['calibration_seconds']:.0f} s", 100.0 * r["int8_accuracy"], None))
        log(f"{name}: PyTorch {engine} {r['int8_correct']}/{r['test_images']} "
            f"(its fp32: {r['float_correct']})")

    # The same QDQ model through ONNX Runtime and back through Outpost's QDQ importer.
    method, _, best_opm = best
    qdq = os.path.join(work, f"{name}_int8_{method}_qdq.onnx")
    run([OUTPOST, "export", best_opm, "-o", qdq])
    c, n, runtime = ort_accuracy(qdq, meta)
    rows.append((f"{runtime}, QDQ export of Outpost int8 ({method})", "-", pct(c, n),
                 os.path.getsize(qdq)))
    c_f, n_f, _ = ort_accuracy(onnx_path, meta)
    rows.append((f"{runtime}, fp32 ONNX", "-", pct(c_f, n_f), os.path.getsize(onnx_path)))
    reimported = os.path.join(work, f"{name}_from_qdq.opm")
    run([OUTPOST, "compile", "--prepack", "none", qdq, "-o", reimported])
    c, n = outpost_accuracy(reimported)
    rows.append((f"Outpost int8, compiled from that QDQ file", "-", pct(c, n),
                 os.path.getsize(reimported)))
    return fp32_acc, fp32_size, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calib", type=int, default=1000, help="calibration images")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "quant_report.md"))
    args = parser.parse_args()
    if not os.path.exists(OUTPOST):
        raise SystemExit(f"{OUTPOST} not found: run scripts/build.sh release first")

    lines = [f"Calibration: {args.calib} Fashion-MNIST training images (evenly spaced); accuracy: all "
             "10,000 test images (top-1).", ""]
    with tempfile.TemporaryDirectory(prefix="outpost_quant_report_") as work:
        for name in MODELS:
            fp32_acc, fp32_size, rows = report_model(name, args.calib, work)
            lines += [f"### {name}", "",
                      "| model | calibration time | accuracy | vs fp32 (points) | file | smaller |",
                      "|---|---:|---:|---:|---:|---:|"]
            for label, secs, acc, size in rows:
                size_text = f"{size / 1024:.1f} KiB" if size else "-"
                ratio = f"{fp32_size / size:.2f}x" if size and "fp32" not in label else "-"
                lines.append(f"| {label} | {secs} | {acc:.2f}% | {acc - fp32_acc:+.2f} | "
                             f"{size_text} | {ratio} |")
            lines.append("")
    text = "\n".join(lines)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text + "\n")
    print(text)
    log(f"written to {args.out}")


if __name__ == "__main__":
    main()
