#!/usr/bin/python3
"""A quantization-aware ONNX model for the compiler's QDQ tests: fashion_cnn quantized by
PyTorch and exported with QuantizeLinear / DequantizeLinear, plus ONNX's own answer for it.

    /usr/bin/python3 models/qdq_fashion_cnn.py [--out tests/compiler/data/fashion_cnn_qdq]

What it writes (committed, so the C++ tests need no Python):
  model.onnx      PyTorch eager post-training static quantization of models/zoo/fashion_cnn
                  (onednn engine: per-channel int8 weights, uint8 activations, int32 biases),
                  exported by torch.onnx at opset 13, with the zoo model's outpost.* metadata.
  input.npy       [N, 1, 28, 28] float32: the first N Fashion-MNIST test images, preprocessed.
  reference.npy   [N, 10] float32: the model's outputs for them under ONNX semantics, computed
                  by evaluate() below straight from the graph.

onnx 1.12 (Debian 12) has no onnx.reference.ReferenceEvaluator, so evaluate() is a small
interpreter that follows the operator definitions: QuantizeLinear divides in float32 and
rounds half to even (numpy.rint), DequantizeLinear is (x - zero_point) * scale in float32,
Conv / Gemm / MaxPool are those of onnx_numpy.py computed in float64 and rounded to float32
(ONNX computes them in float32; the difference can move a value across a rounding boundary,
which is why the tests allow one quantization step). The script also reports how far
PyTorch's own quantized kernels are from that reference, as a yardstick.
"""

import argparse
import os
import sys

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
import onnx_numpy  # noqa: E402
import pytorch_ptq  # noqa: E402

DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "tests", "compiler", "data", "fashion_cnn_qdq")
ENGINE = "onednn"


def quantizable(model):
    """fashion_cnn in eager-quantizable form, same float function.

    MapToDense becomes Flatten + Linear and Dropout (an identity in eval mode) goes. Conv+BN+ReLU
    are fused; Linear+ReLU is not, because torch 1.13 cannot export quantized::linear_relu: its
    ReLU exports as DequantizeLinear -> Relu -> QuantizeLinear with the Linear's output
    parameters, a pattern the compiler folds into the layer's clamp.
    """
    layers = []
    for child in model.classifier:
        if isinstance(child, arch.MapToDense):
            linear = nn.Linear(child.in_features, child.out_features)
            linear.load_state_dict(child.state_dict())
            layers += [nn.Flatten(), linear]
        elif not isinstance(child, nn.Dropout):
            layers.append(child)
    model.classifier = nn.Sequential(*layers)
    torch.quantization.fuse_modules(
        model.features, [["0", "1", "2"], ["4", "5", "6"], ["8", "9", "10"]], inplace=True)
    q = nn.Sequential(torch.quantization.QuantStub(), model, torch.quantization.DeQuantStub())
    q.eval()
    return q


def quantize_linear(x, scale, zp, axis):
    info = np.iinfo(zp.dtype)
    shape = [1] * x.ndim
    if scale.size > 1:
        shape[axis] = -1
    y = np.rint(x.astype(np.float32) / scale.astype(np.float32).reshape(shape))
    y = y + zp.astype(np.float32).reshape(shape)
    return np.clip(y, info.min, info.max).astype(zp.dtype)


def dequantize_linear(x, scale, zp, axis):
    shape = [1] * x.ndim
    if scale.size > 1:
        shape[axis] = -1
    d = x.astype(np.int64) - zp.astype(np.int64).reshape(shape)
    return d.astype(np.float32) * scale.astype(np.float32).reshape(shape)


