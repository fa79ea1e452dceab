"""Data parallelism in Keras with ``tf.distribute.MirroredStrategy`` (book chapter 14).

``MirroredStrategy`` keeps one copy (a "mirror") of every variable on each of
its devices. ``model.fit`` splits each global batch of B examples into N
per-replica batches of B / N; every replica computes its loss divided by N
(Keras scales the per-replica mean loss for the number of replicas), and the
gradients are *summed* over replicas by an all-reduce before the optimiser
applies them to every mirror. The sum of the ``loss / N`` gradients is the mean
of Eq. (14.3), so one mirrored step equals one single-device step on the same
global batch.

Without several GPUs the identity can still be run: TensorFlow can split the
one physical CPU into logical CPU devices with
``tf.config.set_logical_device_configuration`` (:func:`configure_logical_cpus`),
which must happen before TensorFlow's runtime is initialised (before the first
TensorFlow op).
"""

from __future__ import annotations

import contextlib

import numpy as np

from companion.checks import check_positive_int


def configure_logical_cpus(n=2) -> list[str]:
    """Split the physical CPU into ``n`` logical TensorFlow devices; returns their names.

    Calling it again with the same ``n`` is harmless. Raises RuntimeError when
    TensorFlow's runtime was initialised before the split (the message says to
    call this first, in a fresh process), naming the expected and the actual
    number of logical CPUs.
    """
    from companion.frameworks import import_tensorflow

    n = check_positive_int(n, "n")
    tf = import_tensorflow()
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
    except RuntimeError:
        pass  # the runtime is initialised; accept it only if it already has n logical CPUs
    names = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(names) != n:
        raise RuntimeError(
            f"expected {n} logical CPU devices, got {len(names)}: TensorFlow's runtime was initialised before the "
            f"CPU could be split. Call configure_logical_cpus({n}) before any TensorFlow op, in a fresh process."
        )
    return names


def build_keras_mlp(sizes, seed: int):
    """A Keras ``Sequential`` of Dense layers (ReLU between them, logits out) with seeded Glorot weights."""
    import keras

    sizes = [check_positive_int(s, "mlp size") for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least [d_in, n_classes]; got {sizes}")
    layers = [keras.Input((sizes[0],))]
    for i, width in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        layers.append(keras.layers.Dense(width, activation=None if last else "relu",
                                         kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i)))
    return keras.Sequential(layers)


def train_keras(x, y, sizes, *, steps, global_batch, lr, seed=0, strategy=None, initial_weights=None) -> dict:
    """Train the Keras MLP for ``steps`` steps of ``global_batch`` with SGD; return losses and weights.

    The batches are those of :func:`companion.distributed.ddp_train.batch_indices`
    (the same as the PyTorch runs). With a ``strategy``, the model and its
    optimiser are created inside ``strategy.scope()`` and ``fit`` distributes
    each global batch over the replicas. ``initial_weights`` (a list from
    ``get_weights()``) overrides the seeded initialisation so that two runs
    start from the same point. The per-step losses are recovered from Keras's
    running mean of the epoch: l_k = k m_k - (k - 1) m_{k-1}.
    """
    import keras

    from companion.distributed.ddp_train import batch_indices
    from companion.distributed.keras_loss_record import BatchLossRecord
    from companion.frameworks import import_tensorflow

    tf = import_tensorflow()
    steps = check_positive_int(steps, "steps")
    global_batch = check_positive_int(global_batch, "global_batch")
    if strategy is not None and global_batch % strategy.num_replicas_in_sync:
        raise ValueError(f"global_batch must be a multiple of the {strategy.num_replicas_in_sync} replicas; "
                         f"got {global_batch}")
    order = np.concatenate([batch_indices(len(x), global_batch, s, seed) for s in range(steps)])
    dataset = tf.data.Dataset.from_tensor_slices((np.asarray(x, np.float32)[order], np.asarray(y)[order]))
    dataset = dataset.batch(global_batch)
    record = BatchLossRecord()
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_keras_mlp(sizes, seed)
        if initial_weights is not None:
            model.set_weights(initial_weights)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[record])
    means = np.asarray(record.losses, dtype=np.float64)
    k = np.arange(1, len(means) + 1)
    losses = k * means - np.concatenate([[0.0], (k[:-1] * means[:-1])])
    return {"losses": losses.tolist(), "weights": model.get_weights(),
            "replicas": 1 if strategy is None else int(strategy.num_replicas_in_sync)}


def mirrored_vs_single(x, y, sizes, *, devices, steps, global_batch, lr, seed=0) -> dict:
    """Train the same Keras MLP on one device and under ``MirroredStrategy(devices)``; compare.

    Both runs start from the same weights and read the same global batches.
    Returns both loss lists, the largest loss difference and the largest
    weight difference after training.
    """
    from companion.frameworks import import_tensorflow

    tf = import_tensorflow()
    with tf.device(devices[0]):
        single = train_keras(x, y, sizes, steps=steps, global_batch=global_batch, lr=lr, seed=seed)
        start = build_keras_mlp(sizes, seed).get_weights()
    strategy = tf.distribute.MirroredStrategy(devices)
    mirrored = train_keras(x, y, sizes, steps=steps, global_batch=global_batch, lr=lr, seed=seed,
                           strategy=strategy, initial_weights=start)
    return {
        "single_losses": single["losses"], "mirrored_losses": mirrored["losses"],
        "replicas": mirrored["replicas"],
        "max_loss_difference": float(np.max(np.abs(np.subtract(single["losses"], mirrored["losses"])))),
        "max_weight_difference": float(max(np.max(np.abs(a - b))
                                           for a, b in zip(single["weights"], mirrored["weights"]))),
    }
