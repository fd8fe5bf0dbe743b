"""Training loop for the Fashion-MNIST models.

The budget is a 2-core machine shared with C++ builds, so training is short:
a few epochs of SGD with Nesterov momentum under a one-cycle learning rate,
label smoothing and horizontal-flip augmentation, in channels_last memory
format (oneDNN convolutions are noticeably faster that way on CPU).
Everything random is drawn from seeded generators so that a rerun with the
same thread count reproduces the same weights.
"""

import time

import numpy as np
import torch
import torch.nn.functional as F


def _augment(x, gen):
    """Random horizontal flip of half the batch (garments are left/right symmetric)."""
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    x = x.clone()
    x[flip] = x[flip].flip(-1)
    return x


def hard_label_loss(logits, labels):
    """The recipe's loss: cross-entropy with label smoothing 0.1."""
    return F.cross_entropy(logits, labels, label_smoothing=0.1)


def train_classifier(model, x_train, y_train, *, epochs, seed, batch_size=64,
                     max_lr=0.1, weight_decay=5e-4, loss_fn=None, log=print):
    """Train `model` in place on float32 NCHW arrays; returns wall-clock seconds.

    loss_fn(logits, labels, inputs) replaces the recipe's hard_label_loss, e.g.
    for distillation, where the teacher needs the same augmented batch.
    It must not draw from torch's global generator, or the dropout masks (and
    so the run) would differ from the same recipe without it.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)

    x_all = torch.from_numpy(x_train)
    y_all = torch.from_numpy(y_train)
    n = x_all.shape[0]
    steps_per_epoch = n // batch_size  # drop the ragged last batch: BN dislikes tiny batches

    model.to(memory_format=torch.channels_last)
    # No weight decay on BN parameters and biases (standard practice).
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=max_lr, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=max_lr, epochs=epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.25, div_factor=10.0, final_div_factor=100.0)

    # Denormal gradients late in training can slow CPU kernels by orders of
    # magnitude; flushing them to zero is harmless for SGD. Restored afterwards
    # so evaluation and the golden outputs use exact IEEE arithmetic.
    torch.set_flush_denormal(True)
    start = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(n))
        total, correct, loss_sum = 0, 0, 0.0
        for step in range(steps_per_epoch):
            idx = order[step * batch_size:(step + 1) * batch_size]
            xb = _augment(x_all[idx], gen).contiguous(memory_format=torch.channels_last)
            yb = y_all[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb, xb) if loss_fn else hard_label_loss(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if (step + 1) % 300 == 0:
                log(f"    step {step + 1}/{steps_per_epoch}: loss {loss.item():.3f} "
                    f"({time.time() - start:.0f} s)")
            loss_sum += loss.item() * yb.shape[0]
            correct += (logits.argmax(1) == yb).sum().item()
            total += yb.shape[0]
        log(f"  epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.4f} "
            f"train acc {correct / total:.4f} ({time.time() - start:.0f} s)")
    torch.set_flush_denormal(False)
    model.to(memory_format=torch.contiguous_format)
    model.eval()
    return time.time() - start


@torch.no_grad()
def evaluate(model, x_test, y_test, batch_size=1):
    """Count correct argmax predictions in eval mode, float32.

    batch_size=1 matches the exported graph (batch fixed at 1) exactly.
    """
    model.eval()
    correct = 0
    for i in range(0, x_test.shape[0], batch_size):
        logits = model(torch.from_numpy(x_test[i:i + batch_size]))
        correct += (logits.argmax(1).numpy() == y_test[i:i + batch_size]).sum()
    return int(correct)
