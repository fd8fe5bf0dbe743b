#!/usr/bin/python3
"""Knowledge distillation: a narrower FashionCNN student learns from the zoo's fashion_cnn.

    /usr/bin/python3 models/distill.py --widths 22 44 44 --fc 128 --out /tmp/student \\
        --compare-scratch --json /tmp/student/figures.json
    /usr/bin/python3 models/distill.py --no-teacher ...   # the same student, no teacher
    /usr/bin/python3 models/distill.py --smoke --out DIR  # seconds: 512 images, 1 epoch

The teacher is the committed models/zoo/fashion_cnn/model.onnx, loaded back into
the PyTorch FashionCNN (never retrained) and checked against the bundle's
output.npy. The student has the same layout with fewer channels; it is trained
with the zoo's recipe (models/training.py: augmentation, one-cycle SGD, seed,
epochs) on Hinton's loss

    alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
    + (1 - alpha) * hard-label cross-entropy (the recipe's, label smoothing 0.1)

The T^2 keeps the soft term's gradients on the scale of the hard term's as T
changes. With --no-teacher (or the --compare-scratch baseline) alpha is 0: the
exact zoo recipe, from the same initial weights and the same batches, so the
teacher is the only difference. The student is exported like the zoo models
(opset 13, input/output names and metadata of fashion_cnn) as a bundle in
--out: model.onnx, input.npy, output.npy, meta.json.
"""

import argparse
import json
import os
import sys
import time

# Before torch loads OpenMP; see zoo.py.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.numpy_helper  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import architectures as arch  # noqa: E402
import export  # noqa: E402
import training  # noqa: E402
import zoo  # noqa: E402

TEACHER_DIR = os.path.join(zoo.ZOO_DIR, "fashion_cnn")
_, ZOO_EPOCHS, ZOO_SEED = zoo.FASHION_MODELS["fashion_cnn"]


def log(msg):
    print(msg, flush=True)


def fashion_cnn_macs(widths, hidden, num_classes=10):
    """Conv and FC multiply-accumulates, counted like export.count_macs (batch 1, 28x28)."""
    c1, c2, c3 = widths
    return (28 * 28 * c1 * 1 * 9 + 14 * 14 * c2 * c1 * 9 + 7 * 7 * c3 * c2 * 9
            + c3 * 7 * 7 * hidden + hidden * num_classes)


# --------------------------------------------------------------------------- teacher

def load_teacher(folder=TEACHER_DIR):
    """FashionCNN with the weights and BN statistics of the zoo's ONNX graph.

    The exporter keeps PyTorch's parameter names as initializer names, so each
    initializer maps to the state_dict entry of the same name; the widths come
    from the initializer shapes. Any missing, extra or misshapen tensor, or an
    output that differs from the bundle's output.npy, stops the script.
    """
    proto = onnx.load(os.path.join(folder, "model.onnx"))
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    try:
        widths = tuple(int(inits[f"features.{i}.weight"].shape[0]) for i in (0, 4, 8))
        hidden = int(inits["classifier.1.weight"].shape[0])
    except KeyError as e:
        raise SystemExit(f"{folder}/model.onnx: no initializer {e}; not a FashionCNN export")
    model = arch.FashionCNN(widths=widths, hidden=hidden)
    state = model.state_dict()
    wanted = {k for k in state if not k.endswith("num_batches_tracked")}
    if wanted != set(inits):
        raise SystemExit(f"{folder}/model.onnx: initializers do not match FashionCNN{widths}: "
                         f"missing {sorted(wanted - set(inits))}, extra {sorted(set(inits) - wanted)}")
    for name in wanted:
        if tuple(state[name].shape) != inits[name].shape:
            raise SystemExit(f"{name}: ONNX shape {inits[name].shape}, "
                             f"FashionCNN {tuple(state[name].shape)}")
        state[name] = torch.from_numpy(inits[name].astype(np.float32).copy())
    model.load_state_dict(state)
    model.eval()

    x = np.load(os.path.join(folder, "input.npy"))
    want = np.load(os.path.join(folder, "output.npy"))
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy()
    diff = float(np.abs(got - want).max())
    if not diff <= 1e-4 * max(1.0, float(np.abs(want).max())):
        raise SystemExit(f"teacher loaded from {folder} differs from its output.npy by {diff:.3g}: "
                         f"the ONNX-to-PyTorch weight mapping is wrong")
    props = {p.key: p.value for p in proto.metadata_props}
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    log(f"teacher: {folder}/model.onnx, widths {list(widths)} fc {hidden}, "
        f"reproduces output.npy (max diff {diff:.1e})")
    return model, props, meta


