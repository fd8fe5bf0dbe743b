#!/usr/bin/python3
"""Outpost model zoo: trains/exports the ONNX models the C++ project compiles and tests.

    /usr/bin/python3 models/zoo.py train            # committed small models -> models/zoo/
    /usr/bin/python3 models/zoo.py train --only kws_dscnn
    /usr/bin/python3 models/zoo.py export-large     # MobileNetV2, ResNet18 -> models/generated/
    /usr/bin/python3 models/zoo.py all              # both
    /usr/bin/python3 models/zoo.py verify           # re-check every bundle that exists

Needs /usr/bin/python3 with torch, torchvision, onnx and numpy; no network.
The C++ build and tests only read the committed files in models/zoo/.
"""

import argparse
import json
import os
import sys
import time

# Must be set before torch loads OpenMP. The 2 cores are shared with C++ builds;
# with the default (active, spinning) wait policy a descheduled worker thread
# makes every parallel region stall, which slowed training 3x in measurements.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

import architectures as arch  # noqa: E402
import export  # noqa: E402
import fashion_data  # noqa: E402
import onnx_numpy  # noqa: E402
import training  # noqa: E402

ZOO_DIR = os.path.join(HERE, "zoo")
GENERATED_DIR = os.path.join(HERE, "generated")
CHECKPOINT_DIR = os.path.join(GENERATED_DIR, "checkpoints")

# The machine has 2 cores shared with C++ builds. Results are reproducible for a
# fixed thread count; changing it may change the last bits of trained weights.
NUM_THREADS = 2


KWS_LABELS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes",
              "_silence_", "_unknown_"]
IMAGENET_MEAN, IMAGENET_STD = "0.485,0.456,0.406", "0.229,0.224,0.225"

# Inputs that are features rather than images carry identity preprocessing.
FEATURE_PREPROCESSING = {"outpost.color": "none", "outpost.value_scale": "1",
                         "outpost.mean": "0", "outpost.std": "1"}

FASHION_MODELS = {
    # name: (constructor, epochs, seed)
    "fashion_cnn": (arch.FashionCNN, 5, 1),
    "fashion_mobilenet": (arch.FashionMobileNet, 4, 2),
}
RANDOM_MODELS = ["kws_dscnn", "ad_autoencoder"]
SMALL_MODELS = list(FASHION_MODELS) + RANDOM_MODELS
LARGE_MODELS = ["mobilenet_v2", "resnet18"]


def log(msg):
    print(msg, flush=True)


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


# --------------------------------------------------------------------------- Fashion-MNIST

class FashionSet:
    """Both splits, normalized once with the stored mean/std strings."""

    def __init__(self):
        train_img, self.y_train = fashion_data.load_split("train")
        test_img, self.y_test = fashion_data.load_split("t10k")
        self.mean, self.std = fashion_data.mean_std_strings(train_img)
        self.x_train = fashion_data.normalize(train_img, self.mean, self.std)
        self.x_test = fashion_data.normalize(test_img, self.mean, self.std)


def build_fashion(name, data, reuse_checkpoint=False):
    """Train (or reload) one Fashion-MNIST model, measure it, export its bundle.

    The trained weights are also saved to models/generated/checkpoints/ (not
    committed) so that `train --reuse-checkpoint` can redo only the export,
    e.g. after a metadata change, without another training run.
    """
    ctor, epochs, seed = FASHION_MODELS[name]
    ckpt_path = os.path.join(CHECKPOINT_DIR, f"{name}.pt")
    recipe = {"epochs": epochs, "seed": seed, "threads": NUM_THREADS}
    seed_everything(seed)
    model = ctor()
    seconds = None
    if reuse_checkpoint and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        if ckpt["recipe"] != recipe:
            raise SystemExit(f"{ckpt_path} was made with {ckpt['recipe']}, recipe is now {recipe}")
        model.load_state_dict(ckpt["state_dict"])
        model.eval()
        log(f"[{name}] weights from {ckpt_path}")
    else:
        log(f"[{name}] training {epochs} epochs (seed {seed})")
        seconds = training.train_classifier(model, data.x_train, data.y_train,
                                            epochs=epochs, seed=seed, log=log)
        os.makedirs(CHECKPOINT_DIR, exist_ok=True)
        torch.save({"recipe": recipe, "state_dict": model.state_dict()}, ckpt_path)
        log(f"[{name}] trained in {seconds:.0f} s")
    correct = training.evaluate(model, data.x_test, data.y_test, batch_size=1)
    total = int(data.y_test.shape[0])
    log(f"[{name}] test accuracy {correct}/{total} = {correct / total:.4f}")

    # The golden input is a real test image: t10k index 0 (an ankle boot).
    example = torch.from_numpy(data.x_test[0:1].copy())
    metadata = {
        "outpost.task": "classification",
        "outpost.labels": ",".join(fashion_data.LABELS),
        "outpost.layout": "NCHW",
        "outpost.color": "gray",
        "outpost.value_scale": fashion_data.VALUE_SCALE_STR,
        "outpost.mean": data.mean,
        "outpost.std": data.std,
    }
    proto = export.export_onnx(model, example, metadata)
    meta = {
        "name": name,
        "task": "classification",
        "test_accuracy": round(correct / total, 6),
        "test_correct": correct,
        "test_total": total,
        "test_evaluation": "PyTorch eval mode, float32, batch 1, argmax of logits, "
                           "x = (pixel * value_scale - mean) / std in float32",
        "input_source": "Fashion-MNIST t10k image 0",
        "input_label": int(data.y_test[0]),
        "training": {"epochs": epochs, "seed": seed, "threads": NUM_THREADS,
                     "optimizer": "SGD nesterov momentum 0.9, one-cycle LR, label smoothing 0.1, "
                                  "horizontal flips, batch 64"},
    }
    return export.write_bundle(os.path.join(ZOO_DIR, name), proto, model, example, meta), seconds


