"""ONNX export and the per-model bundle (model.onnx, input.npy, output.npy, meta.json).

Export rules shared by every model in the zoo:
  * opset 13, batch dimension fixed at 1 (dummy input [1, ...], no dynamic axes);
  * the model is in eval mode but exported with TrainingMode.PRESERVE: with the
    default TrainingMode.EVAL, torch's exporter runs its "eval peephole" pass,
    which fuses Conv+BatchNormalization. The Outpost compiler has its own BN
    folding pass and needs the BatchNormalization nodes to exercise it.
    Constant folding still runs (it never touches BN: BN has a runtime input);
  * Identity-of-initializer and Constant nodes become plain initializers;
  * doc strings are stripped (torch can embed source paths) so that the bytes
    depend only on the weights and the graph, and reruns are byte-identical;
  * onnx.checker (full check) and onnx.shape_inference must pass.
"""

import hashlib
import io
import json
import os
import warnings

import numpy as np
import onnx
import onnx.numpy_helper
import onnx.shape_inference
import torch

OPSET = 13


# --------------------------------------------------------------------------- export

def export_onnx(model, example_input, metadata):
    """Export `model` (eval mode) for a [1, ...] input; returns the checked onnx.ModelProto."""
    assert not model.training, "export in eval mode"
    assert example_input.shape[0] == 1, "batch dimension is fixed at 1"
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # PRESERVE + constant folding triggers a warning meant for models that are in
        # training mode; ours is in eval mode, so folding only sees inference constants.
        warnings.filterwarnings("ignore", message=".*constant folding.*")
        # Raised by the g.op() call in architectures._AsymmetricConvExport.symbolic,
        # which is still the documented way to write a symbolic in torch 1.13.
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*_graph_op.*")
        torch.onnx.export(
            model, example_input, buf,
            opset_version=OPSET,
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.PRESERVE,
            input_names=["input"],
            output_names=["output"],
        )
    proto = onnx.load_from_string(buf.getvalue())
    _materialize_identity_initializers(proto.graph)
    _constants_to_initializers(proto.graph)
    _set_static_output_shapes(proto.graph, model, example_input)
    _strip_doc_strings(proto)
    del proto.metadata_props[:]
    for key in sorted(metadata):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(metadata[key])
    check(proto)
    return proto


