"""Per-device training memory under DDP and ZeRO stages, and the pipeline bubble (book chapter 14).

A model of P parameters trained with Adam in mixed precision keeps, per
parameter, 2 bytes of half-precision weights, 2 bytes of half-precision
gradients and 12 bytes of optimiser state (a float32 master copy of the
weight and Adam's two float32 moments): 16 P bytes in all, before any
activation. Plain data parallelism (DDP) replicates all of it on each of the N
devices. ZeRO partitions it: stage 1 the optimiser state, stage 2 also the
gradients, stage 3 (FSDP's full sharding) also the weights, Eq. (14.6).
Tensor and pipeline parallelism divide the model itself over t x p devices
before data parallelism replicates (or ZeRO shards) what each holds.

These are model-state bytes only: activations, temporary buffers, the
communication buckets and allocator fragmentation come on top. The functions
are framework-free.
"""

from __future__ import annotations

from companion.checks import check_choice, check_positive_int

STAGES = ("ddp", "zero1", "zero2", "zero3")


def _per_parameter_bytes(optimizer: str = "adam", precision: str = "mixed_bf16") -> dict[str, int]:
    """Bytes per parameter of weights, gradients and optimiser state (the fp32 master copy included).

    Taken from chapter 13's Eq. (13.7) (:func:`companion.scaling.memory.training_state_bytes`);
    ZeRO counts the master copy with the optimiser state, because only the
    optimiser reads it. Mixed-precision Adam gives 2, 2 and 12.
    """
    from companion.scaling.memory import training_state_bytes

    parts = training_state_bytes(1, optimizer, precision)
    return {"weights": parts["weights"], "gradients": parts["gradients"],
            "optimizer_state": parts["master_weights"] + parts["optimizer_state"]}


def training_memory_per_device(
    n_params,
    data_parallel,
    stage: str = "ddp",
    *,
    tensor_parallel=1,
    pipeline_parallel=1,
    optimizer: str = "adam",
    precision: str = "mixed_bf16",
) -> dict[str, float]:
    """Bytes of model state on one device, Eq. (14.6).

    Args:
        n_params: parameters of the whole model, P.
        data_parallel: replicas N over which ZeRO shards (the data-parallel world size).
        stage: ``"ddp"`` (nothing sharded), ``"zero1"`` (optimiser state sharded),
            ``"zero2"`` (+ gradients), ``"zero3"`` (+ weights; FSDP full sharding).
        tensor_parallel, pipeline_parallel: the model is first divided over
            t x p devices (evenly, an idealisation).
        optimizer, precision: as in chapter 13 (:func:`_per_parameter_bytes`); the
            defaults, Adam in mixed bf16 precision, cost 2 + 2 + 12 bytes per parameter.

    Returns:
        ``{"weights", "gradients", "optimizer_state", "total"}`` in bytes.
    """
    n_params = check_positive_int(n_params, "n_params")
    n = check_positive_int(data_parallel, "data_parallel")
    t = check_positive_int(tensor_parallel, "tensor_parallel")
    p = check_positive_int(pipeline_parallel, "pipeline_parallel")
    check_choice(stage, "stage", STAGES)
    per = _per_parameter_bytes(optimizer, precision)
    local = n_params / (t * p)
    level = STAGES.index(stage)
    weights = per["weights"] * local / (n if level >= 3 else 1)
    grads = per["gradients"] * local / (n if level >= 2 else 1)
    state = per["optimizer_state"] * local / (n if level >= 1 else 1)
    return {"weights": weights, "gradients": grads, "optimizer_state": state, "total": weights + grads + state}


def pipeline_bubble_fraction(stages, micro_batches) -> float:
    """Idle fraction of a GPipe-style pipeline schedule, (p - 1) / (m + p - 1), Eq. (14.8).

    With p stages and m micro-batches per step, each device works m of the
    m + p - 1 time slots of the forward (and again of the backward) sweep.
    """
    p = check_positive_int(stages, "stages")
    m = check_positive_int(micro_batches, "micro_batches")
    return (p - 1) / (m + p - 1)
