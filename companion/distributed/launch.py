"""Launching distributed jobs from Python (book chapter 14).

- :func:`_torchrun_command` builds the ``torchrun`` command line for
  :mod:`companion.distributed.ddp_train`, with a free rendezvous port (so
  several jobs, tests and notebooks can run at the same time on one machine);
- :func:`run_ddp` writes the data to a work folder, runs that command with
  ``subprocess``, and returns rank 0's JSON result; a failed job raises
  :class:`DistributedLaunchError` carrying the workers' stderr;
- :func:`spawn_gloo` runs a Python function on N gloo processes started with
  ``torch.multiprocessing`` (start method ``spawn``) and returns each rank's
  return value, for the small sharding experiments of
  :mod:`companion.distributed.sharding`; :func:`spawn_gloo_many` runs several
  such functions in one job, paying the process start-up once.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from companion.checks import check_positive_int
from companion.distributed.data_parallel import check_world_size, shard_size

MODULE = "companion.distributed.ddp_train"


class DistributedLaunchError(RuntimeError):
    """A distributed job failed; the message carries its exit status and the workers' stderr."""


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _torchrun_command(nproc_per_node, script_args, *, port=None, module: str = MODULE) -> list[str]:
    """The command ``torchrun --nproc_per_node N --master_port P -m MODULE ARGS`` as an argument list.

    ``torchrun`` is invoked as ``python -m torch.distributed.run`` with this
    interpreter, so the workers use the same environment as the caller.
    """
    nproc = check_world_size(nproc_per_node)
    port = _free_port() if port is None else check_positive_int(port, "port")
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", str(nproc),
            "--master_addr", "127.0.0.1", "--master_port", str(port), "-m", module,
            *[str(a) for a in script_args]]


def _display_command(command, workdir=None) -> str:
    """The command as a shell line starting with ``torchrun``; ``workdir`` shows as ``$WORK``, the port as ``$PORT``."""
    parts = list(command)
    if "--master_port" in parts:  # a fresh free port every run
        at = parts.index("--master_port") + 1
        parts[at] = "$PORT"
    if parts[1:3] == ["-m", "torch.distributed.run"]:
        parts = ["torchrun", *parts[3:]]
    line = shlex.join(parts).replace("'$PORT'", "$PORT")
    if workdir is not None:
        line = line.replace(str(workdir), "$WORK")
    return line


def _tail(text: str, limit: int = 4000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def run_command(command, *, timeout: float = 300, env=None) -> subprocess.CompletedProcess:
    """Run ``command``; raise :class:`DistributedLaunchError` with the stderr when it fails or times out."""
    environment = dict(os.environ if env is None else env)
    # torchrun warns (on stderr) unless the thread count of each worker is set explicitly.
    environment.setdefault("OMP_NUM_THREADS", "1")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)
    except subprocess.TimeoutExpired as error:
        stderr = error.stderr.decode() if isinstance(error.stderr, bytes) else (error.stderr or "")
        raise DistributedLaunchError(
            f"distributed job did not finish within {timeout} s: {_display_command(command)}\n"
            f"workers' stderr:\n{_tail(stderr)}") from None
    if done.returncode != 0:
        raise DistributedLaunchError(
            f"distributed job failed: expected exit status 0, got {done.returncode}\n"
            f"command: {_display_command(command)}\nworkers' stderr:\n{_tail(done.stderr)}")
    return done


