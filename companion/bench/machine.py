"""What machine a benchmark ran on, and the peak FLOP/s its accelerator is sold with (book chapter 13).

:func:`describe_machine` records what a reader needs to compare two results
files: date, CPU model and cores, thread counts, library versions, load
average, and the GPU when there is one.

:data:`PEAK_FLOPS` holds dense (no structured sparsity) peak throughputs in
FLOP/s from the vendor's datasheets, for the tensor-core formats (bf16, fp16,
and tf32) and plain fp32. Model FLOPs utilisation (MFU, Eq. (13.11)) divides by
them; for a device not in the table MFU is not reported rather than guessed.
"""

from __future__ import annotations

import datetime
import os
import platform

PEAK_SOURCE = "vendor datasheet figures (NVIDIA), dense, without structured sparsity"

# name -> {dtype: FLOP/s}
PEAK_FLOPS = {
    "NVIDIA H100 SXM": {"bf16": 989.4e12, "fp16": 989.4e12, "tf32": 494.7e12, "fp32": 66.9e12},
    "NVIDIA H100 PCIe": {"bf16": 756.0e12, "fp16": 756.0e12, "tf32": 378.0e12, "fp32": 51.2e12},
    "NVIDIA H200": {"bf16": 989.4e12, "fp16": 989.4e12, "tf32": 494.7e12, "fp32": 66.9e12},
    "NVIDIA A100": {"bf16": 312.0e12, "fp16": 312.0e12, "tf32": 156.0e12, "fp32": 19.5e12},
}


def match_peak_device(device_name: str) -> str | None:
    """Key of :data:`PEAK_FLOPS` for a ``torch.cuda.get_device_name`` string, or None when unknown.

    "NVIDIA H100 80GB HBM3" is the SXM part; "NVIDIA H100 PCIe" the PCIe card;
    the NVL cards ("NVIDIA H100 NVL", "NVIDIA H200 NVL") and any other name are unknown.
    """
    if not isinstance(device_name, str):
        raise TypeError(f"device_name must be a string; got {type(device_name).__name__}")
    name = device_name.upper()
    if "NVL" in name:  # the NVL cards run at lower clocks and power than the SXM parts in the table
        return None
    if "H200" in name:
        return "NVIDIA H200"
    if "H100" in name:
        if "PCIE" in name:
            return "NVIDIA H100 PCIe"
        if "SXM" in name or "HBM3" in name:
            return "NVIDIA H100 SXM"
        return None
    if "A100" in name:
        return "NVIDIA A100"
    return None


def peak_flops(device_name: str, dtype: str) -> float | None:
    """Datasheet peak FLOP/s of ``device_name`` in ``dtype`` ("bf16", "fp16", "tf32", "fp32"), or None."""
    if dtype not in ("bf16", "fp16", "tf32", "fp32"):
        raise ValueError(f"dtype must be one of bf16, fp16, tf32, fp32; got {dtype!r}")
    key = match_peak_device(device_name)
    return None if key is None else PEAK_FLOPS[key][dtype]


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def describe_machine(device=None) -> dict:
    """A JSON-ready description of this machine and of ``device`` (default: companion.get_device())."""
    import numpy as np
    import torch

    from companion.device import get_device

    device = torch.device(device) if device is not None else get_device()
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    info = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "cpu": cpu_model(),
        "cores_available": available_cores(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1m": None if load is None else load[0],
        "device": device.type,
        "gpu": None,
        "gpu_memory_gib": None,
        "peak_flops_source": PEAK_SOURCE,
        "peak_flops": None,
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info["gpu"] = props.name
        info["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        info["cuda"] = torch.version.cuda
        key = match_peak_device(props.name)
        info["peak_flops"] = None if key is None else dict(PEAK_FLOPS[key], matched=key)
    return info
