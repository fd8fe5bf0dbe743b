#!/usr/bin/python3
"""Latency of one zoo model under a peer runtime: OpenCV DNN or PyTorch (eager, fp32).

    /usr/bin/python3 bench/peer.py {opencv,torch} MODEL_DIR [--onnx FILE] [--threads N]
                                   [--runs N] [--warmup N]

MODEL_DIR is a zoo folder (model.onnx, input.npy); OpenCV reads --onnx instead of its
model.onnx when given (e.g. the int8 QDQ export). Batch 1, the folder's input.npy every run.
PyTorch builds the model's own nn.Module (models/architectures.py) and loads the ONNX weights
with models/pytorch_ptq.load_weights_from_onnx. Prints one JSON line: load_ms (cold start:
read and prepare the model; for OpenCV including its first forward, which finishes the
set-up), median_ms, p90_ms. A model the peer cannot load exits 3 with the reason on stderr.
"""

import argparse
import json
import math
import os
import re
import sys
import time

# Before torch/OpenCV load OpenMP: spinning idle threads would steal the shared cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))

import numpy as np  # noqa: E402


def percentile(sorted_ms, p):
    """Nearest rank, as `outpost bench`."""
    rank = min(len(sorted_ms), max(1, math.ceil(p / 100 * len(sorted_ms))))
    return sorted_ms[rank - 1]


def cannot_load(reason):
    print(f"peer: cannot load: {reason}", file=sys.stderr)
    sys.exit(3)


def opencv_reason(error):
    """'Clip: expected node_proto.input_size() == 1' from OpenCV's nested error text."""
    text = str(error)
    node = re.search(r"Node \[([A-Za-z0-9_]+)", text)
    expected = re.search(r"expected: '([^']*)'", text)
    failed = [f.strip() for f in re.findall(r"error: \([^)]*\) (.*?)(?: in function '.*')?$",
                                            text, re.M) if f.strip()]
    if expected:
        msg = f"expected {expected.group(1)}"
    else:
        msg = failed[-1] if failed else text.strip().splitlines()[0]
    return (f"{node.group(1)}: " if node else "") + msg


def opencv_runner(model_dir, onnx_path, x, threads):
    import cv2
    cv2.setNumThreads(threads)
    try:
        net = cv2.dnn.readNetFromONNX(onnx_path)
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    except cv2.error as e:
        cannot_load(opencv_reason(e))

    def run():
        net.setInput(x)
        return net.forward()
    try:
        run()  # OpenCV finishes setting up layers on the first forward; fail here, not later
    except cv2.error as e:
        cannot_load(opencv_reason(e))
    return run, f"opencv {cv2.__version__}"


def torch_module(name):
    import architectures as arch
    constructors = {
        "fashion_cnn": arch.FashionCNN, "fashion_mobilenet": arch.FashionMobileNet,
        "kws_dscnn": arch.KwsDsCnn, "ad_autoencoder": arch.AdAutoencoder,
        "mobilenet_v2": lambda: arch.torchvision_model("mobilenet_v2"),
        "resnet18": lambda: arch.torchvision_model("resnet18"),
    }
    if name not in constructors:
        cannot_load(f"no PyTorch module for '{name}'")
    return constructors[name]()


def torch_runner(model_dir, onnx_path, x, threads):
    import torch
    import pytorch_ptq
    torch.set_num_threads(threads)
    model = torch_module(os.path.basename(os.path.normpath(model_dir)))
    pytorch_ptq.load_weights_from_onnx(model, onnx_path)
    t = torch.from_numpy(x)

    def run():
        with torch.inference_mode():
            return model(t)
    return run, f"torch {torch.__version__}"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("peer", choices=["opencv", "torch"])
    parser.add_argument("model_dir")
    parser.add_argument("--onnx", help="ONNX file (default: MODEL_DIR/model.onnx)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    a = parser.parse_args()
    x = np.load(os.path.join(a.model_dir, "input.npy")).astype(np.float32)
    # Import outside the cold-start timer: a deployed process has its libraries loaded.
    if a.peer == "opencv":
        import cv2  # noqa: F401
    else:
        import torch  # noqa: F401
    start = time.perf_counter()
    onnx_path = a.onnx or os.path.join(a.model_dir, "model.onnx")
    runner = opencv_runner if a.peer == "opencv" else torch_runner
    run, version = runner(a.model_dir, onnx_path, x, a.threads)
    load_ms = (time.perf_counter() - start) * 1e3
    times = []
    for r in range(a.warmup + a.runs):
        t0 = time.perf_counter()
        run()
        ms = (time.perf_counter() - t0) * 1e3
        if r >= a.warmup:
            times.append(ms)
    times.sort()
    print(json.dumps({"runtime": version, "threads": a.threads, "runs": len(times),
                      "load_ms": load_ms, "median_ms": float(np.median(times)),
                      "p90_ms": percentile(times, 90)}))


if __name__ == "__main__":
    main()