# --------------------------------------------------------------------------- random-weight models

def build_random(name):
    """MLPerf Tiny reference shapes with seeded random weights (no datasets offline)."""
    if name == "kws_dscnn":
        seed, shape = 3, (1, 1, 49, 10)
        model_ctor = arch.KwsDsCnn
        metadata = {"outpost.task": "keyword_spotting", "outpost.labels": ",".join(KWS_LABELS),
                    "outpost.layout": "NCHW", **FEATURE_PREPROCESSING}
        meta = {"name": name, "task": "keyword_spotting",
                "input_description": "49 frames x 10 MFCC coefficients (MLPerf Tiny KWS front end)",
                "reference": "mlcommons/tiny benchmark/training/keyword_spotting (DS-CNN)"}
    elif name == "ad_autoencoder":
        seed, shape = 4, (1, 640)
        model_ctor = arch.AdAutoencoder
        metadata = {"outpost.task": "anomaly", "outpost.labels": "",
                    "outpost.layout": "ANY", **FEATURE_PREPROCESSING}
        meta = {"name": name, "task": "anomaly",
                "input_description": "5 frames x 128 log-mel bins, flattened; "
                                     "anomaly score = mean squared error between input and output",
                "reference": "mlcommons/tiny benchmark/training/anomaly_detection (FC autoencoder)"}
    else:
        raise ValueError(name)
    log(f"[{name}] random init (seed {seed})")
    seed_everything(seed)
    model = model_ctor()
    # Synthetic features ~ N(0, 1): the scale of standardized MFCC / log-mel inputs.
    export.randomize_batchnorm(model, lambda g: torch.randn((256,) + shape[1:], generator=g), seed)
    example = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1000))
    meta.update({
        "weights": f"random (PyTorch default init, seed {seed}); BatchNorm gamma ~ U(0.5,1.5), "
                   f"beta ~ N(0,0.2), running stats measured on N(0,1) inputs",
        "input_source": f"N(0,1) from torch.Generator seed {seed + 1000}",
    })
    proto = export.export_onnx(model, example, metadata)
    return export.write_bundle(os.path.join(ZOO_DIR, name), proto, model, example, meta)


# --------------------------------------------------------------------------- large models

def synthetic_rgb_image(seed, size=224):
    """A smooth, deterministic uint8 RGB 'photo': a random 7x7 colour grid, bilinearly upsampled."""
    gen = torch.Generator().manual_seed(seed)
    grid = torch.randint(0, 256, (1, 3, 7, 7), generator=gen).float()
    img = torch.nn.functional.interpolate(grid, size=(size, size), mode="bilinear", align_corners=False)
    return img.round().clamp(0, 255).to(torch.uint8)


def imagenet_normalize(img_u8):
    scale = np.float32(float(fashion_data.VALUE_SCALE_STR))
    mean = np.array([float(v) for v in IMAGENET_MEAN.split(",")], np.float32).reshape(1, 3, 1, 1)
    std = np.array([float(v) for v in IMAGENET_STD.split(",")], np.float32).reshape(1, 3, 1, 1)
    x = img_u8.numpy().astype(np.float32) * scale
    return torch.from_numpy(((x - mean) / std).astype(np.float32))


def imagenet_labels():
    import torchvision
    labels = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    assert len(labels) == 1000 and not any("," in s for s in labels)
    return labels


