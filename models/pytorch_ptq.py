#!/usr/bin/python3
"""PyTorch's own eager-mode post-training static quantization of a zoo model: the peer
Outpost's int8 accuracy is compared with (docs/quantization.md).

    /usr/bin/python3 models/pytorch_ptq.py fashion_cnn --engine onednn --calib 1000

Weights come from the model's committed ONNX file (its initializers carry the PyTorch
state_dict names), so no checkpoint or retraining is needed. The recipe is PyTorch's eager
PTQ tutorial: fuse Conv+BN(+ReLU) and Linear+ReLU, QuantStub/DeQuantStub around the network,
FloatFunctional for residual adds, the engine's default qconfig (onednn: per-channel weights,
histogram observer; qnnpack: per-tensor weights), calibrate on N training images evenly
spaced over the set (image i * 60000 // N: the images `outpost quantize --calib-limit N` picks), convert, evaluate on all 10k test
images. Prints one JSON line.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from onnx import numpy_helper  # noqa: E402

import architectures as arch  # noqa: E402
import fashion_data  # noqa: E402

CONSTRUCTORS = {"fashion_cnn": arch.FashionCNN, "fashion_mobilenet": arch.FashionMobileNet}


def load_weights_from_onnx(model, onnx_path):
    """Copies the initializers of an ONNX file exported from `model`'s class into `model`
    (they carry the state_dict names), puts it in eval mode; returns the ONNX metadata."""
    proto = onnx.load(onnx_path)
    inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    state = model.state_dict()
    for key in state:
        if key.endswith("num_batches_tracked"):
            continue
        if key not in inits:
            raise SystemExit(f"{onnx_path}: ONNX file lacks weight {key}")
        state[key] = torch.from_numpy(inits[key].copy())
    model.load_state_dict(state)
    model.eval()
    return {p.key: p.value for p in proto.metadata_props}


def load_from_onnx(name):
    """The float model with the weights of models/zoo/NAME/model.onnx, and its metadata."""
    model = CONSTRUCTORS[name]()
    meta = load_weights_from_onnx(model, os.path.join(HERE, "zoo", name, "model.onnx"))
    return model, meta


class _ResidualForward:
    """InvertedResidual.forward with the add done by a FloatFunctional (quantizable)."""

    @staticmethod
    def forward(self, x):
        y = self.block(x)
        return self.skip_add.add(x, y) if self.use_residual else y


def make_quantizable(model):
    """Rewrites the float model into eager-mode quantizable form (same float function)."""
    for module in model.modules():
        if isinstance(module, arch.InvertedResidual):
            module.skip_add = torch.nn.quantized.FloatFunctional()
            module.forward = _ResidualForward.forward.__get__(module)
    # MapToDense is a Linear subclass that eager quantization would not recognize; in eval
    # mode it is exactly Flatten + Linear, spliced into its Sequential so that a following
    # ReLU can be fused with the Linear.
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        if not any(isinstance(c, arch.MapToDense) for c in seq):
            continue
        layers = []
        for child in seq:
            if isinstance(child, arch.MapToDense):
                linear = nn.Linear(child.in_features, child.out_features)
                linear.load_state_dict(child.state_dict())
                layers += [nn.Flatten(), linear]
            else:
                layers.append(child)
        for key in list(seq._modules):
            del seq._modules[key]
        for i, layer in enumerate(layers):
            seq.add_module(str(i), layer)
    fuse(model)
    return nn.Sequential(torch.quantization.QuantStub(), model, torch.quantization.DeQuantStub())


def fuse(model):
    """Fuses every Conv+BN(+ReLU) and Linear+ReLU run inside Sequential containers."""
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        groups, i = [], 0
        while i < len(names):
            cur = seq._modules[names[i]]
            nxt = seq._modules[names[i + 1]] if i + 1 < len(names) else None
            after = seq._modules[names[i + 2]] if i + 2 < len(names) else None
            if isinstance(cur, nn.Conv2d) and isinstance(nxt, nn.BatchNorm2d):
                if isinstance(after, nn.ReLU):
                    groups.append(names[i:i + 3])
                    i += 3
                else:
                    groups.append(names[i:i + 2])
                    i += 2
                continue
            if isinstance(cur, nn.Linear) and isinstance(nxt, nn.ReLU):
                groups.append(names[i:i + 2])
                i += 2
                continue
            i += 1
        if groups:
            torch.quantization.fuse_modules(seq, groups, inplace=True)


def patch_relu6(qmodel):
    """Makes every quantized ReLU6 read a contiguous copy of its input.

    With the qnnpack engine, PyTorch 1.13's quantized ReLU6/hardtanh returns wrong values for a
    channels-last input (max error 6.0 on random data, 0 when the same tensor is contiguous), and
    qnnpack convolutions return channels-last tensors: MobileNet-style models then collapse to
    chance. The copy changes no quantization parameter, only the memory layout.
    """
    for module in qmodel.modules():
        if type(module).__name__ == "ReLU6" and "quantized" in type(module).__module__:
            forward = module.forward
            module.forward = lambda x, forward=forward: forward(x.contiguous())


def accuracy(model, x, y, batch=500):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(torch.from_numpy(x[i:i + batch]))
            correct += int((out.argmax(1).numpy() == y[i:i + batch]).sum())
    return correct


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(CONSTRUCTORS))
    parser.add_argument("--engine", choices=["onednn", "qnnpack"], default="onednn")
    parser.add_argument("--calib", type=int, default=1000,
                        help="calibration images, evenly spaced over the training set")
    parser.add_argument("--contiguous-relu6", action="store_true",
                        help="work around PyTorch 1.13's qnnpack ReLU6, which reads channels-last "
                             "tensors (what qnnpack convolutions return) as if contiguous")
    args = parser.parse_args()
    torch.set_num_threads(1)

    model, meta = load_from_onnx(args.model)
    train_img, _ = fashion_data.load_split("train")
    test_img, y_test = fashion_data.load_split("t10k")
    mean, std = meta["outpost.mean"], meta["outpost.std"]
    picked = [i * len(train_img) // args.calib for i in range(args.calib)]
    x_calib = fashion_data.normalize(train_img[picked], mean, std)
    x_test = fashion_data.normalize(test_img, mean, std)

    float_correct = accuracy(model, x_test, y_test)

    torch.backends.quantized.engine = args.engine
    qmodel = make_quantizable(model)
    qmodel.qconfig = torch.quantization.get_default_qconfig(args.engine)
    torch.quantization.prepare(qmodel, inplace=True)
    start = time.time()
    with torch.no_grad():
        for i in range(0, len(x_calib), 100):
            qmodel(torch.from_numpy(x_calib[i:i + 100]))
    torch.quantization.convert(qmodel, inplace=True)
    calib_seconds = time.time() - start
    if args.contiguous_relu6:
        patch_relu6(qmodel)
    int8_correct = accuracy(qmodel, x_test, y_test)

    print(json.dumps({
        "model": args.model, "engine": args.engine, "calibration_images": args.calib,
        "contiguous_relu6": args.contiguous_relu6,
        "test_images": int(len(y_test)),
        "float_correct": float_correct, "int8_correct": int8_correct,
        "float_accuracy": float_correct / len(y_test), "int8_accuracy": int8_correct / len(y_test),
        "calibration_seconds": round(calib_seconds, 2),
    }))


if __name__ == "__main__":
    main()
