#!/usr/bin/python3
"""Outpost against its peers on the model zoo: one table of latency, memory and efficiency.

    /usr/bin/python3 bench/bench.py [--quick] [--outpost BIN] [--out DIR] [--runs N]
                                    [--threads 1,2] [--models a,b]

bench/run.sh builds, installs the peers and calls this; run this directly to reuse a build.
For every zoo model (models/zoo/*, models/generated/* when exported) it compiles the ONNX
file, quantizes it to int8 (calibration data below), exports the int8 model as QDQ ONNX with
uint8 activations (the same values shifted by 128: the form of ONNX Runtime's own x86
quantization, which its integer kernels run faster than int8 activations: ResNet18 10-12 ms
against 26-27 ms, MobileNetV2 4.0-5.2 against 6.5-7.2 ms on a 2-core AVX-512 machine), and
measures each (runtime, precision, threads) in its own process:

    outpost       outpost bench X.opm --json (fp32 and int8 .opm)
    onnxruntime   tools/ort_eval/ort_bench.js (fp32: model.onnx, int8: the QDQ export)
    opencv        bench/peer.py opencv (cv2.dnn; fp32: model.onnx, int8: the QDQ export)
    pytorch       bench/peer.py torch (eager nn.Module, fp32 only)

Calibration: Fashion-MNIST training images (100, evenly spaced) for the fashion models when
the Debian data set is installed; otherwise the model folder's input.npy plus 3 copies with
seeded Gaussian noise (sigma 0.1) -- enough to set int8 ranges for timing, not for accuracy.

Writes DIR/results.md and DIR/results.json (default build/bench). A peer that cannot run a
model gets "n/a (reason)". Progress goes to stderr.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION_TRAIN = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
QUICK_MODELS = ["fashion_cnn", "kws_dscnn", "ad_autoencoder"]
RUNTIMES = ["outpost", "onnxruntime", "opencv", "pytorch"]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def build_tool(name, work):
    """Compiles bench/NAME.cc into WORK/NAME unless the binary is newer than the source."""
    src = os.path.join(ROOT, "bench", f"{name}.cc")
    exe = os.path.join(work, name)
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        check_call([os.environ.get("CXX", "c++"), "-O3", "-std=c++17", src, "-o", exe],
                   f"{name} build")
    return exe


def run_measured(cmd, timeout, maxrss):
    """Runs cmd in its own process; returns (exit code, stdout, stderr, peak RSS in KiB).

    The command runs under bench/maxrss.cc, which reports the command's own ru_maxrss (a
    child of this Python process would inherit Python's high-water mark)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as rss:
        p = subprocess.Popen([maxrss, rss.name] + cmd, stdout=out, stderr=err,
                             start_new_session=True)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)  # the launcher and the command
            p.wait()
        out.seek(0)
        err.seek(0)
        o, e = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        if p.returncode == -9:
            e += f"\ntimed out after {timeout} s"
        text = rss.read().strip()
        return p.returncode, o, e, int(text) if text else 0


def last_line(text, limit=90):
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    line = lines[-1] if lines else "no output"
    for prefix in ("outpost: error: ", "peer: cannot load: ", "ort_bench: error: "):
        if line.startswith(prefix):
            line = line[len(prefix):]
    return line if len(line) <= limit else line[:limit - 3] + "..."


