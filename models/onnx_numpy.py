"""A tiny NumPy interpreter for the ONNX ops the zoo uses, as an independent check.

There is no onnxruntime on the build machines. This evaluates model.onnx in
float64 straight from the graph (attributes, pads, group, Gemm transposes...)
so that `zoo.py verify` can compare it with PyTorch's output.npy: a mismatch
means the exported graph does not compute what the PyTorch model computes.
Written for clarity, not speed; only the ops below are supported.
"""

import numpy as np
import onnx
import onnx.numpy_helper
from numpy.lib.stride_tricks import sliding_window_view


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pad_nchw(x, pads, value=0.0):
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _windows(x, kernel, strides):
    """[N, C, H, W] -> [N, C, OH, OW, kh, kw] view of the sliding windows."""
    win = sliding_window_view(x, tuple(kernel), axis=(2, 3))
    return win[:, :, ::strides[0], ::strides[1]]


def _conv(x, w, b, a):
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("dilated Conv")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("auto_pad")
    group = a.get("group", 1)
    x = _pad_nchw(x, a.get("pads", [0, 0, 0, 0]))
    win = _windows(x, w.shape[2:], a.get("strides", [1, 1]))
    n, c, oh, ow, kh, kw = win.shape
    m = w.shape[0]
    win = win.reshape(n, group, c // group, oh, ow, kh, kw)
    wg = w.reshape(group, m // group, c // group, kh, kw)
    y = np.einsum("ngchwij,gmcij->ngmhw", win, wg, optimize=True).reshape(n, m, oh, ow)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def _maxpool(x, a):
    if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("MaxPool ceil_mode/dilations")
    x = _pad_nchw(x, a.get("pads", [0, 0, 0, 0]), value=-np.inf)
    return _windows(x, a["kernel_shape"], a.get("strides", [1, 1])).max(axis=(-2, -1))


def _gemm(x, w, b, a):
    x = x.T if a.get("transA", 0) else x
    w = w.T if a.get("transB", 0) else w
    y = a.get("alpha", 1.0) * (x @ w)
    if b is not None:
        y = y + a.get("beta", 1.0) * b
    return y


def _batchnorm(x, scale, bias, mean, var, a):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    inv = scale / np.sqrt(var + a.get("epsilon", 1e-5))
    return (x - mean.reshape(shape)) * inv.reshape(shape) + bias.reshape(shape)


def _slice(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[int(axis)] = slice(int(start), int(end), int(step))  # Python clamps like ONNX
    return x[tuple(index)]


def run(model, x):
    """Evaluate `model` (onnx.ModelProto) on input array x; returns the first output (float64)."""
    g = model.graph
    env = {i.name: onnx.numpy_helper.to_array(i).astype(np.float64) for i in g.initializer}
    env[g.input[0].name] = np.asarray(x, dtype=np.float64)
    for node in g.node:
        a = _attrs(node)
        ins = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Conv":
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "BatchNormalization":
            y = _batchnorm(*ins[:5], a)
        elif op == "Relu":
            y = np.maximum(ins[0], 0.0)
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
            y = np.clip(ins[0], lo, hi)
        elif op == "MaxPool":
            y = _maxpool(ins[0], a)
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "Mul":
            y = ins[0] * ins[1]
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-ins[0]))
        elif op == "Slice":
            y = _slice(ins[0], *ins[1:])
        elif op == "Concat":
            y = np.concatenate(ins, axis=a["axis"])
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif op == "Reshape":
            shape = [int(d) for d in ins[1]]  # 0 = keep that input dimension
            y = ins[0].reshape([ins[0].shape[i] if d == 0 else d for i, d in enumerate(shape)])
        elif op == "Gemm":
            y = _gemm(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "Identity":
            y = ins[0]
        elif op == "Constant":
            y = onnx.numpy_helper.to_array(a["value"]).astype(np.float64)
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y
    return env[g.output[0].name]
