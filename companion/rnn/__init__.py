"""Recurrent networks and LSTM classifiers (book chapter 8).

- :mod:`companion.rnn.lstm_numpy`: the plain RNN and the LSTM forward pass in
  NumPy over a batch of padded sequences, Eqs. (8.1)-(8.8);
- :mod:`companion.rnn.weights`: the weight layouts of ``torch.nn.LSTM`` and
  ``keras.layers.LSTM`` and copies in both directions;
- :mod:`companion.rnn.classifiers`: LSTM sentiment classifiers in PyTorch
  (packed sequences) and Keras (masking); ``companion.train.sequence_classifier``
  trains and scores them;
- :mod:`companion.rnn.baseline`: the TF-IDF + logistic-regression baseline.

Only the NumPy modules are imported here; PyTorch, Keras and scikit-learn load
when a function that needs them is called.
"""

from companion.rnn.lstm_numpy import (
    GATES,
    LSTMParams,
    RNNParams,
    check_lstm_params,
    check_rnn_params,
    init_lstm,
    init_rnn,
    lstm_cell_step,
    lstm_forward,
    rnn_cell_step,
    rnn_forward,
    sigmoid,
    split_gates,
)
from companion.rnn.weights import from_keras_lstm, from_torch_lstm, to_keras_lstm, to_torch_lstm

__all__ = [
    "GATES",
    "LSTMParams",
    "RNNParams",
    "check_lstm_params",
    "check_rnn_params",
    "from_keras_lstm",
    "from_torch_lstm",
    "init_lstm",
    "init_rnn",
    "lstm_cell_step",
    "lstm_forward",
    "rnn_cell_step",
    "rnn_forward",
    "sigmoid",
    "split_gates",
    "to_keras_lstm",
    "to_torch_lstm",
]
