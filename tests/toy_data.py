"""Small synthetic data sets shared by several test modules (imported as ``toy_data``).

pytest puts tests/ on sys.path (its default "prepend" import mode), so a test module
imports these helpers by name; this file is not collected (no test_ prefix).
"""

import numpy as np

from companion.train.sequence_classifier import EncodedSplit


def toy_split(n: int, seed: int, width: int = 6) -> EncodedSplit:
    """n right-padded texts of at most ``width`` ids: token 2 anywhere means positive, token 3 negative.

    Ids 4-19 are filler and 0 is padding, so a sequence classifier that reads every real
    token can reach 100 % and one that reads padding or only part of a text cannot.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, width + 1, size=n)
    ids = rng.integers(4, 20, size=(n, width))
    ids[np.arange(width)[None, :] >= lengths[:, None]] = 0
    labels = rng.integers(0, 2, size=n)
    ids[np.arange(n), rng.integers(0, lengths)] = np.where(labels == 1, 2, 3)
    return EncodedSplit(ids.astype(np.int64), lengths.astype(np.int64), labels.astype(np.int64))


def classification_data(n: int, d: int = 8, classes: int = 3, seed: int = 0):
    """(x float32 (n, d) from N(0, 1), y int64 (n,) uniform over ``classes``) for the distributed tests."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, classes, size=n).astype(np.int64)
