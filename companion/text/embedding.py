"""Embeddings as a table lookup, and the same lookup as a one-hot product.

An embedding matrix ``E`` has one row per vocabulary entry: shape ``(V, d)``.
The vector of token id ``x`` is the row ``E[x]``, Eq. (7.4). Stacking the
one-hot rows of n ids gives ``X`` of shape ``(n, V)``, and ``X @ E`` of shape
``(n, d)`` picks the same rows, Eq. (7.5): the lookup is that product, computed
without building ``X``. ``torch.nn.Embedding`` and ``keras.layers.Embedding``
store the same ``(V, d)`` table and do the same lookup.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_positive_int
from companion.losses import one_hot as one_hot_labels


def _check_ids(ids, vocab_size: int) -> np.ndarray:
    array = np.asarray(ids)
    if array.dtype == object or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"ids must be an integer array; got dtype {array.dtype}")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= vocab_size:
            raise ValueError(f"ids must lie in [0, {vocab_size}) for an embedding of {vocab_size} rows; "
                             f"got values in [{low}, {high}]")
    return array.astype(np.int64)


def _check_table(E) -> np.ndarray:
    E = as_float_array(E, "E", ndim=2)
    if E.shape[0] == 0 or E.shape[1] == 0:
        raise ValueError(f"E must have shape (V, d) with V, d >= 1; got {E.shape}")
    return E


def embedding_lookup(E, ids) -> np.ndarray:
    """Rows of the embedding table, Eq. (7.4): ``out[..., :] = E[ids[...], :]``.

    ``E`` has shape ``(V, d)``; ``ids`` is an integer array of any shape ``S``
    (a sequence ``(T,)``, a padded batch ``(n, T)``); the result has shape
    ``S + (d,)``. Raises ValueError for ids outside ``[0, V)`` and TypeError
    for non-integer ids (a float id is a bug, not an index).
    """
    E = _check_table(E)
    return E[_check_ids(ids, E.shape[0])]


def one_hot(ids, vocab_size: int) -> np.ndarray:
    """One-hot rows: ``(n,)`` ids -> ``(n, V)`` float64 with a single 1 per row (Eq. 7.5)."""
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    ids = _check_ids(ids, vocab_size)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D for one_hot; got shape {ids.shape}")
    return one_hot_labels(ids, vocab_size)  # the one one-hot of the package, Eq. (2.7)


def embedding_via_one_hot(E, ids) -> np.ndarray:
    """The lookup written as a matrix product, Eq. (7.5): ``one_hot(ids) (n x V) @ E (V x d)``.

    Accepts ``ids`` of any shape like :func:`embedding_lookup` (it flattens,
    multiplies and reshapes) and returns the same array up to float rounding.
    It builds an ``(n, V)`` matrix, so it is for teaching and testing only.
    """
    E = _check_table(E)
    ids = _check_ids(ids, E.shape[0])
    return (one_hot(ids.reshape(-1), E.shape[0]) @ E).reshape(*ids.shape, E.shape[1])


def torch_embedding_lookup(E, ids) -> np.ndarray:
    """``torch.nn.Embedding`` with its weight set to ``E``, applied to ``ids`` (Eq. 7.4).

    Runs on ``companion.get_device()`` and returns a NumPy array of shape
    ``ids.shape + (d,)`` in E's dtype.
    """
    import torch

    from companion.device import get_device

    E = _check_table(E)
    ids = _check_ids(ids, E.shape[0])
    device = get_device()
    dtype = torch.float64 if E.dtype == np.float64 else torch.float32
    if device.type == "mps" and dtype == torch.float64:
        dtype = torch.float32
    layer = torch.nn.Embedding(E.shape[0], E.shape[1], dtype=dtype, device=device)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(E, dtype=dtype))
        out = layer(torch.as_tensor(ids, device=device))
    return out.cpu().numpy()


def keras_embedding_lookup(E, ids) -> np.ndarray:
    """``keras.layers.Embedding`` with its weights set to ``E``, applied to ``ids`` (Eq. 7.4).

    Runs on ``companion.get_tf_device()`` and returns a NumPy array of shape
    ``ids.shape + (d,)`` (float32 unless E is float64).
    """
    from companion.device import get_tf_device
    from companion.frameworks import import_tensorflow

    tf = import_tensorflow()
    import keras

    E = _check_table(E)
    ids = _check_ids(ids, E.shape[0])
    dtype = "float64" if E.dtype == np.float64 else "float32"
    with tf.device(get_tf_device()):
        layer = keras.layers.Embedding(E.shape[0], E.shape[1], dtype=dtype)
        layer.build(ids.shape)
        layer.set_weights([E.astype(dtype)])
        out = layer(ids)
    return np.asarray(out)
