#!/usr/bin/env python3
"""Should XNNPACK run some of Outpost's convolutions? The benchmark decides.

For every compiled model given, takes each CONV_2D from `outpost inspect --json`, times the same
convolution (shape, stride, padding, dilation, groups, fused clamp) with XNNPACK through
bench/xnnpack_conv.cc, and sets it beside Outpost's per-op median from `outpost bench --json`.
Outpost and XNNPACK alternate for --rounds rounds; the medians over the rounds are reported.
Prints one row per layer class (pointwise, depthwise, dense 3x3, other) and model, with the
total time of each and how many layers XNNPACK won, then a verdict per class.

Needs libxnnpack-dev and libpthreadpool-dev (`scripts/setup.sh --peers`). XNNPACK's time is
kernel only, in NHWC, without the layout conversions an NCHW graph would add around it: the
comparison is biased towards XNNPACK, so a class where Outpost still wins is settled.

  /usr/bin/python3 bench/xnnpack_decision.py build/bench/models/resnet18.opm \
      build/bench/models/mobilenet_v2_int8.opm --threads 1 --rounds 3
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(f"xnnpack_decision: {msg}", file=sys.stderr, flush=True)


def build_probe(work):
    src = os.path.join(ROOT, "bench", "xnnpack_conv.cc")
    exe = os.path.join(work, "xnnpack_conv")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        cmd = [os.environ.get("CXX", "c++"), "-O3", "-std=c++17", src, "-lXNNPACK",
               "-lpthreadpool", "-o", exe]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("xnnpack_decision: cannot build the XNNPACK probe (install libxnnpack-dev "
                     "and libpthreadpool-dev: scripts/setup.sh --peers)\n" + r.stderr)
    return exe


def pair(text):
    a, b = text.split("x")
    return int(a), int(b)


def clamp(params):
    act = params.get("act", "")
    if act == "RELU":
        return "0", "inf"
    if act.startswith("CLIP("):
        lo, hi = act[5:-1].split(",")
        return lo, hi
    if act:
        return None  # an activation XNNPACK's convolution cannot fuse
    return "-inf", "inf"


def conv_layers(outpost, model):
    info = json.loads(subprocess.run([outpost, "inspect", model, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    layers = []
    for op in info["ops"]:
        if op["op"] != "CONV_2D":
            continue
        p = op["params"]
        x, w = op["inputs"][0], op["inputs"][1]
        if len(x["shape"]) != 4 or x["shape"][0] != 1 or len(w["shape"]) != 4:
            continue
        bounds = clamp(p)
        if bounds is None:
            continue
        _, c, h, wd = x["shape"]
        oc, _, kh, kw = w["shape"]
        sh, sw = pair(p["stride"])
        dh, dw = pair(p.get("dilation", "1x1"))
        pt, pl, pb, pr = (int(v) for v in p["pads"].split(","))
        groups = int(p.get("groups", "1"))
        prec = "qc8" if x["dtype"] == "int8" else "f32"
        if groups == 1 and kh == 1 and kw == 1:
            kind = "pointwise 1x1"
        elif groups == c and groups == oc:
            kind = "depthwise"
        elif groups == 1 and kh == 3 and kw == 3:
            kind = "dense 3x3"
        else:
            kind = "other conv"
        spec = f"{prec} {c} {h} {wd} {oc} {kh} {kw} {sh} {sw} {pt} {pl} {pb} {pr} {dh} {dw} " \
               f"{groups} {bounds[0]} {bounds[1]}"
        layers.append({"index": op["index"], "name": op["name"], "kind": kind, "prec": prec,
                       "spec": spec})
        if prec == "f32" and kind == "depthwise":
            # XNNPACK's NCHW depthwise runs in Outpost's own layout: no conversion needed.
            layers.append({"index": op["index"], "name": op["name"], "kind": "depthwise NCHW",
                           "prec": prec, "spec": "f32nchw" + spec[3:]})
    return layers


def outpost_times(outpost, model, threads, runs):
    out = subprocess.run([outpost, "bench", model, "--json", "--threads", str(threads), "--runs",
                          str(runs)], check=True, capture_output=True, text=True).stdout
    return {op["index"]: op["median_us"] for op in json.loads(out)["ops"]}


def xnnpack_times(probe, layers, threads, runs):
    specs = "".join(layer["spec"] + "\n" for layer in layers)
    out = subprocess.run([probe, str(threads), str(runs)], input=specs, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    times = []
    for line in out[:len(layers)]:
        times.append(math.nan if line.startswith("error") else float(line.split()[1]))
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", help="compiled .opm models (fp32 or int8)")
    ap.add_argument("--outpost", default=os.path.join(ROOT, "build/release/tools/outpost/outpost"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=30, help="timed runs per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating Outpost/XNNPACK rounds")
    ap.add_argument("--work", default=os.path.join(ROOT, "build/bench"))
    ap.add_argument("--json", help="also write every layer's figures here")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    probe = build_probe(a.work)

    rows, detail = [], []
    for model in a.models:
        layers = conv_layers(a.outpost, model)
        ours, theirs = [], []
        for r in range(a.rounds):
            log(f"{os.path.basename(model)}: round {r + 1}/{a.rounds}")
            ours.append(outpost_times(a.outpost, model, a.threads, a.runs))
            theirs.append(xnnpack_times(probe, layers, a.threads, a.runs))
        for i, layer in enumerate(layers):
            layer["outpost_us"] = statistics.median(t[layer["index"]] for t in ours)
            layer["xnnpack_us"] = statistics.median(t[i] for t in theirs)
            layer["model"] = os.path.basename(model)
            detail.append(layer)
        for kind in sorted({layer["kind"] for layer in layers}):
            group = [x for x in layers if x["kind"] == kind and not math.isnan(x["xnnpack_us"])]
            if not group:
                continue
            o = sum(x["outpost_us"] for x in group)
            x = sum(x["xnnpack_us"] for x in group)
            won = sum(1 for g in group if g["xnnpack_us"] < g["outpost_us"])
            rows.append((os.path.basename(model), f"{group[0]['prec']} {kind}", len(group), o, x,
                         won))

    print(f"\nthreads {a.threads}; medians of {a.rounds} alternating rounds of {a.runs} runs; "
          "XNNPACK kernel only (NHWC, no layout conversions)\n")
    print("| model | layers | count | Outpost us | XNNPACK us | Outpost speedup | XNNPACK wins |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for m, kind, n, o, x, won in rows:
        print(f"| {m} | {kind} | {n} | {o:.0f} | {x:.0f} | {x / o:.2f}x | {won}/{n} |")
    print()
    for kind in sorted({r[1] for r in rows}):
        o = sum(r[3] for r in rows if r[1] == kind)
        x = sum(r[4] for r in rows if r[1] == kind)
        verdict = "Outpost's kernels" if o <= x else "XNNPACK faster"
        print(f"{kind}: Outpost {o:.0f} us, XNNPACK {x:.0f} us -> {verdict}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(detail, f, indent=1)


if __name__ == "__main__":
    main()