# --------------------------------------------------------------------------- training

def kd_loss(teacher, temperature, alpha):
    """Hinton et al. (2015): soft targets at temperature T scaled by T^2, plus hard labels."""
    # The teacher stays in eval mode (BN running statistics, no dropout) except its
    # MapToDense, whose train mode is the same maths as a convolution: on CPU
    # several times faster than the eval-mode GEMM, and this forward runs every step.
    teacher.eval()
    teacher.classifier[1].train()

    def loss(logits, labels, inputs):
        with torch.no_grad():
            soft_targets = F.softmax(teacher(inputs) / temperature, dim=1)
        soft = F.kl_div(F.log_softmax(logits / temperature, dim=1), soft_targets,
                        reduction="batchmean") * temperature ** 2
        return alpha * soft + (1.0 - alpha) * training.hard_label_loss(logits, labels)
    return loss


def train_student(args, x_train, y_train, teacher):
    """Seeded construction, so the distilled and the scratch student start from the same weights."""
    zoo.seed_everything(args.seed)
    student = arch.FashionCNN(widths=tuple(args.widths), hidden=args.fc)
    loss_fn = kd_loss(teacher, args.temperature, args.alpha) if teacher is not None else None
    if teacher is not None:
        teacher.to(memory_format=torch.channels_last)  # like the student's batches
    seconds = training.train_classifier(student, x_train, y_train, epochs=args.epochs,
                                        seed=args.seed, loss_fn=loss_fn, log=log)
    if teacher is not None:
        teacher.to(memory_format=torch.contiguous_format)
        teacher.eval()
    return student, seconds


def accuracy_entry(correct, total, seconds=None):
    entry = {"test_correct": correct, "test_total": total, "test_accuracy": round(correct / total, 6)}
    if seconds is not None:
        entry["train_seconds"] = round(seconds, 1)
    return entry


# --------------------------------------------------------------------------- export

def export_student(folder, student, data, x_test_used, props, figures):
    """The zoo's export (export.py) with fashion_cnn's metadata, then zoo.verify's checks."""
    example = torch.from_numpy(data.x_test[0:1].copy())  # t10k image 0, as in the zoo
    proto = export.export_onnx(student, example, props)
    kind = "kd" if "kd" in figures else "scratch"
    meta = {
        "name": "fashion_cnn_student",
        "task": "classification",
        **{k: v for k, v in figures[kind].items() if k != "train_seconds"},
        "test_evaluation": f"PyTorch eval mode, float32, batch {figures['recipe']['eval_batch']}, "
                           f"argmax of logits, first {x_test_used} t10k images",
        "input_source": "Fashion-MNIST t10k image 0",
        "input_label": int(data.y_test[0]),
        "training": {**figures["recipe"], "distilled": kind == "kd"},
        "student": {"widths": figures["student"]["widths"], "fc": figures["student"]["fc"]},
    }
    result = export.write_bundle(folder, proto, student, example, meta)
    if result["macs"] != figures["student"]["macs"]:
        raise SystemExit(f"exported graph has {result['macs']} MACs, "
                         f"expected {figures['student']['macs']}")
    zoo.verify(folder)
    return result


# --------------------------------------------------------------------------- CLI

