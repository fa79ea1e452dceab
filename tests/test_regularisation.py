"""Chapter 6: dropout, normalisation, learning-rate schedules, early stopping, the torch classifier."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.nn.dropout import Dropout
from companion.nn.normalization import BatchNorm, layer_norm
from companion.optim.schedules import cosine_decay, step_decay, warmup_cosine
from companion.train.early_stopping import EarlyStopping
from companion.train.torch_classifier import build_mlp, train_classifier


# Dropout ---------------------------------------------------------------------------------------

def test_dropout_keeps_the_expectation_and_uses_one_mask_forward_and_back():
    layer = Dropout(0.3, np.random.default_rng(0))
    A = np.full((200, 50), 2.0)
    out = layer.forward(A)
    assert set(np.unique(out)) == {0.0, 2.0 / 0.7}
    assert out.mean() == pytest.approx(2.0, rel=0.02)
    grad = layer.backward(np.ones_like(A))
    np.testing.assert_array_equal(grad != 0, out != 0)
    np.testing.assert_allclose(grad[grad != 0], 1 / 0.7)


def test_dropout_is_the_identity_at_test_time_and_for_p_zero():
    A = np.arange(6.0).reshape(2, 3)
    layer = Dropout(0.5, np.random.default_rng(0))
    np.testing.assert_array_equal(layer.forward(A, training=False), A)
    np.testing.assert_array_equal(layer.backward(np.ones_like(A)), np.ones_like(A))
    np.testing.assert_array_equal(Dropout(0.0, np.random.default_rng(0)).forward(A), A)


def test_dropout_keeps_float32():
    out = Dropout(0.5, np.random.default_rng(0)).forward(np.ones((3, 3), dtype=np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_rates_outside_0_1(p):
    with pytest.raises(ValueError, match=rf"dropout rate p must be in \[0, 1\); got {p}"):
        Dropout(p, np.random.default_rng(0))


def test_dropout_rejects_bad_rng_and_mismatched_gradient():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed; got float"):
        Dropout(0.5, 3.0)
    seeded, generator = Dropout(0.5, 3), Dropout(0.5, np.random.default_rng(3))  # an int is a seed
    np.testing.assert_array_equal(seeded.forward(np.ones((4, 5))), generator.forward(np.ones((4, 5))))
    layer = Dropout(0.5, np.random.default_rng(0))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"forward output's shape \(2, 3\); got \(3, 2\)"):
        layer.backward(np.ones((3, 2)))


# Normalisation ---------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(st.integers(2, 9), st.integers(2, 9), st.integers(0, 2**31))
def test_layer_norm_matches_torch(n, d, seed):
    rng = np.random.default_rng(seed)
    X, gamma, beta = rng.normal(3, 5, size=(n, d)), rng.normal(size=d), rng.normal(size=d)
    expected = torch.nn.functional.layer_norm(
        torch.as_tensor(X), (d,), torch.as_tensor(gamma), torch.as_tensor(beta), eps=1e-5
    ).numpy()
    np.testing.assert_allclose(layer_norm(X, gamma, beta), expected, atol=1e-12)


def test_batch_norm_matches_torch_in_training_and_evaluation():
    rng = np.random.default_rng(1)
    ours = BatchNorm(5, eps=1e-5, momentum=0.2)
    theirs = torch.nn.BatchNorm1d(5, eps=1e-5, momentum=0.2, dtype=torch.float64).train()
    for _ in range(6):
        X = rng.normal(1, 2, size=(7, 5))
        np.testing.assert_allclose(ours.forward(X), theirs(torch.as_tensor(X)).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), atol=1e-12)
    theirs.eval()
    X = rng.normal(size=(3, 5))
    np.testing.assert_allclose(ours.forward(X, training=False), theirs(torch.as_tensor(X)).detach().numpy(), atol=1e-12)


def test_normalisation_rejects_bad_input():
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\) to match X \(2, 3\); got \(2,\)"):
        layer_norm(np.ones((2, 3)), gamma=np.ones(2))
    with pytest.raises(ValueError, match="eps must be a number > 0; got 0"):
        layer_norm(np.ones((2, 3)), eps=0)
    with pytest.raises(ValueError, match="needs at least 2 rows"):
        BatchNorm(3).forward(np.ones((1, 3)))
    with pytest.raises(ValueError, match="momentum must be in"):
        BatchNorm(3, momentum=0.0)
    with pytest.raises(ValueError, match="X must be finite"):
        layer_norm(np.array([[1.0, np.nan]]))


# Schedules -------------------------------------------------------------------------------------

def _torch_rates(make_scheduler, steps):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(rates)


@pytest.mark.parametrize(("total", "warmup"), [(50, 5), (120, 30), (10, 1)])
def test_schedules_match_pytorch(total, warmup):
    sched = torch.optim.lr_scheduler
    np.testing.assert_allclose(
        [step_decay(t, 0.3, step_size=7, gamma=0.5) for t in range(total)],
        _torch_rates(lambda o: sched.StepLR(o, step_size=7, gamma=0.5), total),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        [cosine_decay(t, 0.3, total_steps=total, min_lr=0.01) for t in range(total)],
        _torch_rates(lambda o: sched.CosineAnnealingLR(o, T_max=total, eta_min=0.01), total),
        rtol=1e-10,
    )
    if warmup > 1:
        expected = _torch_rates(
            lambda o: sched.SequentialLR(
                o,
                [
                    sched.LinearLR(o, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1),
                    sched.CosineAnnealingLR(o, T_max=total - warmup),
                ],
                milestones=[warmup],
            ),
            total,
        )
        ours = [warmup_cosine(t, 0.3, warmup_steps=warmup, total_steps=total) for t in range(total)]
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-15)


def test_schedule_end_points():
    assert warmup_cosine(0, 1.0, 10, 100) == pytest.approx(0.1)
    assert warmup_cosine(9, 1.0, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(10, 1.0, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(55, 1.0, 10, 100) == pytest.approx(0.5)
    assert cosine_decay(500, 1.0, 100, min_lr=0.2) == pytest.approx(0.2)  # clamps after total_steps


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: step_decay(-1, 0.1, 5), "step must be an int >= 0; got -1"),
        (lambda: step_decay(0, 0.0, 5), "base_lr must be > 0; got 0.0"),
        (lambda: step_decay(0, 0.1, 5, gamma=1.5), r"gamma must be in \(0, 1\]; got 1.5"),
        (lambda: cosine_decay(0, 0.1, 10, min_lr=0.5), r"min_lr must be in \[0, base_lr=0.1\]; got 0.5"),
        (lambda: warmup_cosine(0, 0.1, 10, 10),
         r"warmup_steps must be smaller than total_steps \(some steps must remain to decay\); "
         "got warmup_steps=10, total_steps=10"),
        (lambda: cosine_decay(0, float("nan"), 10), "base_lr must be a finite number > 0; got nan"),
    ],
)
def test_schedules_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_schedules_agree_on_edge_cases():
    from companion.optim.schedules import warmup_linear_lr

    # No warmup: both warmup schedules start at the base rate; warmup + cosine is then plain cosine.
    for t in (0, 1, 50, 99):
        assert warmup_cosine(t, 0.1, 0, 100) == pytest.approx(cosine_decay(t, 0.1, 100))
    assert warmup_linear_lr(0, 0.1, 0, 100) == pytest.approx(0.1)
    # NumPy integer steps (np.arange) are steps like any other, in every schedule.
    schedules = [lambda t: step_decay(t, 0.1, 5), lambda t: cosine_decay(t, 0.1, 10),
                 lambda t: warmup_cosine(t, 0.1, 2, 10), lambda t: warmup_linear_lr(t, 0.1, 2, 10)]
    for schedule in schedules:
        assert [schedule(t) for t in np.arange(10)] == [schedule(t) for t in range(10)]
        with pytest.raises(TypeError, match="step must be an int >= 0; got float 1.0"):
            schedule(1.0)
        with pytest.raises(ValueError, match="step must be an int >= 0; got -1"):
            schedule(np.int64(-1))


# Early stopping --------------------------------------------------------------------------------

def test_early_stopping_stops_after_patience_and_remembers_the_best():
    stopper = EarlyStopping(patience=2)
    decisions = [stopper.update(v) for v in [1.0, 0.8, 0.9, 0.85]]
    assert decisions == [False, False, False, True]
    assert stopper.best_value == 0.8 and stopper.best_step == 1


def test_early_stopping_min_delta_and_max_mode():
    stopper = EarlyStopping(patience=1, min_delta=0.1)
    assert stopper.update(1.0) is False
    assert stopper.update(0.95) is True  # an improvement smaller than min_delta does not count
    stopper = EarlyStopping(patience=2, mode="max")
    assert [stopper.update(v) for v in [0.5, 0.7, 0.6, 0.6]] == [False, False, False, True]
    assert stopper.best_value == 0.7


def test_early_stopping_rejects_bad_arguments():
    with pytest.raises(ValueError, match="patience must be a positive int; got 0"):
        EarlyStopping(0)
    with pytest.raises(ValueError, match="min_delta must be a number >= 0; got -1"):
        EarlyStopping(3, min_delta=-1)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'; got 'up'"):
        EarlyStopping(3, mode="up")
    with pytest.raises(ValueError, match="must be finite; got nan"):
        EarlyStopping(3).update(math.nan)


# The PyTorch classifier ------------------------------------------------------------------------

def test_build_mlp_layer_order():
    model = build_mlp([4, 8, 3], dropout=0.5, norm="layer")
    names = [type(layer).__name__ for layer in model]
    assert names == ["Linear", "LayerNorm", "ReLU", "Dropout", "Linear"]
    assert [type(layer).__name__ for layer in build_mlp([4, 3])] == ["Linear"]
    with pytest.raises(ValueError, match=r"norm must be one of \(None, 'batch', 'layer'\); got 'group'"):
        build_mlp([4, 3], norm="group")


def _toy_data(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


def _train(epochs=15, early_stopping=None):
    torch.manual_seed(0)
    X, y = _toy_data()
    return train_classifier(
        build_mlp([4, 16, 2]), (X[:80], y[:80]), (X[80:], y[80:]), epochs=epochs, batch_size=16,
        make_optimizer=lambda p: torch.optim.SGD(p, lr=0.1), early_stopping=early_stopping, device="cpu",
    )


def test_training_learns_and_is_reproducible():
    first, second = _train(), _train()
    assert first.train_loss == second.train_loss
    assert first.val_acc[-1] > 0.85
    assert first.train_loss[-1] < first.train_loss[0]


def test_schedule_is_applied_per_step():
    torch.manual_seed(0)
    X, y = _toy_data()
    history = train_classifier(
        build_mlp([4, 2]), (X, y), (X, y), epochs=3, batch_size=40,
        make_optimizer=lambda p: torch.optim.SGD(p, lr=1.0), lr_at_step=lambda t: 0.1 / (t + 1), device="cpu",
    )
    assert history.lr == pytest.approx([0.1 / 3, 0.1 / 6, 0.1 / 9])  # 3 steps per epoch; last step's rate


def test_early_stopping_restores_the_best_epoch():
    history = _train(epochs=200, early_stopping=EarlyStopping(patience=3))
    assert history.stopped_epoch < 199
    assert history.best_epoch == int(np.argmin(history.val_loss))


def test_training_rejects_bad_labels():
    X, y = _toy_data()
    with pytest.raises(ValueError, match=r"train y must be 120 integer labels; got shape \(119,\)"):
        train_classifier(build_mlp([4, 2]), (X, y[:-1]), (X, y), 1, 8, lambda p: torch.optim.SGD(p, lr=0.1),
                         device="cpu")
    with pytest.raises(ValueError, match="dtype float64"):
        train_classifier(build_mlp([4, 2]), (X, y.astype(float)), (X, y), 1, 8,
                         lambda p: torch.optim.SGD(p, lr=0.1), device="cpu")
