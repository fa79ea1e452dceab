"""A Keras callback that records the running loss after every training batch (imports Keras).

Defined at module level, in a module that imports Keras, so that it is one class
(``isinstance`` and pickling work), as ``companion.train.keras_progress`` does for the
progress bar; ``companion.distributed.tf_mirrored.train_keras`` uses it.
"""

from __future__ import annotations

from companion.frameworks import import_tensorflow

import_tensorflow()  # TensorFlow's start-up log lines stay quiet

import keras  # noqa: E402


class BatchLossRecord(keras.callbacks.Callback):
    """Appends ``float(logs["loss"])`` to ``losses`` after every training batch.

    Keras reports the running mean of the epoch's losses so far, m_k after batch k;
    ``tf_mirrored.train_keras`` turns these back into per-step losses.
    """

    def __init__(self, losses: list | None = None):
        super().__init__()
        self.losses = [] if losses is None else losses

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))
