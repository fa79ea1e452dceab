"""Optimizers in NumPy (book chapter 4), with PyTorch and Keras twins in ``reference``.

Every optimizer holds a list of NumPy arrays and updates them in place:

    opt = Adam([W, b], lr=1e-3)
    opt.step([dW, db])

``sgd`` (GD, SGD, classic and PyTorch momentum, Nesterov), ``rmsprop``,
``adam`` (Adam, AdamW), ``landscapes`` (test functions and a path recorder),
``reference`` (the same runs through torch.optim and keras.optimizers; imports
its framework on use). Learning-rate schedules (chapter 6) live in
``companion.optim.schedules``.
"""

from companion.optim.adam import Adam, AdamW
from companion.optim.base import Optimizer
from companion.optim.landscapes import (
    ill_conditioned_matrix,
    quadratic,
    quadratic_grad,
    rosenbrock,
    rosenbrock_grad,
    run_path,
)
from companion.optim.rmsprop import RMSProp
from companion.optim.schedules import cosine_decay, step_decay, warmup_cosine
from companion.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSProp",
    "ill_conditioned_matrix",
    "quadratic",
    "quadratic_grad",
    "rosenbrock",
    "rosenbrock_grad",
    "run_path",
    "cosine_decay",
    "step_decay",
    "warmup_cosine",
]
