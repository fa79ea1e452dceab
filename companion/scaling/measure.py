"""Measurements that check the chapter-13 formulas against PyTorch (book chapter 13).

PyTorch is imported inside each function, so importing this module is cheap.

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
- :func:`peak_process_bytes` and :func:`cpu_training_step_peak`: the CPU counterpart,
  the growth of the process's resident memory (Linux), measured for a training step
  in a fresh process.
"""

from __future__ import annotations

from companion.models.counting import count_parameters


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


def _proc_status_bytes(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # the kernel reports kB
    raise OSError(f"/proc/self/status has no {field} line")


def peak_process_bytes(fn, *args, **kwargs):
    """Peak growth of this process's resident memory while ``fn`` runs, on Linux: the CPU check of Eq. (13.7)-(13.8).

    The kernel keeps a high-water mark of resident memory (``VmHWM``). Writing 5
    to ``/proc/self/clear_refs`` resets it to the current resident size, so
    ``VmHWM`` after ``fn`` minus ``VmRSS`` before is the most memory the call had
    in use at once, above what the process held already: new tensors, autograd's
    saved activations, temporaries, and what the allocator keeps. It measures
    pages actually touched, so it is a *process* figure, coarser than
    :func:`peak_cuda_bytes`.

    Returns:
        (peak bytes above the start, resident bytes at the start, output of fn), or
        (None, None, output of fn) where the counter cannot be read or reset
        (macOS, Windows, restricted containers).
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        start = _proc_status_bytes("VmRSS")
    except OSError:
        return None, None, fn(*args, **kwargs)
    out = fn(*args, **kwargs)
    return _proc_status_bytes("VmHWM") - start, start, out


#: glibc returns large blocks to the system on free only below its mmap threshold, which it
#: raises on its own after frees; fixing it makes resident memory follow the live tensors.
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def cpu_training_step_peak(config, batch_size: int, seq_len: int | None = None, *, timeout: float = 300.0) -> dict:
    """Measure the process-memory peak of one Adam training step of a GPT on the CPU (Linux).

    Runs in a fresh Python process (this module's ``__main__``), so the figure is not
    blurred by memory an earlier computation left resident, with glibc's mmap
    threshold fixed (see ``_MALLOC_ENV``). The worker builds ``GPT(config)`` and Adam,
    takes one step to create Adam's moments, drops the gradients, and measures the
    next step with :func:`peak_process_bytes`: that step allocates the gradients and
    the activations of Eqs. (13.7)-(13.8) on top of the weights and Adam state it
    already holds.

    Returns:
        dict with ``peak_bytes`` (None where the counter is unavailable),
        ``gradient_bytes``, ``activation_bytes`` (:func:`saved_activation_bytes`),
        ``parameters``, ``adam_state_bytes``, ``batch_size`` and ``seq_len``.
    """
    import json
    import os
    import subprocess
    import sys

    from companion.checks import check_positive_int
    from companion.models.config import check_config

    config = check_config(config)
    batch_size = check_positive_int(batch_size, "batch_size")
    seq_len = config.max_len if seq_len is None else check_positive_int(seq_len, "seq_len")
    if seq_len > config.max_len:
        raise ValueError(f"seq_len must be at most config.max_len = {config.max_len}; got {seq_len}")
    request = json.dumps({"config": config.__dict__, "batch_size": batch_size, "seq_len": seq_len})
    done = subprocess.run([sys.executable, "-m", "companion.scaling.measure", request], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **_MALLOC_ENV})
    if done.returncode != 0:
        raise RuntimeError(f"the measuring process failed with exit status {done.returncode}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _training_step_worker(request: dict) -> dict:
    import torch

    from companion.models.config import TransformerConfig
    from companion.models.gpt import GPT
    from companion.seed import set_seed
    from companion.train.language_model import lm_loss

    set_seed(0, frameworks=("torch",))
    torch.set_num_threads(1)
    config = TransformerConfig(**request["config"])
    batch_size, seq_len = request["batch_size"], request["seq_len"]
    model = GPT(config)
    optimizer = torch.optim.Adam(model.parameters())
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, config.vocab_size, (batch_size, seq_len + 1), generator=generator)

    def loss():
        return lm_loss(model(ids[:, :-1]), ids[:, 1:])

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss().backward()
        optimizer.step()

    step()  # creates Adam's moments
    optimizer.zero_grad(set_to_none=True)
    peak, _, _ = peak_process_bytes(step)
    activations, _ = saved_activation_bytes(loss, exclude=model.parameters())
    state = tensor_state_bytes(model, optimizer)
    n = count_parameters(model, trainable_only=True)
    return {"peak_bytes": peak, "gradient_bytes": 4 * n, "activation_bytes": int(activations), "parameters": n,
            "adam_state_bytes": int(state["optimizer_state"]), "batch_size": batch_size, "seq_len": seq_len}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(_training_step_worker(json.loads(sys.argv[1]))))
