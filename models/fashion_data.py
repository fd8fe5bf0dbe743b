"""Fashion-MNIST loading and the one preprocessing rule every consumer must share.

The idx files come from the Debian package dataset-fashion-mnist and are read
directly (gzip + numpy); nothing is downloaded.

Preprocessing (identical here, in the ONNX metadata and in the C++ pipeline):
    x = (pixel * VALUE_SCALE - mean) / std        computed in float32
with VALUE_SCALE = 1/255 and mean/std measured on the training pixels. mean and
std are rounded to the decimal strings stored in the ONNX metadata and parsed
back, so the C++ side and this module start from bit-identical float32 values.
"""

import gzip
import os

import numpy as np

DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")

LABELS = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

# Stored verbatim in outpost.value_scale; float32(this) is what the pipeline uses.
VALUE_SCALE_STR = "0.00392156862745098"


def _read_idx(path):
    """Parse an idx file: 2 zero bytes, dtype code, ndim, big-endian dims, data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:  # 0x08 = unsigned byte
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {dims}, got {data.size} bytes")
    return data.reshape(dims)


def load_split(split):
    """Return (images uint8 [N,28,28], labels int64 [N]) for 'train' or 't10k'."""
    images = _read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = _read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"))
    return images, labels.astype(np.int64)


def mean_std_strings(train_images):
    """Mean and std of the training pixels/255, as the strings written to the metadata.

    Computed in float64 over all 47M pixels (population std, like torchvision's
    usual Normalize constants) and printed with 10 significant digits: far below
    float32 resolution, so rounding the string changes nothing downstream.
    """
    x = train_images.astype(np.float64) / 255.0
    return f"{x.mean():.10g}", f"{x.std():.10g}"


def normalize(images, mean_str, std_str):
    """uint8 [N,28,28] -> float32 [N,1,28,28] with the shared preprocessing rule."""
    scale = np.float32(float(VALUE_SCALE_STR))
    mean = np.float32(float(mean_str))
    std = np.float32(float(std_str))
    x = images.astype(np.float32) * scale
    x = (x - mean) / std
    return x[:, None, :, :].astype(np.float32)