def recipe_hash():
    """Identifies the code and library versions that produce the large models.

    export-large skips a model whose meta.json carries the current hash, so a
    benchmark script can call it every time; any edit here re-exports.
    """
    import hashlib
    import torchvision
    h = hashlib.sha256()
    for fname in ("zoo.py", "architectures.py", "export.py", "fashion_data.py"):
        with open(os.path.join(HERE, fname), "rb") as f:
            h.update(f.read())
    h.update(f"{torch.__version__} {torchvision.__version__} {onnx.__version__}".encode())
    return h.hexdigest()[:16]


def large_is_current(folder):
    try:
        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
        return (meta.get("recipe_hash") == recipe_hash()
                and os.path.getsize(os.path.join(folder, "model.onnx")) == meta["onnx_bytes"]
                and all(os.path.exists(os.path.join(folder, n)) for n in ("input.npy", "output.npy")))
    except (OSError, ValueError, KeyError):
        return False


def build_large(name, force=False):
    folder = os.path.join(GENERATED_DIR, name)
    if not force and large_is_current(folder):
        log(f"[{name}] up to date in {folder} (use --force to redo)")
        return None
    seed = {"mobilenet_v2": 5, "resnet18": 6}[name]
    start = time.time()
    seed_everything(seed)
    model = arch.torchvision_model(name)
    # torchvision's untrained BN has mean 0 / var 1; measure real statistics on a
    # few synthetic images so activations keep a trained-network scale.
    export.randomize_batchnorm(
        model, lambda g: imagenet_normalize(torch.randint(0, 256, (2, 3, 224, 224), generator=g,
                                                          dtype=torch.uint8)),
        seed, batches=2)
    example = imagenet_normalize(synthetic_rgb_image(seed + 1000))
    metadata = {
        "outpost.task": "classification",
        "outpost.labels": ",".join(imagenet_labels()),
        "outpost.layout": "NCHW",
        "outpost.color": "rgb",
        "outpost.value_scale": fashion_data.VALUE_SCALE_STR,
        "outpost.mean": IMAGENET_MEAN,
        "outpost.std": IMAGENET_STD,
    }
    proto = export.export_onnx(model, example, metadata)
    meta = {
        "name": name, "task": "classification", "recipe_hash": recipe_hash(),
        "weights": f"random: torchvision default init with seed {seed} (no pretrained weights "
                   f"offline); BatchNorm gamma ~ U(0.5,1.5), beta ~ N(0,0.2), running stats "
                   f"measured on random images. Predictions are meaningless; shapes, op mix "
                   f"and cost are those of the real network.",
        "input_source": f"synthetic smooth RGB image, seed {seed + 1000}, ImageNet-normalized",
    }
    result = export.write_bundle(folder, proto, model, example, meta)
    log(f"[{name}] exported in {time.time() - start:.1f} s: {result['onnx_bytes'] / 1e6:.1f} MB, "
        f"{result['macs'] / 1e6:.0f} M MACs, {result['params'] / 1e6:.2f} M params")
    return result


# --------------------------------------------------------------------------- verify

