"""Distributed training (book chapter 14): data parallelism, DDP, accumulation, checkpoints, sharding.

Importing this package is cheap: it loads neither PyTorch nor TensorFlow. The
modules that need a framework import it inside their functions:

- :mod:`~companion.distributed.data_parallel`: the data-parallel identity, Eqs. (14.1)-(14.3),
  and sharding a global batch over ranks;
- :mod:`~companion.distributed.ddp_train`: a ``torchrun`` entry point training with
  ``DistributedDataParallel`` (gloo on CPU, NCCL on CUDA);
- :mod:`~companion.distributed.launch`: building and running the ``torchrun`` command, and
  spawning small gloo jobs from Python;
- :mod:`~companion.distributed.accumulation`: gradient accumulation, Eq. (14.5);
- :mod:`~companion.distributed.checkpoint`: save and resume exactly (optimiser, scheduler, gradient
  scaler and RNG states), refusing a model of another configuration or signature;
- :mod:`~companion.distributed.memory`: per-device memory under DDP and ZeRO stages, Eq. (14.6);
- :mod:`~companion.distributed.sharding`: ZeRO-1 sharded Adam (reduce-scatter, all-gather) and
  tensor-parallel linear layers, Eq. (14.7);
- :mod:`~companion.distributed.tf_mirrored`: ``tf.distribute.MirroredStrategy`` on logical CPUs
  (its per-batch loss callback is :mod:`~companion.distributed.keras_loss_record`).
"""

from companion.distributed.data_parallel import check_world_size, shard_bounds, split_batch
from companion.distributed.memory import pipeline_bubble_fraction, training_memory_per_device

__all__ = [
    "check_world_size",
    "pipeline_bubble_fraction",
    "shard_bounds",
    "split_batch",
    "training_memory_per_device",
]
