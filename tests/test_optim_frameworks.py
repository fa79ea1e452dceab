"""NumPy optimizers reproduce torch.optim and keras.optimizers for 100 steps (chapter 4, rel. error <= 1e-6)."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from companion.optim import reference as R

HYPER = {
    "sgd": dict(lr=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "nesterov": dict(lr=0.05, momentum=0.9),
    "rmsprop": dict(lr=0.01, alpha=0.9, eps=1e-7),
    "adam": dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8),
    "adamw": dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
}
TOL = 1e-6


@pytest.fixture(scope="module")
def problem():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(0)
    batches = [rng.choice(len(X), 64, replace=False) for _ in range(100)]
    params0 = [rng.normal(scale=0.1, size=X.shape[1]), np.array([0.2])]
    return X, y, params0, batches


def moved(path):
    return np.linalg.norm(path[-1] - path[0]) / np.linalg.norm(path[0])


@pytest.mark.parametrize("kind", R.KINDS)
def test_numpy_matches_torch_for_100_steps(problem, kind):
    ours = R.numpy_trajectory(kind, *problem, HYPER[kind], convention="torch")
    theirs = R.torch_trajectory(kind, *problem, HYPER[kind], device="cpu")
    assert ours.shape == theirs.shape == (101, 31)
    assert moved(theirs) > 0.5  # the comparison is over a real run, not a standing start
    assert R.max_relative_error(ours, theirs) <= TOL


@pytest.mark.parametrize("kind", R.KINDS)
def test_numpy_matches_keras_for_100_steps(problem, kind):
    ours = R.numpy_trajectory(kind, *problem, HYPER[kind], convention="keras")
    theirs = R.keras_trajectory(kind, *problem, HYPER[kind])
    assert moved(theirs) > 0.5
    assert R.max_relative_error(ours, theirs) <= TOL


def test_a_learning_rate_drop_separates_torch_momentum_from_keras_momentum(problem):
    schedule = lambda t: 0.05 if t <= 50 else 0.005  # noqa: E731
    torch_path = R.torch_trajectory("momentum", *problem, HYPER["momentum"], lr_schedule=schedule, device="cpu")
    keras_path = R.keras_trajectory("momentum", *problem, HYPER["momentum"], lr_schedule=schedule)
    pytorch_form = R.numpy_trajectory("momentum", *problem, HYPER["momentum"], "torch", lr_schedule=schedule)
    classic_form = R.numpy_trajectory("momentum", *problem, HYPER["momentum"], "keras", lr_schedule=schedule)
    assert R.max_relative_error(pytorch_form, torch_path) <= TOL
    assert R.max_relative_error(classic_form, keras_path) <= TOL
    assert R.max_relative_error(pytorch_form[:51], classic_form[:51]) <= 1e-12  # same while lr is constant
    assert R.max_relative_error(pytorch_form, classic_form) > 1e-3  # different after the drop


def test_keras_everyday_float32_hyperparameters_miss_by_more_than_float64_noise(problem):
    ours = R.numpy_trajectory("adam", *problem, HYPER["adam"], convention="keras")
    everyday = R.keras_trajectory("adam", *problem, HYPER["adam"], exact=False)
    assert 1e-8 < R.max_relative_error(ours, everyday) < 1e-4


def test_reference_rejects_bad_arguments(problem):
    X, y, params0, batches = problem
    with pytest.raises(ValueError, match=r"kind must be one of"):
        R.numpy_trajectory("lbfgs", X, y, params0, batches, {"lr": 0.1})
    with pytest.raises(ValueError, match=r"sgd takes hyperparameters \['lr'\]; got unknown \['betas'\]"):
        R.numpy_trajectory("sgd", X, y, params0, batches, {"lr": 0.1, "betas": (0.9, 0.99)})
    with pytest.raises(ValueError, match=r"lr must be > 0; got -0.1"):
        R.numpy_trajectory("adam", X, y, params0, batches, {"lr": -0.1})
    with pytest.raises(ValueError, match=r"X and y must have the same number of rows; got 569 and 10"):
        R.numpy_trajectory("sgd", X, y[:10], params0, batches, {"lr": 0.1})
    with pytest.raises(ValueError, match=r"batches\[0\] indexes rows outside"):
        R.numpy_trajectory("sgd", X, y, params0, [np.array([0, 10_000])], {"lr": 0.1})
    with pytest.raises(ValueError, match=r"params0 must have shapes"):
        R.torch_trajectory("sgd", X, y, [np.zeros(3), np.zeros(1)], batches, {"lr": 0.1}, device="cpu")
    with pytest.raises(ValueError, match=r"path and reference must have the same shape"):
        R.max_relative_error(np.zeros((3, 2)), np.zeros((4, 2)))