def verify(folder, evaluate=True):
    """Re-check a bundle: checker, shape inference, files agree with each other and meta.json.

    With evaluate=True the ONNX graph is also run by the NumPy interpreter
    (onnx_numpy.py) on input.npy and must reproduce output.npy.
    """
    proto = onnx.load(os.path.join(folder, "model.onnx"))
    export.check(proto)
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    x = np.load(os.path.join(folder, "input.npy"))
    y = np.load(os.path.join(folder, "output.npy"))
    in_dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    out_dims = [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
    assert x.dtype == np.float32 and list(x.shape) == in_dims == meta["input_shape"], folder
    assert y.dtype == np.float32 and list(y.shape) == out_dims == meta["output_shape"], folder
    assert np.all(np.isfinite(y)), folder
    assert export.count_macs(proto) == meta["macs"], folder
    props = {p.key: p.value for p in proto.metadata_props}
    for key in ("outpost.task", "outpost.labels", "outpost.layout", "outpost.color",
                "outpost.value_scale", "outpost.mean", "outpost.std"):
        assert key in props, f"{folder}: missing {key}"
    assert props["outpost.task"] == meta["task"]
    assert any(n.op_type == "BatchNormalization" for n in proto.graph.node), \
        f"{folder}: BatchNormalization nodes were fused away"
    err = ""
    if evaluate:
        diff = float(np.abs(onnx_numpy.run(proto, x) - y).max())
        tol = 2e-4 * max(1.0, float(np.abs(y).max()))
        assert diff <= tol, f"{folder}: ONNX graph output differs from output.npy by {diff}"
        err = f"  onnx-vs-torch {diff:.1e}"
    log(f"ok  {os.path.relpath(folder, HERE):32s} {os.path.getsize(os.path.join(folder, 'model.onnx')):>10,d} B  "
        f"{meta['macs']:>13,d} MACs  {meta['params']:>10,d} params"
        + (f"  acc {meta['test_correct']}/{meta['test_total']}" if "test_correct" in meta else "")
        + err)


def onnx_accuracy():
    """Test-set accuracy of the exported Fashion-MNIST graphs, evaluated in float64 by NumPy.

    Independent of PyTorch: preprocessing comes from the ONNX metadata strings.
    A count within a few images of test_correct (float32 vs float64 on
    borderline images) confirms that graph + metadata reproduce the model.
    """
    test_img, y_test = fashion_data.load_split("t10k")
    for name in FASHION_MODELS:
        folder = os.path.join(ZOO_DIR, name)
        proto = onnx.load(os.path.join(folder, "model.onnx"))
        props = {p.key: p.value for p in proto.metadata_props}
        x = fashion_data.normalize(test_img, props["outpost.mean"], props["outpost.std"])
        correct = 0
        for i in range(0, len(x), 250):
            correct += int((onnx_numpy.run(proto, x[i:i + 250]).argmax(1) == y_test[i:i + 250]).sum())
        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
        log(f"{name}: ONNX (NumPy, float64) {correct}/{len(x)}, "
            f"PyTorch float32 {meta['test_correct']}/{meta['test_total']}")


# --------------------------------------------------------------------------- CLI

def run_train(only, reuse_checkpoint=False):
    names = only or SMALL_MODELS
    for n in names:
        if n not in SMALL_MODELS:
            raise SystemExit(f"unknown small model {n!r}; choose from {SMALL_MODELS}")
    start = time.time()
    timings = {}
    data = FashionSet() if any(n in FASHION_MODELS for n in names) else None
    for n in names:
        if n in FASHION_MODELS:
            _, seconds = build_fashion(n, data, reuse_checkpoint)
            if seconds is not None:
                timings[n] = seconds
        else:
            build_random(n)
        verify(os.path.join(ZOO_DIR, n))
    for n, s in timings.items():
        log(f"training time {n}: {s:.0f} s")
    log(f"train: done in {time.time() - start:.0f} s")


def run_export_large(only, force):
    names = only or LARGE_MODELS
    for n in names:
        if n not in LARGE_MODELS:
            raise SystemExit(f"unknown large model {n!r}; choose from {LARGE_MODELS}")
    start = time.time()
    for n in names:
        build_large(n, force)
        # Structural checks only: this runs on demand from benchmark scripts and
        # must stay well under a minute. `zoo.py verify` also evaluates the graphs.
        verify(os.path.join(GENERATED_DIR, n), evaluate=False)
    log(f"export-large: done in {time.time() - start:.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train/export the committed small models into models/zoo/")
    p.add_argument("--only", nargs="+", metavar="NAME", help=f"subset of {SMALL_MODELS}")
    p.add_argument("--reuse-checkpoint", action="store_true",
                   help="load trained weights from models/generated/checkpoints/ if present "
                        "instead of training (re-export only)")
    p = sub.add_parser("export-large", help="export MobileNetV2/ResNet18 into models/generated/")
    p.add_argument("--only", nargs="+", metavar="NAME", help=f"subset of {LARGE_MODELS}")
    p.add_argument("--force", action="store_true", help="re-export even if up to date")
    p = sub.add_parser("all", help="train + export-large")
    p.add_argument("--force", action="store_true", help="re-export large models even if up to date")
    p = sub.add_parser("verify", help="re-check every bundle present in models/zoo and models/generated")
    p.add_argument("--accuracy", action="store_true",
                   help="also run the 10,000 Fashion-MNIST test images through the ONNX graphs "
                        "with the NumPy interpreter (slow: minutes)")
    args = parser.parse_args()

    torch.set_num_threads(NUM_THREADS)
    torch.use_deterministic_algorithms(True)

    if args.command == "train":
        run_train(args.only, args.reuse_checkpoint)
    elif args.command == "export-large":
        run_export_large(args.only, args.force)
    elif args.command == "all":
        run_train(None)
        run_export_large(None, args.force)
    elif args.command == "verify":
        for base in (ZOO_DIR, GENERATED_DIR):
            if os.path.isdir(base):
                for n in sorted(os.listdir(base)):
                    if os.path.exists(os.path.join(base, n, "model.onnx")):
                        verify(os.path.join(base, n))
        if args.accuracy:
            onnx_accuracy()


if __name__ == "__main__":
    main()
