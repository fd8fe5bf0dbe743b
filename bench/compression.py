#!/usr/bin/env python3
"""Accuracy against MACs and size for structured pruning on the zoo's Fashion-MNIST models.

For each model and MAC budget (a share of the model's MACs), the model is pruned three ways:

  - l1 cut:        channels ranked by L1 norm, cut, no refit (Li et al. 2017);
  - l1 + ls:       the same channels, the next layers refitted by least squares;
  - greedy + ls:   channels chosen greedily by reconstruction error (ThiNet), then the refit;

every result is scored on the 10,000 Fashion-MNIST test images, and the refitted ones are also
quantized to int8 (`outpost quantize`, 1,000 calibration images) and scored again. Then
unstructured magnitude sparsity (`--sparsity`), alone and after the 50% greedy + ls cut, at
fp32 and int8: the MACs stay, the file shrinks. With
--distill, models/distill.py trains a student as wide as the 50% greedy model, with and without
the teacher, for the comparison at equal MACs.

Writes DIR/results.md and DIR/results.json (default build/compression). See
docs/compression.md. Only the Python standard library is needed; --distill needs PyTorch.
"""

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"
TRAIN = f"{DATA}/train-images-idx3-ubyte.gz"
TEST = f"{DATA}/t10k-images-idx3-ubyte.gz"
TEST_LABELS = f"{DATA}/t10k-labels-idx1-ubyte.gz"
MODELS = ["fashion_cnn", "fashion_mobilenet"]
BUDGETS = [75, 60, 50, 40, 30]
SPARSITIES = [50, 70, 80]  # unstructured magnitude sparsity, %: alone, and after a 50% MAC cut
VARIANTS = [  # name, outpost prune options, quantized too
    ("l1 cut", ["--criterion", "l1", "--no-reconstruct"], False),
    ("l1 + ls", ["--criterion", "l1"], True),
    ("greedy + ls", ["--criterion", "reconstruction"], True),
]


def log(msg):
    print(f"compression: {msg}", file=sys.stderr, flush=True)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"compression: failed: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


class Outpost:
    def __init__(self, binary, out, calib_limit, val_limit):
        self.bin = binary
        self.out = out
        self.calib_limit = str(calib_limit)
        self.val_limit = str(val_limit)

    def val_args(self):
        return ["--val", TEST, "--val-labels", TEST_LABELS, "--val-limit", self.val_limit]

    def accuracy(self, opm):
        cmd = [self.bin, "eval", opm, "--images", TEST, "--labels", TEST_LABELS, "--json"]
        if self.val_limit != "0":
            cmd += ["-n", self.val_limit]
        return 100.0 * json.loads(run(cmd))["accuracy"]

    def inspect(self, opm):
        return json.loads(run([self.bin, "inspect", opm, "--json"]))

    def compile(self, onnx, opm):
        run([self.bin, "compile", onnx, "-o", opm])

    def quantize(self, src, dst):
        run([self.bin, "quantize", src, "-o", dst, "--calib", TRAIN, "--calib-limit",
             self.calib_limit])

    def prune(self, onnx, dst, budget, options):
        report = dst + ".json"
        target = ["--target-macs", f"{budget}%"] if budget < 100 else []
        run([self.bin, "prune", onnx, "-o", dst, "--calib", TRAIN, "--calib-limit",
             self.calib_limit, "--json", report] + target + options + self.val_args())
        with open(report) as f:
            return json.load(f)


def row(model, budget, variant, precision, macs, file_bytes, accuracy, reference):
    return {"model": model, "budget": budget, "variant": variant, "precision": precision,
            "macs": macs, "file_bytes": file_bytes, "accuracy": accuracy,
            "drop": reference - accuracy}