def print_table(figures):
    s, t = figures["student"], figures["teacher"]

    def acc(entry):
        return f"{entry['test_correct']}/{entry['test_total']} = {100 * entry['test_accuracy']:.2f} %"
    rows = [("teacher (zoo fashion_cnn)", f"{t['widths']} fc {t['fc']}", t["macs"], t["params"],
             acc(t), "")]
    for kind, label in (("kd", "student, distilled"), ("scratch", "student, from scratch")):
        if kind in figures:
            e = figures[kind]
            rows.append((label, f"{s['widths']} fc {s['fc']}", s["macs"], s["params"], acc(e),
                         f"{e['train_seconds']:.0f} s"))
    log("")
    log(f"{'model':26s} {'widths':20s} {'MACs':>11s} {'params':>9s}  {'test accuracy':24s} train")
    for name, widths, macs, params, a, secs in rows:
        log(f"{name:26s} {widths:20s} {macs:>11,d} {params:>9,d}  {a:24s} {secs}")
    log(f"student MACs are {100 * s['macs'] / t['macs']:.1f} % of the teacher's")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs=3, default=[22, 44, 44], metavar="C",
                        help="the student's three conv widths (teacher: 32 64 64)")
    parser.add_argument("--fc", type=int, default=128, help="the student's hidden FC width")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="bundle folder: DIR/model.onnx, input.npy, output.npy, meta.json")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    parser.add_argument("--no-teacher", action="store_true",
                        help="train the student from scratch (the zoo recipe, no distillation)")
    parser.add_argument("--compare-scratch", action="store_true",
                        help="also train the student from scratch and report both")
    parser.add_argument("--temperature", type=float, default=4.0)
    parser.add_argument("--alpha", type=float, default=0.9,
                        help="weight of the soft-target term (1 - alpha on the hard labels)")
    parser.add_argument("--epochs", type=int, default=ZOO_EPOCHS)
    parser.add_argument("--seed", type=int, default=ZOO_SEED)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; the trained weights depend on it")
    parser.add_argument("--train-images", type=int, default=60000)
    parser.add_argument("--test-images", type=int, default=10000)
    parser.add_argument("--eval-batch", type=int, default=1,
                        help="test batch size; 1 (the zoo's figures) is exactly the exported "
                             "graph's arithmetic, larger is much faster")
    parser.add_argument("--smoke", action="store_true",
                        help="a quick check: 512 training images, 1 epoch, 1000 test images "
                             "evaluated in batches of 250")
    args = parser.parse_args()
    if args.smoke:
        args.train_images, args.epochs, args.test_images, args.eval_batch = 512, 1, 1000, 250
    if args.no_teacher and args.compare_scratch:
        parser.error("--compare-scratch needs the teacher")
    if min(args.widths + [args.fc]) < 1:
        parser.error("widths must be positive")

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    start = time.time()

    teacher, props, teacher_meta = load_teacher()
    data = zoo.FashionSet()
    if (data.mean, data.std) != (props["outpost.mean"], props["outpost.std"]):
        raise SystemExit(f"training-set mean/std {data.mean}/{data.std} differ from the teacher's "
                         f"metadata {props['outpost.mean']}/{props['outpost.std']}")
    x_train, y_train = data.x_train[:args.train_images], data.y_train[:args.train_images]
    x_test, y_test = data.x_test[:args.test_images], data.y_test[:args.test_images]

    teacher_widths = [m.out_channels for m in teacher.features if isinstance(m, torch.nn.Conv2d)]
    teacher_fc = teacher.classifier[1].out_features
    figures = {
        "student": {"widths": list(args.widths), "fc": args.fc,
                    "macs": fashion_cnn_macs(args.widths, args.fc),
                    "params": arch.count_params(arch.FashionCNN(widths=args.widths, hidden=args.fc))},
        "teacher": {"widths": teacher_widths, "fc": teacher_fc,
                    "macs": fashion_cnn_macs(teacher_widths, teacher_fc),
                    "params": arch.count_params(teacher),
                    **accuracy_entry(training.evaluate(teacher, x_test, y_test, args.eval_batch),
                                      len(y_test))},
        "recipe": {"epochs": args.epochs, "seed": args.seed, "threads": args.threads,
                   "train_images": len(y_train), "test_images": len(y_test),
                   "eval_batch": args.eval_batch,
                   "temperature": args.temperature, "alpha": args.alpha,
                   "optimizer": teacher_meta["training"]["optimizer"]},
    }
    if figures["teacher"]["macs"] != teacher_meta["macs"]:
        raise SystemExit(f"MAC count {figures['teacher']['macs']} disagrees with the zoo's "
                         f"{teacher_meta['macs']}")
    s = figures["student"]
    log(f"student: widths {s['widths']} fc {s['fc']}: {s['macs']:,d} MACs, {s['params']:,d} params "
        f"({100 * s['macs'] / figures['teacher']['macs']:.1f} % of the teacher's MACs)")
    log(f"teacher test accuracy {figures['teacher']['test_correct']}/{len(y_test)}")

    runs = [("scratch", None)] if args.no_teacher else [("kd", teacher)]
    if args.compare_scratch:
        runs.append(("scratch", None))
    exported = None
    for kind, t in runs:
        log(f"[{kind}] training {args.epochs} epochs on {len(y_train)} images (seed {args.seed}"
            + (f", T {args.temperature}, alpha {args.alpha})" if t is not None else ")"))
        student, seconds = train_student(args, x_train, y_train, t)
        correct = training.evaluate(student, x_test, y_test, args.eval_batch)
        figures[kind] = accuracy_entry(correct, len(y_test), seconds)
        log(f"[{kind}] trained in {seconds:.0f} s, test accuracy {correct}/{len(y_test)}")
        if exported is None:
            exported = student
    export_student(args.out, exported, data, len(y_test), props, figures)
    figures["onnx"] = os.path.join(args.out, "model.onnx")
    figures["wall_seconds"] = round(time.time() - start, 1)

    print_table(figures)
    log(f"exported {figures['onnx']}; total {figures['wall_seconds']:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
