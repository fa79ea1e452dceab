"""The chapter 1 MLP as a Keras model, built from NumPy parameters.

A Keras ``Dense`` kernel already has the book's (d_in, d_out) layout, so the
weights are copied in as they are. With them copied, the model computes
exactly Eq. (1.9).
"""

from __future__ import annotations

import numpy as np

from companion.nn.forward import check_network

_KERAS_NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "linear": "linear", "softmax": "softmax"}


def keras_mlp_from_params(params, activations, dtype: str | None = None):
    """Build a ``keras.Sequential`` whose Dense layers hold copies of ``params``.

    Args:
        params: list of (W, b) in the book's layout, W (d_in, d_out).
        activations: one name per layer.
        dtype: ``"float64"`` or ``"float32"``; default follows the weights' dtype.
    """
    from companion.frameworks import import_tensorflow

    import_tensorflow()
    import keras

    check_network(params, activations)
    if dtype is None:
        dtype = "float64" if np.asarray(params[0][0]).dtype == np.float64 else "float32"
    d_in = np.shape(params[0][0])[0]
    layers = [keras.Input(shape=(d_in,), dtype=dtype)]
    layers += [
        keras.layers.Dense(np.shape(W)[1], activation=_KERAS_NAMES[name], dtype=dtype)
        for (W, _), name in zip(params, activations)
    ]
    model = keras.Sequential(layers)
    for layer, (W, b) in zip(model.layers, params):
        layer.set_weights([np.asarray(W, dtype=dtype), np.asarray(b, dtype=dtype)])
    return model