def measure_model(o, name):
    onnx = os.path.join(ROOT, "models", "zoo", name, "model.onnx")
    folder = os.path.join(o.out, name)
    os.makedirs(folder, exist_ok=True)
    rows = []
    fp32 = os.path.join(folder, "float.opm")
    o.compile(onnx, fp32)
    info = o.inspect(fp32)
    reference = o.accuracy(fp32)
    rows.append(row(name, 100, "unpruned", "fp32", info["macs"], info["file_bytes"], reference,
                    reference))
    int8 = os.path.join(folder, "int8.opm")
    o.quantize(fp32, int8)
    rows.append(row(name, 100, "unpruned", "int8", o.inspect(int8)["macs"],
                    o.inspect(int8)["file_bytes"], o.accuracy(int8), reference))
    log(f"{name}: fp32 {reference:.2f}%, int8 {rows[-1]['accuracy']:.2f}%")
    groups = {}
    for budget in BUDGETS:
        for variant, options, quantized in VARIANTS:
            tag = f"{budget}_{variant.replace(' ', '').replace('+', '_')}"
            pruned = os.path.join(folder, f"{tag}.opm")
            t0 = time.time()
            r = o.prune(onnx, pruned, budget, options)
            acc = r["accuracy_after"] if o.val_limit == "0" else o.accuracy(pruned)
            rows.append(row(name, budget, variant, "fp32", r["macs_after"], r["file_bytes"], acc,
                            reference))
            if variant == "greedy + ls":
                groups[budget] = r["groups"]
            msg = f"{name} {budget}% {variant}: fp32 {acc:.2f}%"
            if quantized:
                q = os.path.join(folder, f"{tag}_int8.opm")
                o.quantize(pruned, q)
                qa = o.accuracy(q)
                rows.append(row(name, budget, variant, "int8", r["macs_after"],
                                o.inspect(q)["file_bytes"], qa, reference))
                msg += f", int8 {qa:.2f}%"
            log(f"{msg} ({time.time() - t0:.0f} s)")
    # Magnitude sparsity: the MACs stay, the stored file shrinks (sparse weight encoding).
    for budget in (100, 50):
        for sparsity in SPARSITIES:
            variant = f"sparsity {sparsity}%" + (" after greedy + ls" if budget < 100 else "")
            options = ["--sparsity", str(sparsity / 100)]
            if budget < 100:
                options += ["--criterion", "reconstruction"]
            pruned = os.path.join(folder, f"{budget}_sparse{sparsity}.opm")
            r = o.prune(onnx, pruned, budget, options)
            acc = r["accuracy_after"] if o.val_limit == "0" else o.accuracy(pruned)
            rows.append(row(name, budget, variant, "fp32", r["macs_after"], r["file_bytes"], acc,
                            reference))
            q = os.path.join(folder, f"{budget}_sparse{sparsity}_int8.opm")
            o.quantize(pruned, q)
            qa = o.accuracy(q)
            rows.append(row(name, budget, variant, "int8", r["macs_after"],
                            o.inspect(q)["file_bytes"], qa, reference))
            log(f"{name} {budget}% {variant}: fp32 {acc:.2f}%, int8 {qa:.2f}%")
    return rows, groups


def distill(o, groups, epochs):
    """Students as wide as the 50% greedy fashion_cnn, trained with and without the teacher."""
    kept = {g["name"]: g["kept"] for g in groups[50]}
    convs = [v for k, v in kept.items() if "Conv" in k]
    fc = [v for k, v in kept.items() if "Gemm" in k]
    folder = os.path.join(o.out, "distill")
    os.makedirs(folder, exist_ok=True)
    report = os.path.join(folder, "distill.json")
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "models", "distill.py"), "--widths",
           *map(str, convs), "--fc", str(fc[0]) if fc else "128", "--out", folder,
           "--json", report, "--compare-scratch"]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    log("distillation: " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    with open(report) as f:
        return json.load(f)


def markdown(rows, distilled):
    lines = []
    for model in dict.fromkeys(r["model"] for r in rows):
        lines.append(f"### {model}\n")
        lines.append("| MAC budget | method | MACs | fp32 top-1 % | drop | fp32 file (B) "
                     "| int8 top-1 % | int8 drop | int8 file (B) |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        mine = [r for r in rows if r["model"] == model]
        keys = []
        for r in mine:
            k = (r["budget"], r["variant"])
            if k not in keys:
                keys.append(k)
        for budget, variant in keys:
            f = next(r for r in mine if (r["budget"], r["variant"], r["precision"]) ==
                     (budget, variant, "fp32"))
            q = next((r for r in mine if (r["budget"], r["variant"], r["precision"]) ==
                      (budget, variant, "int8")), None)
            cells = [f"{budget}%", variant, f"{f['macs']:,}", f"{f['accuracy']:.2f}",
                     f"{f['drop']:.2f}", f"{f['file_bytes']:,}"]
            cells += ([f"{q['accuracy']:.2f}", f"{q['drop']:.2f}", f"{q['file_bytes']:,}"]
                      if q else ["", "", ""])
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if distilled:
        lines.append("### Distillation at equal MACs (fashion_cnn)\n")
        lines.append("```\n" + json.dumps(distilled, indent=2) + "\n```\n")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--outpost", default=os.path.join(ROOT, "build/release/tools/outpost/outpost"))
    p.add_argument("--out", default=os.path.join(ROOT, "build/compression"))
    p.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    p.add_argument("--calib-limit", type=int, default=1000)
    p.add_argument("--val-limit", type=int, default=0, help="test images scored (0: all 10,000)")
    p.add_argument("--distill", action="store_true", help="also train the distilled students")
    p.add_argument("--distill-epochs", type=int, default=0, help="0: the script's default")
    a = p.parse_args()
    if not os.path.exists(a.outpost):
        raise SystemExit(f"compression: no outpost binary at {a.outpost} (scripts/build.sh release)")
    os.makedirs(a.out, exist_ok=True)
    o = Outpost(a.outpost, a.out, a.calib_limit, a.val_limit)
    rows, groups = [], {}
    for m in a.models:
        r, g = measure_model(o, m)
        rows += r
        groups[m] = g
    distilled = distill(o, groups["fashion_cnn"], a.distill_epochs) if (
        a.distill and "fashion_cnn" in groups) else None
    text = markdown([r for r in rows if r["model"] in a.models], distilled)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"rows": rows, "distillation": distilled}, f, indent=2)
    print(text)


if __name__ == "__main__":
    main()