def check(proto):
    """onnx.checker (full, which includes strict shape inference) plus our own invariants."""
    onnx.checker.check_model(proto, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    for value in list(inferred.graph.input) + list(inferred.graph.output):
        dims = value.type.tensor_type.shape.dim
        if not dims or any(not d.HasField("dim_value") for d in dims):
            raise ValueError(f"{value.name}: shape is not fully static")
        if dims[0].dim_value != 1:
            raise ValueError(f"{value.name}: batch dimension is not 1")
    if proto.opset_import[0].version != OPSET:
        raise ValueError("unexpected opset")
    return inferred


def _materialize_identity_initializers(graph):
    """Replace Identity(initializer) with a copy of the initializer under the output name.

    torch deduplicates bit-identical parameters (e.g. BN gammas still at 1.0) and
    re-creates them with Identity nodes; a plain initializer per use is simpler
    for an importer and costs nothing for the small tensors involved.
    """
    inits = {i.name: i for i in graph.initializer}
    for node in [n for n in graph.node if n.op_type == "Identity" and n.input[0] in inits]:
        copy = onnx.TensorProto()
        copy.CopyFrom(inits[node.input[0]])
        copy.name = node.output[0]
        graph.initializer.append(copy)
        graph.node.remove(node)


def _constants_to_initializers(graph):
    """Turn Constant nodes (e.g. Clip's min/max for ReLU6) into initializers.

    Both forms are valid ONNX; with every constant tensor an initializer, an
    importer only has one place to look for weights and scalars.
    """
    for node in [n for n in graph.node if n.op_type == "Constant"]:
        if len(node.attribute) != 1 or node.attribute[0].name != "value":
            continue
        tensor = onnx.TensorProto()
        tensor.CopyFrom(node.attribute[0].t)
        tensor.name = node.output[0]
        graph.initializer.append(tensor)
        graph.node.remove(node)


def _set_static_output_shapes(graph, model, example_input):
    """Write the real (static) output shapes; torch leaves e.g. Gemm's batch dim symbolic."""
    with torch.no_grad():
        outs = model(example_input)
    outs = outs if isinstance(outs, (tuple, list)) else [outs]
    if len(outs) != len(graph.output):
        raise ValueError("output count mismatch")
    for value, tensor in zip(graph.output, outs):
        shape = value.type.tensor_type.shape
        del shape.dim[:]
        for d in tensor.shape:
            shape.dim.add().dim_value = int(d)
    del graph.value_info[:]  # let shape inference recompute intermediate shapes


def _strip_doc_strings(proto):
    proto.doc_string = ""
    proto.graph.doc_string = ""
    for node in proto.graph.node:
        node.doc_string = ""


# --------------------------------------------------------------------------- analysis

def count_macs(proto):
    """Multiply-accumulates of Conv, Gemm and MatMul nodes, from the inferred static shapes.

    Conv: N * M * prod(out spatial) * (C / group) * prod(kernel).
    Gemm/MatMul: M * K * N. Everything else (BN, pooling, adds, activations) is
    not counted, matching the usual "MACs" figure quoted for these networks.
    """
    inferred = onnx.shape_inference.infer_shapes(proto)
    g = inferred.graph
    shapes = {}
    for v in list(g.input) + list(g.value_info) + list(g.output):
        shapes[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    for init in g.initializer:
        shapes[init.name] = list(init.dims)
    macs = 0
    for name in [n for node in g.node if node.op_type in ("Conv", "Gemm", "MatMul")
                 for n in list(node.input[:2]) + [node.output[0]]]:
        if name not in shapes or not shapes[name] or 0 in shapes[name]:
            raise ValueError(f"count_macs: no static shape for {name}")
    for node in g.node:
        if node.op_type == "Conv":
            w = shapes[node.input[1]]
            out = shapes[node.output[0]]
            macs += int(np.prod(out)) * int(np.prod(w[1:]))
        elif node.op_type == "Gemm":
            attrs = {a.name: a.i for a in node.attribute if a.type == onnx.AttributeProto.INT}
            a, b = shapes[node.input[0]], shapes[node.input[1]]
            m, k = (a[1], a[0]) if attrs.get("transA", 0) else (a[0], a[1])
            n = b[0] if attrs.get("transB", 0) else b[1]
            macs += m * k * n
        elif node.op_type == "MatMul":
            a, out = shapes[node.input[0]], shapes[node.output[0]]
            macs += int(np.prod(out)) * a[-1]
    return macs


def op_histogram(proto):
    hist = {}
    for node in proto.graph.node:
        hist[node.op_type] = hist.get(node.op_type, 0) + 1
    return dict(sorted(hist.items()))


# --------------------------------------------------------------------------- bundle

def write_bundle(folder, proto, model, example_input, meta):
    """Write model.onnx, input.npy, output.npy and meta.json into `folder`.

    output.npy is PyTorch's float32 eval-mode output for input.npy: the golden
    reference the C++ runtime is compared against.
    """
    os.makedirs(folder, exist_ok=True)
    x = example_input.detach().numpy().astype(np.float32)
    with torch.no_grad():
        # C order whatever strides the output has: the C++ .npy reader refuses Fortran order.
        y = np.ascontiguousarray(model(example_input).numpy(), dtype=np.float32)
    data = proto.SerializeToString()
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(data)
    np.save(os.path.join(folder, "input.npy"), x)
    np.save(os.path.join(folder, "output.npy"), y)

    out_dims = [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
    if list(y.shape) != out_dims:
        raise ValueError(f"PyTorch output {list(y.shape)} != ONNX output {out_dims}")
    full = {
        "name": meta["name"],
        "task": meta["task"],
        "input_name": proto.graph.input[0].name,
        "input_shape": list(x.shape),
        "output_name": proto.graph.output[0].name,
        "output_shape": list(y.shape),
        "macs": count_macs(proto),
        "params": int(sum(p.numel() for p in model.parameters())),
        "onnx_bytes": len(data),
        "onnx_sha256": hashlib.sha256(data).hexdigest(),
        "opset": OPSET,
        "ops": op_histogram(proto),
        "metadata_props": {p.key: p.value for p in proto.metadata_props},
    }
    full.update({k: v for k, v in meta.items() if k not in full})
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(full, f, indent=2)
        f.write("\n")
    return full


# --------------------------------------------------------------------------- random models

@torch.no_grad()
def randomize_batchnorm(model, make_batch, seed, batches=4):
    """Give every BatchNorm non-trivial statistics and affine parameters.

    gamma ~ U(0.5, 1.5) and beta ~ N(0, 0.2) are drawn at random; running
    mean/var are then measured by forward passes in train mode over seeded
    synthetic batches (momentum=None gives the plain average). The result is a
    BN that really shifts and scales every channel, so folding it into the
    preceding Conv/Gemm is a real test, while activations stay O(1) as in a
    trained network (default 0/1 statistics of an untrained model would let
    them grow layer after layer).
    """
    gen = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.weight.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
        bn.bias.copy_(torch.randn(bn.num_features, generator=gen) * 0.2)
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    for _ in range(batches):
        model(make_batch(gen))
    model.eval()
    for bn in bns:
        bn.momentum = 0.1
