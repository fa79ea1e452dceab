"""NumPy RNN/LSTM forward passes (Eqs. 8.1-8.6) against torch.nn and keras.layers, and their weight copies."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.rnn import (
    LSTMParams,
    from_keras_lstm,
    from_torch_lstm,
    init_lstm,
    init_rnn,
    lstm_cell_step,
    lstm_forward,
    rnn_forward,
    sigmoid,
    split_gates,
    to_keras_lstm,
    to_torch_lstm,
)
from companion.text import padding_mask

TOL = 1e-5


def torch_packed(module, X, lengths):
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.as_tensor(X), torch.as_tensor(lengths), batch_first=True, enforce_sorted=False
    )
    with torch.no_grad():
        out, state = module(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=X.shape[1])
    return out.numpy(), state


def keras_lstm_layer(d, h, T):
    import keras

    layer = keras.layers.LSTM(h, return_sequences=True, return_state=True)
    layer.build((None, T, d))
    return layer


def test_one_step_matches_the_gate_equations_by_hand():
    # h = 1, d = 1: every gate is a scalar, so Eqs. (8.2)-(8.5) can be written out.
    W = np.array([[0.5, -1.0, 2.0, 0.25]])
    U = np.array([[1.0, 0.5, -0.5, 2.0]])
    b = np.array([0.1, 0.2, 0.3, 0.4])
    x, h, c = np.array([[2.0]]), np.array([[0.5]]), np.array([[-1.0]])
    z = x[0, 0] * W[0] + h[0, 0] * U[0] + b
    i, f, g, o = 1 / (1 + np.exp(-z[0])), 1 / (1 + np.exp(-z[1])), np.tanh(z[2]), 1 / (1 + np.exp(-z[3]))
    c_expected = f * c[0, 0] + i * g
    h_expected = o * np.tanh(c_expected)
    h_t, c_t, gates = lstm_cell_step(x, h, c, LSTMParams(W, U, b), return_gates=True)
    assert c_t[0, 0] == pytest.approx(c_expected, abs=1e-12)
    assert h_t[0, 0] == pytest.approx(h_expected, abs=1e-12)
    assert gates["f"][0, 0] == pytest.approx(f, abs=1e-12)


def test_sigmoid_is_stable_and_correct():
    z = np.array([-1000.0, -3.0, 0.0, 3.0, 1000.0])
    np.testing.assert_allclose(sigmoid(z), [0.0, 1 / (1 + np.exp(3)), 0.5, 1 / (1 + np.exp(-3)), 1.0], atol=1e-15)


@settings(deadline=None, max_examples=15)
@given(
    n=st.integers(1, 5),
    T=st.integers(1, 8),
    d=st.integers(1, 6),
    h=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_lstm_matches_packed_torch_lstm(n, T, d, h, seed, dtype):
    rng = np.random.default_rng(seed)
    params = init_lstm(d, h, rng, dtype)
    X = rng.normal(size=(n, T, d)).astype(dtype)
    lengths = rng.integers(1, T + 1, size=n)
    out, (h_T, c_T) = lstm_forward(X, params, lengths)
    module = torch.nn.LSTM(d, h, batch_first=True, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    to_torch_lstm(module, params)
    t_out, (t_h, t_c) = torch_packed(module, X, lengths)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, t_out, rtol=0, atol=TOL)
    np.testing.assert_allclose(h_T, t_h[0].numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(c_T, t_c[0].numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("seed", [0, 1])
def test_lstm_matches_masked_keras_lstm(seed):
    rng = np.random.default_rng(seed)
    n, T, d, h = 4, 6, 3, 5
    params = init_lstm(d, h, rng, np.float32)
    X = rng.normal(size=(n, T, d)).astype(np.float32)
    lengths = np.array([6, 2, 4, 1])
    out, (h_T, c_T) = lstm_forward(X, params, lengths)
    layer = keras_lstm_layer(d, h, T)
    to_keras_lstm(layer, params)
    mask = padding_mask(lengths, T)
    k_out, k_h, k_c = layer(X, mask=mask)
    np.testing.assert_allclose(k_h.numpy(), h_T, rtol=0, atol=TOL)
    np.testing.assert_allclose(k_c.numpy(), c_T, rtol=0, atol=TOL)
    np.testing.assert_allclose(np.where(mask[..., None], k_out.numpy(), 0.0), out, rtol=0, atol=TOL)


def test_plain_rnn_matches_torch_rnn():
    rng = np.random.default_rng(3)
    n, T, d, h = 3, 5, 4, 2
    W, U, b = params = init_rnn(d, h, rng)
    X = rng.normal(size=(n, T, d))
    lengths = np.array([5, 3, 1])
    out, h_T = rnn_forward(X, params, lengths)
    module = torch.nn.RNN(d, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(W.T))
        module.weight_hh_l0.copy_(torch.as_tensor(U.T))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
        module.bias_hh_l0.zero_()
    t_out, t_h = torch_packed(module, X, lengths)
    np.testing.assert_allclose(out, t_out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_T, t_h[0].numpy(), rtol=0, atol=1e-12)


def test_padding_does_not_change_the_final_state():
    rng = np.random.default_rng(4)
    params = init_lstm(3, 4, rng)
    X = rng.normal(size=(2, 4, 3))
    _, (h_short, c_short) = lstm_forward(X, params)
    X_padded = np.concatenate([X, rng.normal(size=(2, 3, 3)) * 100], axis=1)  # garbage after the end
    out, (h_pad, c_pad) = lstm_forward(X_padded, params, lengths=np.array([4, 4]))
    np.testing.assert_array_equal(h_pad, h_short)
    np.testing.assert_array_equal(c_pad, c_short)
    assert np.all(out[:, 4:] == 0)


def test_zero_length_sequence_keeps_the_initial_state():
    rng = np.random.default_rng(5)
    params = init_lstm(2, 3, rng)
    h0 = rng.normal(size=(1, 3))
    _, (h_T, c_T) = lstm_forward(rng.normal(size=(1, 4, 2)), params, lengths=np.array([0]), h0=h0)
    np.testing.assert_array_equal(h_T, h0)
    np.testing.assert_array_equal(c_T, np.zeros((1, 3)))


def test_weights_round_trip_through_both_frameworks():
    rng = np.random.default_rng(6)
    params = init_lstm(3, 2, rng, np.float32)
    module = torch.nn.LSTM(3, 2)
    to_torch_lstm(module, params)
    assert tuple(module.weight_ih_l0.shape) == (8, 3)
    back = from_torch_lstm(module)
    layer = keras_lstm_layer(3, 2, 4)
    to_keras_lstm(layer, back)
    again = from_keras_lstm(layer)
    for a, b in zip(again, params):
        np.testing.assert_array_equal(a, b)


def test_torch_biases_are_summed_when_read():
    module = torch.nn.LSTM(2, 3)
    params = from_torch_lstm(module)
    expected = (module.bias_ih_l0 + module.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(params.b, expected, atol=1e-7)


def test_split_gates_order():
    Z = np.arange(8.0)[None, :]
    blocks = split_gates(Z)
    assert list(blocks) == ["i", "f", "g", "o"]
    np.testing.assert_array_equal(blocks["g"], [[4.0, 5.0]])
    with pytest.raises(ValueError, match="4h"):
        split_gates(np.zeros((2, 6)))


# --- bad input ---------------------------------------------------------------


def test_mismatched_weight_shapes_are_rejected_when_copying():
    params = init_lstm(3, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="input size 4 and hidden size 2"):
        to_torch_lstm(torch.nn.LSTM(4, 2), params)
    with pytest.raises(ValueError, match="hidden size 5"):
        to_keras_lstm(keras_lstm_layer(3, 5, 4), params)


def test_inconsistent_params_are_rejected():
    W, U, b = init_lstm(3, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"W must have shape \(d, 4h\)"):
        lstm_forward(np.zeros((1, 2, 3)), LSTMParams(W[:, :6], U, b))
    with pytest.raises(ValueError, match=r"b must have shape \(4h,\)"):
        lstm_forward(np.zeros((1, 2, 3)), LSTMParams(W, U, b[:4]))
    with pytest.raises(ValueError, match=r"U must have shape \(h, 4h\)"):
        lstm_forward(np.zeros((1, 2, 3)), LSTMParams(W, U.T, b))
    with pytest.raises(TypeError, match="tuple"):
        lstm_forward(np.zeros((1, 2, 3)), [W, U, b])


def test_bad_sequences_and_lengths_are_rejected():
    params = init_lstm(3, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="3 features per step"):
        lstm_forward(np.zeros((2, 4, 5)), params)
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 4\]"):
        lstm_forward(np.zeros((2, 4, 3)), params, lengths=np.array([2, 9]))
    with pytest.raises(ValueError, match=r"one entry per sequence, shape \(2,\)"):
        lstm_forward(np.zeros((2, 4, 3)), params, lengths=np.array([2, 3, 4]))
    with pytest.raises(TypeError, match="integer"):
        padding_mask(np.array([1.5]), 4)
    with pytest.raises(ValueError, match="3 dimension"):
        lstm_forward(np.zeros((4, 3)), params)
    with pytest.raises(ValueError, match="c0 must have shape"):
        lstm_forward(np.zeros((2, 4, 3)), params, c0=np.zeros((2, 3)))


def test_unsupported_framework_layers_are_rejected():
    params = init_lstm(3, 2, np.random.default_rng(0))
    with pytest.raises(TypeError, match="torch.nn.LSTM"):
        to_torch_lstm(torch.nn.GRU(3, 2), params)
    with pytest.raises(ValueError, match="num_layers=2"):
        to_torch_lstm(torch.nn.LSTM(3, 2, num_layers=2), params)
    with pytest.raises(ValueError, match="bidirectional"):
        from_torch_lstm(torch.nn.LSTM(3, 2, bidirectional=True))
    import keras

    with pytest.raises(ValueError, match="build it first"):
        to_keras_lstm(keras.layers.LSTM(2), params)
    with pytest.raises(TypeError, match="keras.layers.LSTM"):
        from_keras_lstm(keras.layers.GRU(2))


@pytest.mark.parametrize("init", [init_lstm, init_rnn])
def test_init_rejects_bad_sizes_and_rng(init):
    with pytest.raises(ValueError, match="hidden_size must be a positive int; got 0"):
        init(3, 0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="input_size must be a positive int; got float 3.0"):
        init(3.0, 2, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed; got str"):
        init(3, 2, "0")
    same = [np.array_equal(a, b) for a, b in zip(init(3, 2, 5), init(3, 2, np.random.default_rng(5)))]
    assert same == [True, True, True]  # an int rng is a seed


def test_lstm_and_rnn_params_share_one_class_and_one_check():
    from companion.rnn.lstm_numpy import RecurrentParams, check_lstm_params, check_rnn_params

    lstm, rnn = init_lstm(3, 2, 0), init_rnn(3, 2, 0)
    assert isinstance(lstm, RecurrentParams) and isinstance(rnn, RecurrentParams)
    assert (lstm.W.shape, lstm.U.shape, lstm.b.shape) == ((3, 8), (2, 8), (8,))
    assert (rnn.W.shape, rnn.U.shape, rnn.b.shape) == ((3, 2), (2, 2), (2,))
    assert lstm.hidden_size == rnn.hidden_size == 2 and lstm.input_size == rnn.input_size == 3
    with pytest.raises(ValueError, match=r"U must have shape \(h, h\); got \(2, 8\)"):
        check_rnn_params(tuple(lstm))
    with pytest.raises(ValueError, match=r"U must have shape \(h, 4h\); got \(2, 2\)"):
        check_lstm_params(tuple(rnn))