def check_call(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{what}: {last_line(r.stderr or r.stdout)}")
    return r.stdout


def model_dirs(names):
    dirs = []
    for root in ("models/zoo", "models/generated"):
        base = os.path.join(ROOT, root)
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            d = os.path.join(base, name)
            if os.path.exists(os.path.join(d, "model.onnx")) and os.path.exists(
                    os.path.join(d, "input.npy")):
                if names is None or name in names:
                    dirs.append(d)
    return dirs


def calibration_args(model_dir, work):
    """(outpost quantize calibration options, description)."""
    name = os.path.basename(model_dir)
    if name.startswith("fashion_") and os.path.exists(FASHION_TRAIN):
        return ["--calib", FASHION_TRAIN, "--calib-limit", "100"], "100 Fashion-MNIST train images"
    import numpy as np
    x = np.load(os.path.join(model_dir, "input.npy")).astype(np.float32)
    rng = np.random.default_rng(0)
    samples = [x] + [x + rng.normal(0, 0.1, x.shape).astype(np.float32) for _ in range(3)]
    path = os.path.join(work, f"{name}_calib.npy")
    np.save(path, np.concatenate(samples, axis=0))
    return ["--calib", path], "input.npy + 3 noisy copies"


def prepare_model(outpost, model_dir, work):
    """Compiles and quantizes one model; returns a dict of artifacts and failures."""
    name = os.path.basename(model_dir)
    m = {"name": name, "dir": model_dir, "onnx": os.path.join(model_dir, "model.onnx")}
    shape_meta = json.load(open(os.path.join(model_dir, "meta.json")))
    m["shape"] = shape_meta["input_shape"]
    fp32 = os.path.join(work, f"{name}.opm")
    # Packed weights cached in the model for this CPU: the cold start a deployment that
    # compiles for its target gets (docs/performance.md, "Cold start").
    check_call([outpost, "compile", m["onnx"], "-o", fp32, "--prepack", "auto"], f"{name}: compile")
    m["fp32"] = fp32
    m["macs"] = json.loads(check_call([outpost, "inspect", fp32, "--json"], "inspect"))["macs"]
    int8 = os.path.join(work, f"{name}_int8.opm")
    calib, m["calibration"] = calibration_args(model_dir, work)
    try:
        check_call([outpost, "quantize", m["onnx"], "-o", int8, "--prepack", "auto"] + calib, f"{name}: quantize")
        m["int8"] = int8
    except RuntimeError as e:
        m["int8_error"] = str(e).split(": ", 2)[-1]
        return m
    qdq = os.path.join(work, f"{name}_qdq.onnx")
    try:
        check_call([outpost, "export", int8, "-o", qdq, "--activations", "uint8"], f"{name}: export")
        m["qdq"] = qdq
    except RuntimeError as e:
        m["qdq_error"] = str(e).split(": ", 2)[-1]
    return m


def measure(runtime, m, precision, threads, outpost, runs, warmup, timeout, maxrss):
    """One row: a dict with median_ms, p90_ms, rss_mib, cold_ms, or error."""
    row = {"model": m["name"], "runtime": runtime, "precision": precision, "threads": threads}
    common = ["--runs", str(runs), "--warmup", str(warmup), "--threads", str(threads)]
    if runtime == "outpost":
        if precision not in m:
            row["error"] = m.get("int8_error", "not quantized")
            return row
        cmd = [outpost, "bench", m[precision], "--json"] + common
    elif runtime == "pytorch":
        if precision != "fp32":
            row["error"] = "fp32 only"
            return row
        cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer.py"), "torch", m["dir"]] + common
    else:
        onnx = m["onnx"] if precision == "fp32" else m.get("qdq")
        if onnx is None:
            row["error"] = m.get("qdq_error", m.get("int8_error", "no int8 model"))
            return row
        if runtime == "onnxruntime":
            script = os.path.join(ROOT, "tools", "ort_eval", "ort_bench.js")
            if not shutil.which("node"):
                row["error"] = "node not installed"
                return row
            cmd = ["node", script, onnx, "--shape", ",".join(map(str, m["shape"])),
                   "--input", os.path.join(m["dir"], "input.npy")] + common
        else:
            cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer.py"), "opencv", m["dir"],
                   "--onnx", onnx] + common
    rc, out, err, rss_kib = run_measured(cmd, timeout, maxrss)
    if rc != 0:
        row["error"] = last_line(err or out)
        return row
    try:
        j = json.loads(out)
    except ValueError:
        row["error"] = "unreadable output: " + last_line(out)
        return row
    if runtime == "outpost":
        row.update(median_ms=j["latency_ms"]["median"], p90_ms=j["latency_ms"]["p90"],
                   cold_ms=j["load_ms"], threads_used=j["threads_used"])
    else:
        row.update(median_ms=j["median_ms"], p90_ms=j["p90_ms"], cold_ms=j["load_ms"],
                   version=j.get("runtime"))
    row["rss_mib"] = rss_kib / 1024
    row["gflops"] = 2 * m["macs"] / (row["median_ms"] * 1e-3) / 1e9
    return row


def peak_gflops(work):
    """Builds and runs bench/peak_flops.cc: single-core fp32 FMA peak."""
    return json.loads(check_call([build_tool("peak_flops", work)], "peak_flops"))


def machine():
    model, cores = platform.processor() or "unknown", os.cpu_count()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info = dict(ln.split(":", 1) for ln in out.splitlines() if ":" in ln)
        info = {k.strip(): v.strip() for k, v in info.items()}
        model = info.get("Model name", model)
        per = int(info.get("Core(s) per socket", 0)) * int(info.get("Socket(s)", 1))
        cores = per or cores
    except (OSError, ValueError):
        pass
    return {"cpu": model, "cores": cores, "logical_cpus": os.cpu_count()}


def fmt(v, digits):
    return f"{v:.{digits}f}"