def run_ddp(x, y, model_spec, *, nproc=2, steps, global_batch, lr=1e-3, seed=0, optimizer="adam",
            workdir=None, checkpoint=None, save_at=None, resume=None, timeout: float = 300,
            backend: str = "auto", schedule=None, grad_scaler=None) -> dict:
    """Train ``model_spec`` on ``(x, y)`` with DDP on ``nproc`` processes via torchrun; return rank 0's result.

    The result is the JSON written by :func:`companion.distributed.ddp_train.main`
    (``losses``, ``world_size``, ``backend``, parameter checksums per rank, ...),
    plus ``"command"``: the torchrun line that ran (work folder shown as ``$WORK``).
    ``schedule`` (warm-up and total steps) and ``grad_scaler`` (a dict of ``GradScaler`` options) are
    those of :func:`companion.distributed.ddp_train.train`.

    Raises ValueError before launching anything when ``global_batch`` does not
    split evenly over ``nproc``, and :class:`DistributedLaunchError` (with the
    workers' stderr) when the job fails.
    """
    from companion.distributed.ddp_train import check_model_spec

    shard_size(global_batch, nproc)
    spec = check_model_spec(model_spec)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have one row per example; got {len(x)} and {len(y)}")
    owned = workdir is None
    work = Path(tempfile.mkdtemp(prefix="ddp-")) if owned else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    data_path, out_path = work / "data.npz", work / "result.json"
    np.savez(data_path, x=x, y=y)
    if out_path.exists():
        out_path.unlink()
    args = ["--data", data_path, "--model", json.dumps(spec), "--steps", steps, "--global-batch", global_batch,
            "--lr", repr(float(lr)), "--seed", seed, "--optimizer", optimizer, "--backend", backend,
            "--out", out_path]
    if checkpoint is not None:
        args += ["--checkpoint", checkpoint]
    if save_at is not None:
        args += ["--save-at", save_at]
    if resume is not None:
        args += ["--resume", resume]
    if schedule is not None:
        args += ["--schedule", *schedule]
    if grad_scaler is not None:
        args += ["--grad-scaler", json.dumps(grad_scaler)]
    command = _torchrun_command(nproc, args)
    run_command(command, timeout=timeout)
    if not out_path.is_file():
        raise DistributedLaunchError(f"distributed job exited with status 0 but wrote no result at {out_path}")
    result = json.loads(out_path.read_text())
    result["command"] = _display_command(command, work)
    if owned:
        for path in (data_path, out_path):
            path.unlink(missing_ok=True)
        if not any(work.iterdir()):
            work.rmdir()
    return result


# --- spawning small gloo jobs --------------------------------------------------------


def _spawn_entry(rank, fn, world_size, port, args, out_dir):
    import torch
    import torch.distributed as dist

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        result = fn(rank, world_size, *args)
        torch.save(result, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _call_each(rank, world_size, calls):
    return [fn(rank, world_size, *args) for fn, args in calls]


def spawn_gloo_many(calls, world_size, *, timeout: float = 180) -> list[list]:
    """Run several ``(fn, args)`` pairs one after another in *one* gloo job (one process start-up).

    Returns, for each call, the list of per-rank results. Starting Python
    processes that import PyTorch costs seconds, so small experiments share one job.
    """
    calls = [(fn, tuple(args)) for fn, args in calls]
    for fn, _ in calls:
        if not callable(fn):
            raise TypeError(f"each call must be a (callable, args) pair; got {type(fn).__name__}")
    per_rank = spawn_gloo(_call_each, world_size, calls, timeout=timeout)
    return [[per_rank[rank][i] for rank in range(len(per_rank))] for i in range(len(calls))]


def spawn_gloo(fn, world_size, *args, timeout: float = 120) -> list:
    """Run ``fn(rank, world_size, *args)`` on ``world_size`` gloo processes; return the results by rank.

    ``fn`` must be importable (defined in a module, not in a notebook) and
    return tensors or plain Python values (results travel back through
    ``torch.save`` / ``torch.load(weights_only=True)``). Each process runs one
    PyTorch thread. A failure in any rank raises :class:`DistributedLaunchError`
    carrying that rank's traceback.
    """
    import torch
    import torch.multiprocessing as mp

    world_size = check_world_size(world_size)
    if not callable(fn):
        raise TypeError(f"fn must be a callable; got {type(fn).__name__}")
    with tempfile.TemporaryDirectory(prefix="gloo-") as out_dir:
        try:
            context = mp.start_processes(_spawn_entry, args=(fn, world_size, _free_port(), args, out_dir),
                                         nprocs=world_size, join=False, start_method="spawn")
            deadline = time.monotonic() + timeout
            while not context.join(timeout=1):
                if time.monotonic() > deadline:
                    for process in context.processes:
                        process.terminate()
                    raise DistributedLaunchError(
                        f"gloo job {getattr(fn, '__name__', fn)} did not finish within {timeout} s")
        except mp.ProcessRaisedException as error:
            raise DistributedLaunchError(f"a gloo worker of {getattr(fn, '__name__', fn)} failed:\n{error}") from None
        except mp.ProcessExitedException as error:
            raise DistributedLaunchError(
                f"a gloo worker of {getattr(fn, '__name__', fn)} exited with status {error.exit_code}; "
                f"expected 0") from None
        return [torch.load(Path(out_dir) / f"rank{rank}.pt", weights_only=True) for rank in range(world_size)]