def evaluate(model, x):
    """The graph's first output for input x, under ONNX semantics (see the module doc)."""
    g = model.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    env[g.input[0].name] = x.astype(np.float32)
    types = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64}
    for node in g.node:
        a = onnx_numpy._attrs(node)
        ins = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "ConstantOfShape":
            value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            y = np.full([int(d) for d in ins[0]], value.reshape(-1)[0], dtype=value.dtype)
        elif op == "Cast":
            y = ins[0].astype(types[a["to"]])
        elif op == "QuantizeLinear":
            zp = ins[2] if len(ins) > 2 and ins[2] is not None else np.zeros(1, np.uint8)
            y = quantize_linear(ins[0], ins[1], zp, a.get("axis", 1))
        elif op == "DequantizeLinear":
            zp = ins[2] if len(ins) > 2 and ins[2] is not None else np.zeros(1, ins[0].dtype)
            y = dequantize_linear(ins[0], ins[1], zp, a.get("axis", 1))
        elif op == "Conv":
            y = onnx_numpy._conv(ins[0].astype(np.float64), ins[1].astype(np.float64),
                                 None if len(ins) < 3 else ins[2].astype(np.float64), a)
        elif op == "Gemm":
            y = onnx_numpy._gemm(ins[0].astype(np.float64), ins[1].astype(np.float64),
                                 None if len(ins) < 3 else ins[2].astype(np.float64), a)
        elif op == "MaxPool":
            y = onnx_numpy._maxpool(ins[0], a)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif op == "Identity":
            y = ins[0]
        else:
            raise NotImplementedError(op)
        if y.dtype == np.float64:
            y = y.astype(np.float32)
        env[node.output[0]] = y
    return env[g.output[0].name]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--calib", type=int, default=500, help="calibration images (first N)")
    parser.add_argument("--images", type=int, default=20, help="test images in the reference")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    model, meta = pytorch_ptq.load_from_onnx("fashion_cnn")
    mean, std = meta["outpost.mean"], meta["outpost.std"]
    train_img, _ = fashion_data.load_split("train")
    test_img, _ = fashion_data.load_split("t10k")
    x_calib = fashion_data.normalize(train_img[:args.calib], mean, std)
    x_test = fashion_data.normalize(test_img[:args.images], mean, std)

    torch.backends.quantized.engine = ENGINE
    q = quantizable(model)
    q.qconfig = torch.quantization.get_default_qconfig(ENGINE)
    torch.quantization.prepare(q, inplace=True)
    with torch.no_grad():
        for i in range(0, len(x_calib), 100):
            q(torch.from_numpy(x_calib[i:i + 100]))
    torch.quantization.convert(q, inplace=True)

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.onnx")
    torch.onnx.export(q, torch.from_numpy(x_test[:1]), path, opset_version=13,
                      input_names=["input"], output_names=["output"])
    proto = onnx.load(path)
    proto.graph.name = "fashion_cnn_qdq"
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, path)

    reference = np.concatenate([evaluate(proto, x_test[i:i + 1]) for i in range(len(x_test))])
    np.save(os.path.join(args.out, "input.npy"), x_test.astype(np.float32))
    np.save(os.path.join(args.out, "reference.npy"), reference.astype(np.float32))

    # PyTorch's quantized kernels against the ONNX reference, in output quantization steps.
    with torch.no_grad():
        torch_out = q(torch.from_numpy(x_test)).numpy()
    last = [n for n in proto.graph.node if n.op_type == "DequantizeLinear"][-1]
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t)
              for n in proto.graph.node if n.op_type == "Constant"}
    step = float(consts[last.input[1]]) if last.input[1] in consts else float("nan")
    diff = np.abs(torch_out - reference) / step
    print(f"wrote {args.out}: {os.path.getsize(path)} bytes of ONNX, {len(x_test)} images; "
          f"output step {step:.6g}; PyTorch vs ONNX semantics: max {diff.max():.2f} steps, "
          f"{int((diff > 0.5).sum())} of {diff.size} elements differ; argmax agreement "
          f"{int((torch_out.argmax(1) == reference.argmax(1)).sum())}/{len(x_test)}")


if __name__ == "__main__":
    main()
