"""Write book/appendix/gpu_and_cluster.md: running the book on a GPU, several GPUs or a cluster.

The parts that can go stale are generated: the pinned framework versions
(requirements.txt), the CPU and GPU profiles of the chapters with heavy
experiments (the profile objects of companion), and the torchrun and Slurm
command lines, built from the arguments in ``MULTI_NODE`` below.
tests/test_book_pages.py checks that the committed page is current and that
torchrun's and the training script's own parsers accept those command lines:

    python tools/gpu_appendix.py
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from companion.doctor import pinned_versions  # noqa: E402
from companion.pretrained.finetune import FINETUNE_CPU_PROFILE, FINETUNE_GPU_PROFILE  # noqa: E402
from companion.train.language_model import GPT_CPU_PROFILE, GPT_GPU_PROFILE  # noqa: E402
from companion.train.sequence_classifier import (  # noqa: E402
    CPU_PROFILE,
    ENCODER_CPU_PROFILE,
    ENCODER_GPU_PROFILE,
    GPU_PROFILE,
)

PAGE = ROOT / "book" / "appendix" / "gpu_and_cluster.md"

# (chapters, what it trains, CPU profile, GPU profile)
PROFILES = [
    ("8, 10, 11", "the LSTM classifiers (`choose_profile`)", CPU_PROFILE, GPU_PROFILE),
    ("10, 11", "the Transformer encoder classifier (`choose_encoder_profile`)", ENCODER_CPU_PROFILE,
     ENCODER_GPU_PROFILE),
    ("11", "fine-tuning MiniLM (`choose_finetune_profile`)", FINETUNE_CPU_PROFILE, FINETUNE_GPU_PROFILE),
    ("12", "the GPT language model (`choose_gpt_profile`)", GPT_CPU_PROFILE, GPT_GPU_PROFILE),
]

# The training script of chapter 14 on two nodes of eight GPUs each.
TRAIN_ARGS = ["--data", "data.npz", "--model", "$(cat model.json)", "--steps", "60", "--global-batch", "512",
              "--lr", "0.01", "--seed", "0", "--optimizer", "adam", "--backend", "auto", "--out", "result.json"]
MODULE = "companion.distributed.ddp_train"


def torchrun_one_node(gpus: int = 8) -> list[str]:
    return ["torchrun", "--nnodes", "1", "--nproc_per_node", str(gpus), "-m", MODULE, *TRAIN_ARGS]


def torchrun_multi_node(nodes: str = "$SLURM_NNODES", gpus: int = 8, endpoint: str = "$HEAD:29500",
                        job: str = "$SLURM_JOB_ID") -> list[str]:
    return ["torchrun", "--nnodes", nodes, "--nproc_per_node", str(gpus), "--rdzv_backend", "c10d",
            "--rdzv_endpoint", endpoint, "--rdzv_id", job, "-m", MODULE, *TRAIN_ARGS]


def _shell(command: list[str], indent: str = "  ") -> str:
    """The command as shell text, one option and its value per line."""
    parts, line = [], []
    for word in command:
        quoted = f'"{word}"' if word.startswith("$") else shlex.quote(word)  # let the shell expand $...
        if word.startswith("--") and line:
            parts.append(" ".join(line))
            line = []
        line.append(quoted)
    parts.append(" ".join(line))
    return (" \\\n" + indent).join(parts)


def _profile_rows() -> list[str]:
    rows = ["| chapters | experiment | setting | CPU profile | GPU profile |", "| --- | --- | --- | --- | --- |"]
    for chapters, what, cpu, gpu in PROFILES:
        first = True
        for field in dataclasses.fields(cpu):
            a, b = getattr(cpu, field.name), getattr(gpu, field.name)
            if field.name == "name" or a == b:
                continue
            shown = [("all" if v is None else f"{v:g}" if isinstance(v, float) else str(v)) for v in (a, b)]
            rows.append(f"| {chapters if first else ''} | {what if first else ''} | `{field.name}` | "
                        f"{shown[0]} | {shown[1]} |")
            first = False
    return rows


def render() -> str:
    pins = pinned_versions()
    versions = ", ".join(f"`{name}=={pins[name]}`" for name in ("torch", "tensorflow", "keras"))
    lines = [
        "# Appendix: running on a GPU or a cluster",
        "",
        "<!-- Written by tools/gpu_appendix.py (versions, profiles and commands generated); edit that",
        "     script, not this page. -->",
        "",
        "Every chapter runs on two CPU cores, and that is how its committed outputs were made. The same",
        "code runs on an NVIDIA GPU (CUDA) or an Apple GPU (MPS). This appendix says how to set one up",
        "with the book's pinned versions, what changes when a chapter finds one, how to spread chapter",
        "14's training script over several GPUs and several machines, and what the CPU runs of this book",
        "do and do not tell you about a GPU.",
        "",
        "## Setting up",
        "",
        f"The book pins {versions} in `requirements.txt`, and `make book` installs exactly those.",
        "",
        "- **Linux with an NVIDIA GPU.** The `torch` wheel on PyPI for Linux x86-64 is a CUDA build, and",
        "  `pip` installs its CUDA libraries as `nvidia-*` wheels beside it; only the NVIDIA driver comes",
        "  from the system. `python -c \"import torch; print(torch.version.cuda)\"` prints the CUDA version",
        "  the wheel was built for, and `nvidia-smi` the newest one the driver supports, which must not be",
        "  older. TensorFlow finds a GPU only when installed with its CUDA extra,",
        f"  `pip install \"tensorflow[and-cuda]=={pins['tensorflow']}\"`; without it, the Keras cells run on",
        "  the CPU while the PyTorch cells use the GPU, which is slower but gives correct results.",
        "- **A Mac with Apple silicon.** The macOS `torch` wheel includes the MPS backend; nothing else is",
        "  needed. The book does not pin or test a TensorFlow GPU plugin for macOS, so its Keras cells run on",
        "  the CPU there.",
        "- **A CPU-only Linux machine.** The CUDA build works on a CPU too, but is several GB larger; the",
        "  CPU wheel of the same version comes from PyTorch's own index:",
        f"  `pip install torch=={pins['torch']} --index-url https://download.pytorch.org/whl/cpu`.",
        "",
        "Then `python -m companion doctor` shows what each framework sees (`PyTorch sees`, `TensorFlow",
        "sees`) and the device the book will use. `companion.get_device()` is the one place where a device",
        "is chosen: CUDA, then MPS, then the CPU. `COMPANION_DEVICE=cpu` (or `cuda`, `mps`) forces a",
        "choice, and asking for a device that is not there is an error, not a silent fall-back to the",
        "CPU.",
        "",
        "## What changes on a GPU: the profiles",
        "",
        "A chapter whose experiment would take hours on two cores has two profiles, chosen by",
        "`companion.device.profile_for_device` from the device: the CPU profile, which produced the",
        "committed outputs, and a larger GPU profile (all the data, longer texts, wider models, more",
        "steps). The same code runs both. The settings that differ:",
        "",
        *_profile_rows(),
        "",
        "Because a GPU runs the GPU profile, those chapters print other numbers there, and nbval, which",
        "compares with the committed CPU outputs, fails on them by design. To reproduce the committed",
        "outputs on a GPU machine, run nbval with `COMPANION_DEVICE=cpu`. The other chapters run the same",
        "experiment on any device; their numbers then differ from the CPU's only by floating-point",
        "rounding, and the tolerances of the reproducibility policy (CONTRIBUTING.md) were measured on",
        "CPUs, not on GPUs.",
        "",
        "## Several GPUs on one machine",
        "",
        "Chapter 14 trains with `DistributedDataParallel` through `torchrun`, on two CPU processes with",
        "the gloo backend. On a machine with eight GPUs the same script starts one process per GPU:",
        "",
        "```bash",
        _shell(torchrun_one_node()),
        "```",
        "",
        "`data.npz` holds the arrays `x` and `y` (chapter 14 writes one), and `model.json` the model's",
        "specification, the JSON text chapter 14 passes as `--model`. `--backend auto` chooses NCCL on",
        "`cuda:LOCAL_RANK` when the machine has a GPU for each of its",
        "ranks, and gloo on the CPU otherwise (NCCL cannot put two ranks on one GPU). The global batch",
        "must divide by the number of ranks; the script refuses an uneven split before it starts.",
        "",
        "## Several machines, under a batch scheduler",
        "",
        "Across machines, `torchrun` runs once per node; the nodes find each other through a rendezvous",
        "endpoint (a host and port on the first node) and agree on the ranks. Each rank picks its GPU from",
        "`LOCAL_RANK`, and the backend counts the GPUs of its own node (torchrun's `LOCAL_WORLD_SIZE`),",
        "not those of the whole job. A Slurm job of two nodes with eight GPUs each:",
        "",
        "```bash",
        "#!/bin/bash",
        "#SBATCH --job-name=book-ddp",
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --gpus-per-node=8",
        "#SBATCH --cpus-per-task=32",
        "#SBATCH --time=00:30:00",
        "set -euo pipefail",
        "# the first node of the allocation hosts the rendezvous",
        'HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        "source .venv/bin/activate",
        "srun " + _shell(torchrun_multi_node()),
        "```",
        "",
        "`sbatch job.sh` queues it; `srun` starts one `torchrun` per node (one task per node), and each",
        "starts eight workers. Every node needs the same virtual environment and the data file at the same",
        "path (a shared file system), and the nodes must reach each other on the rendezvous port and on the",
        "ports NCCL opens. Other schedulers differ in the directives, not in the `torchrun` line.",
        "",
        "## What the CPU runs in this book show about a GPU, and what they do not",
        "",
        "They show what does not depend on the hardware: that two implementations compute the same",
        "function, that gradients are right, that data-parallel training with equal shards equals",
        "single-process training, that a checkpoint resumes bit for bit, and every count of parameters,",
        "FLOPs and bytes, which chapter 13 derives and checks against the frameworks' own counters.",
        "",
        "They do not show speed on a GPU. A GPU's time depends on its memory bandwidth, its tensor cores",
        "and the fused kernels a framework picks (chapter 13's FLOP counter even misses the fused attention",
        "kernel on a CPU); CPU timings of this book say nothing about them. They do not show GPU numerics",
        "either: TF32 matrix products, bf16 and fp16 kernels and the order in which a GPU sums differ from",
        "the CPU's, so a training curve on a GPU is another run, within the variation between seeds, not a",
        "copy of the CPU's. And they do not show communication: gloo between two processes on one machine",
        "is not NCCL over NVLink or a network, so the overlap of the all-reduce with the backward pass, and",
        "the scaling over many GPUs, have to be measured where they run.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
