"""Magnitude pruning, unstructured and structured (book chapter 15).

- **Unstructured**, Eq. (15.9): keep the weights of largest magnitude and set the
  fraction ``sparsity`` of smallest ``|w|`` to zero. The matrix keeps its shape, so a
  dense kernel does exactly the same work; only a sparse format or sparse hardware can
  turn the zeros into speed. ``torch.nn.utils.prune.l1_unstructured`` is the maintained
  tool; :func:`magnitude_mask` is the NumPy reference the chapter compares it with.
- **Structured**, Eq. (15.10): remove whole hidden neurons of a feed-forward block
  ``W_2 act(W_1 x + b_1) + b_2``. Neuron ``j`` is row ``j`` of ``W_1`` (and entry ``j`` of ``b_1``)
  and column ``j`` of ``W_2``; deleting all three gives smaller dense matrices, which
  are faster for the same kernel. Neurons are ranked by ``||W_1[j]|| * ||W_2[:, j]||``,
  a bound on how much the neuron can move the block's output for a unit input.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array


def _check_fraction(value, name: str, interval: str) -> float:
    """``value`` as a float inside ``interval``, "[0, 1)" or "(0, 1]"; else TypeError or ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a number in {interval}; got {type(value).__name__} {value!r}")
    value = float(value)
    inside = 0.0 <= value < 1.0 if interval == "[0, 1)" else 0.0 < value <= 1.0
    if not inside:
        raise ValueError(f"{name} must lie in {interval}; got {value}")
    return value


def magnitude_mask(weight, sparsity: float) -> np.ndarray:
    """Boolean mask (True = kept) zeroing the ``round(sparsity * n)`` entries of smallest ``|w|``, Eq. (15.9).

    The same count as ``torch.nn.utils.prune.l1_unstructured(amount=sparsity)``; among
    equal magnitudes the entries earlier in row-major order are pruned first.
    """
    weight = as_float_array(weight, "weight")
    sparsity = _check_fraction(sparsity, "sparsity", "[0, 1)")
    n_pruned = int(round(sparsity * weight.size))
    mask = np.ones(weight.size, dtype=bool)
    order = np.argsort(np.abs(weight).reshape(-1), kind="stable")
    mask[order[:n_pruned]] = False
    return mask.reshape(weight.shape)


def neuron_scores(w_in, w_out) -> np.ndarray:
    """``||W_1[j]|| * ||W_2[:, j]||`` for each hidden neuron j of a feed-forward block, Eq. (15.10).

    ``w_in`` is (hidden, d_in) and ``w_out`` (d_out, hidden), in PyTorch's (out, in) layout.
    """
    w_in = as_float_array(w_in, "w_in", ndim=2)
    w_out = as_float_array(w_out, "w_out", ndim=2)
    if w_in.shape[0] != w_out.shape[1]:
        raise ValueError(f"w_in (hidden, d_in) and w_out (d_out, hidden) must share hidden; "
                         f"got {w_in.shape} and {w_out.shape}")
    return np.linalg.norm(w_in, axis=1) * np.linalg.norm(w_out, axis=0)


def neurons_to_keep(w_in, w_out, keep_fraction: float) -> np.ndarray:
    """Sorted indices of the ``ceil(keep_fraction * hidden)`` neurons of highest score (at least one)."""
    keep_fraction = _check_fraction(keep_fraction, "keep_fraction", "(0, 1]")
    scores = neuron_scores(w_in, w_out)
    n_keep = max(1, int(np.ceil(keep_fraction * len(scores))))
    return np.sort(np.argsort(-scores, kind="stable")[:n_keep])


def shrink_feed_forward(linear_in, linear_out, keep):
    """New ``torch.nn.Linear`` pair holding only the hidden neurons ``keep``, Eq. (15.10).

    ``linear_in`` maps d_in -> hidden and ``linear_out`` hidden -> d_out. The kept
    neurons compute exactly what they computed before; the removed ones contribute
    nothing. The layers are copied, the originals are left unchanged.
    """
    import torch

    for name, layer in (("linear_in", linear_in), ("linear_out", linear_out)):
        if not isinstance(layer, torch.nn.Linear):
            raise TypeError(f"{name} must be a torch.nn.Linear; got {type(layer).__name__}")
    hidden = linear_in.out_features
    if linear_out.in_features != hidden:
        raise ValueError(f"linear_in has {hidden} outputs but linear_out takes {linear_out.in_features}")
    keep = np.asarray(keep)
    if keep.ndim != 1 or keep.size == 0 or not np.issubdtype(keep.dtype, np.integer):
        raise ValueError(f"keep must be a non-empty 1-d array of neuron indices; got {keep!r}")
    if keep.min() < 0 or keep.max() >= hidden or len(np.unique(keep)) != keep.size:
        raise ValueError(f"keep must hold distinct indices in [0, {hidden}); got min {keep.min()}, max {keep.max()}")
    index = torch.as_tensor(keep, dtype=torch.long, device=linear_in.weight.device)
    new_in = torch.nn.Linear(linear_in.in_features, keep.size, bias=linear_in.bias is not None)
    new_out = torch.nn.Linear(keep.size, linear_out.out_features, bias=linear_out.bias is not None)
    new_in.to(linear_in.weight.device, linear_in.weight.dtype)
    new_out.to(linear_out.weight.device, linear_out.weight.dtype)
    with torch.no_grad():
        new_in.weight.copy_(linear_in.weight[index])
        if linear_in.bias is not None:
            new_in.bias.copy_(linear_in.bias[index])
        new_out.weight.copy_(linear_out.weight[:, index])
        if linear_out.bias is not None:
            new_out.bias.copy_(linear_out.bias)
    return new_in, new_out