def table(rows, peak):
    headers = ["model", "runtime", "prec", "thr", "median ms", "p90 ms", "RSS MiB", "cold ms",
               "GFLOP/s", "% peak", "Outpost speedup"]
    outpost = {(r["model"], r["precision"], r["threads"]): r for r in rows
               if r["runtime"] == "outpost" and "error" not in r}
    lines = []
    for r in rows:
        cells = [r["model"], r["runtime"], r["precision"], str(r["threads"])]
        if "error" in r:
            cells += [f"n/a ({r['error']})"] + [""] * 6
        else:
            pct = 100 * r["gflops"] / (peak * r["threads"])
            o = outpost.get((r["model"], r["precision"], r["threads"]))
            speedup = "" if r["runtime"] == "outpost" else (
                f"{r['median_ms'] / o['median_ms']:.2f}x" if o else "n/a")
            r["pct_peak"] = pct
            if o and r["runtime"] != "outpost":
                r["outpost_speedup"] = r["median_ms"] / o["median_ms"]
            cells += [fmt(r["median_ms"], 3), fmt(r["p90_ms"], 3), fmt(r["rss_mib"], 1),
                      fmt(r["cold_ms"], 1), fmt(r["gflops"], 2), fmt(pct, 2), speedup]
        lines.append(cells)
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" if i < 4 else "---:" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(c) + " |" for c in lines]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small models, 2 threads, 5 runs after 1 warm-up: a smoke test")
    ap.add_argument("--outpost", default=os.path.join(ROOT, "build", "release", "tools",
                                                      "outpost", "outpost"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--runs", type=int, help="timed runs per measurement (default 30)")
    ap.add_argument("--warmup", type=int, help="warm-up runs (default 5)")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--models", help="comma-separated model names (default: all)")
    ap.add_argument("--runtimes", default=",".join(RUNTIMES))
    ap.add_argument("--timeout", type=float, default=900, help="seconds per measurement")
    a = ap.parse_args()
    runs = a.runs or (5 if a.quick else 30)
    warmup = a.warmup if a.warmup is not None else (1 if a.quick else 5)
    # --quick: 2 threads only, which still goes through the thread pool.
    threads = [int(t) for t in ("2" if a.quick and a.threads == "1,2" else a.threads).split(",")]
    names = a.models.split(",") if a.models else (QUICK_MODELS if a.quick else None)
    runtimes = a.runtimes.split(",")
    if not os.access(a.outpost, os.X_OK):
        sys.exit(f"bench: error: no outpost binary at {a.outpost} (scripts/build.sh release, "
                 f"or --outpost BIN)")
    os.makedirs(a.out, exist_ok=True)
    work = os.path.join(a.out, "models")
    os.makedirs(work, exist_ok=True)
    start = time.time()
    # Other processes on the machine skew every column; the header records how busy it was.
    load_at_start = os.getloadavg()[0]

    peak = peak_gflops(a.out)
    maxrss = build_tool("maxrss", a.out)
    log(f"single-core fp32 peak: {peak['gflops']:.1f} GFLOP/s ({peak['isa']})")
    models = []
    for d in model_dirs(names):
        log(f"preparing {os.path.basename(d)} (compile, quantize, export)")
        try:
            models.append(prepare_model(a.outpost, d, work))
        except RuntimeError as e:
            log(f"skipping: {e}")
    jobs = [(rt, m, p, t) for m in models for p in ("fp32", "int8") for t in threads
            for rt in runtimes]
    rows = []
    for k, (rt, m, p, t) in enumerate(jobs, 1):
        log(f"[{k}/{len(jobs)}] {m['name']} {rt} {p} threads {t}")
        rows.append(measure(rt, m, p, t, a.outpost, runs, warmup, a.timeout, maxrss))
        if "error" in rows[-1]:
            log(f"  n/a: {rows[-1]['error']}")
        else:
            log(f"  median {rows[-1]['median_ms']:.3f} ms")

    host = machine()
    host["loadavg_at_start"] = load_at_start
    text = table(rows, peak["gflops"])
    calib = "; ".join(f"{m['name']}: {m['calibration']}" for m in models)
    header = (f"Outpost benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
              f"- CPU: {host['cpu']}, {host['cores']} cores ({host['logical_cpus']} logical); "
              f"1-minute load average at start {host['loadavg_at_start']:.2f}\n"
              f"- single-core fp32 FMA peak: {peak['gflops']:.1f} GFLOP/s ({peak['isa']}); "
              f"% peak = GFLOP/s / (threads x peak), int8 included\n"
              f"- batch 1, {runs} timed runs after {warmup} warm-up, each runtime in its own "
              f"process{' (--quick: smoke test, not a measurement)' if a.quick else ''}\n"
              f"- Outpost speedup = peer median / Outpost median (> 1: Outpost is faster)\n"
              f"- int8 calibration: {calib}\n")
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(header + "\n" + text + "\n")
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"machine": host, "peak": peak, "runs": runs, "warmup": warmup,
                   "quick": a.quick, "models": [{k: m[k] for k in ("name", "macs", "shape",
                                                                   "calibration")}
                                                for m in models],
                   "rows": rows}, f, indent=2)
    print(header + "\n" + text)
    log(f"done in {time.time() - start:.0f} s: {os.path.join(a.out, 'results.md')}, results.json")
    # A broken Outpost is a failure; a peer that cannot run a model is a finding.
    if any(r["runtime"] == "outpost" and r["precision"] == "fp32" and "error" in r for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
