"""Measurements that check the chapter-13 formulas against PyTorch (book chapter 13).

PyTorch is imported inside each function, so importing this module is cheap.

- :func:`count_parameters`: trainable parameters, shared (tied) tensors once.
- :func:`count_matmul_flops`: FLOPs of a callable as ``torch.utils.flop_counter.FlopCounterMode``
  counts them (matrix products and convolutions; element-wise work is not counted).
  On the CPU it has no formula for the fused ``scaled_dot_product_attention``
  kernel and counts it as 0, which is why the book checks Eq. (13.4) with the
  written-out attention.
- :func:`saved_activation_bytes`: bytes of the tensors autograd keeps for the
  backward pass while a callable runs, Eq. (13.8), measured with
  ``torch.autograd.graph.saved_tensors_hooks``. Each storage is counted once and
  parameters are left out. This is the activation memory the formula predicts;
  it does not include temporaries freed inside the forward pass.
- :func:`tensor_state_bytes`: bytes of parameters, gradients and optimizer state
  that exist after a step, Eq. (13.7).
- :func:`peak_cuda_bytes`: on a CUDA device, ``torch.cuda.max_memory_allocated``
  during a callable (everything the caching allocator handed out, temporaries included).
"""

from __future__ import annotations


def count_parameters(model) -> int:
    """Number of trainable parameters of a torch module; a tied tensor counts once."""
    from companion.models.counting import count_parameters as count

    return count(model, trainable_only=True)


def count_matmul_flops(fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` under ``FlopCounterMode``; return (total FLOPs, {op name: FLOPs}).

    Used to check Eqs. (13.2)-(13.5). The breakdown maps aten op names
    (``"aten.mm"``, ``"aten.bmm"``, ``"aten.addmm"``, ...) to their FLOPs.
    """
    from torch.utils.flop_counter import FlopCounterMode

    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    with FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    by_op = {str(op): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    return int(counter.get_total_flops()), by_op


def saved_activation_bytes(fn, *args, exclude=(), **kwargs):
    """Bytes of tensors autograd saves for backward while ``fn(*args, **kwargs)`` runs, Eq. (13.8).

    Each underlying storage is counted once (views of one tensor share it).
    Tensors whose storage belongs to a tensor in ``exclude`` (pass
    ``model.parameters()``) are not counted. Returns (bytes, output of fn).
    """
    import torch

    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        if key not in skip and storage.nbytes() > 0:
            storages[key] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = fn(*args, **kwargs)
    return int(sum(storages.values())), out


def tensor_state_bytes(model, optimizer=None) -> dict:
    """Bytes of parameters, gradients and optimizer-state tensors that exist now, Eq. (13.7).

    Returns {"weights", "gradients", "optimizer_state", "total"}; run it after
    ``optimizer.step()`` (Adam creates its moments on the first step) and before
    ``zero_grad``.
    """
    import torch

    params = {id(p): p for p in model.parameters()}.values()
    weights = sum(p.numel() * p.element_size() for p in params)
    grads = sum(p.grad.numel() * p.grad.element_size() for p in params if p.grad is not None)
    state = 0
    if optimizer is not None:
        for per_param in optimizer.state.values():
            for value in per_param.values():
                if torch.is_tensor(value) and value.numel() > 1:  # skip Adam's scalar step counter
                    state += value.numel() * value.element_size()
    return {"weights": weights, "gradients": grads, "optimizer_state": state, "total": weights + grads + state}


def peak_cuda_bytes(fn, *args, device=None, **kwargs):
    """Peak bytes allocated on a CUDA device while ``fn`` runs, above what was allocated before.

    Uses ``torch.cuda.reset_peak_memory_stats`` and ``torch.cuda.max_memory_allocated``.
    Returns (peak bytes above the start, bytes allocated at the start, output of fn).

    Raises:
        ValueError: ``device`` is not a CUDA device (PyTorch keeps no such counter on the CPU).
    """
    import torch

    device = torch.device(device if device is not None else "cuda")
    if device.type != "cuda":
        raise ValueError(f"peak_cuda_bytes needs a CUDA device; got {device}")
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    start = torch.cuda.memory_allocated(device)
    out = fn(*args, **kwargs)
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device) - start), int(start), out
