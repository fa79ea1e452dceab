"""A Keras callback that advances a tqdm progress bar once per training batch (imports Keras).

Defined at module level, in a module that imports Keras, so that it is one class
(``isinstance`` works); ``companion.train.sequence_classifier.train_keras_classifier``
uses it.
"""

from __future__ import annotations

from companion.frameworks import import_tensorflow

import_tensorflow()  # TensorFlow's start-up log lines stay quiet

import keras  # noqa: E402


class ProgressBarCallback(keras.callbacks.Callback):
    """Calls ``bar.update(1)`` after every training batch."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)
