"""The same optimization run in NumPy, ``torch.optim`` and ``keras.optimizers`` (chapter 4).

The problem is logistic regression, mean binary cross-entropy of the logits
z = X w + b, with parameters ``[w (d,), b (1,)]``. Each framework computes its
own gradient (analytic in NumPy, autograd in PyTorch, ``tf.GradientTape`` in
Keras) on the same sequence of minibatches and hands it to its own optimizer,
so agreement of the trajectories checks the update rules of Eqs. (4.3)-(4.15)
and nothing else can hide a difference.

Hyperparameters are given once, framework-neutrally, and translated:

====================  =========================  ==================================
our name              torch.optim                keras.optimizers
====================  =========================  ==================================
lr                    lr                         learning_rate (stored as float32)
momentum, nesterov    momentum, nesterov         momentum, nesterov
alpha (RMSProp)       alpha                      rho
eps                   eps                        epsilon
betas                 betas                      beta_1, beta_2
weight_decay (AdamW)  weight_decay               weight_decay
====================  =========================  ==================================

``numpy_trajectory(..., convention="torch")`` uses the PyTorch forms (momentum
buffer of Eq. (4.5), eps outside the root, Eq. (4.8), standard eps, Eq. (4.12));
``convention="keras"`` uses the Keras forms (classic momentum Eq. (4.4), eps
inside the root Eq. (4.9), eps hat Eq. (4.13)). PyTorch and TensorFlow are
imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from companion.checks import as_float_array, check_choice
from companion.optim.adam import Adam, AdamW
from companion.optim.rmsprop import RMSProp
from companion.optim.sgd import SGD

# --- the registry: one row per optimizer kind ------------------------------------------
# Each family has one builder per framework, side by side; a row of OPTIMIZERS names the
# hyperparameters a kind takes and its three builders. A new optimizer is one new row
# (and, for a new family, its three builders here).


def _numpy_sgd(params, hyper, keras_forms, *, nesterov=False):
    return SGD(params, lr=hyper["lr"], momentum=hyper.get("momentum", 0.0), nesterov=nesterov,
               form="classic" if keras_forms else "pytorch")


def _torch_sgd(torch, tensors, hyper, *, nesterov=False):
    return torch.optim.SGD(tensors, lr=hyper["lr"], momentum=hyper.get("momentum", 0.0), nesterov=nesterov)


def _keras_sgd(keras, hyper, f64, *, nesterov=False):
    opt = keras.optimizers.SGD(learning_rate=hyper["lr"], momentum=hyper.get("momentum", 0.0), nesterov=nesterov)
    if opt.momentum:
        opt.momentum = f64(opt.momentum)  # the constructor accepts only a Python float
    return opt


def _numpy_rmsprop(params, hyper, keras_forms):
    return RMSProp(params, lr=hyper["lr"], alpha=hyper.get("alpha", 0.99), eps=hyper.get("eps", 1e-8),
                   eps_placement="inside" if keras_forms else "outside")


def _torch_rmsprop(torch, tensors, hyper):
    return torch.optim.RMSprop(tensors, lr=hyper["lr"], alpha=hyper.get("alpha", 0.99), eps=hyper.get("eps", 1e-8))


def _keras_rmsprop(keras, hyper, f64):
    return keras.optimizers.RMSprop(learning_rate=hyper["lr"], rho=hyper.get("alpha", 0.99),
                                    epsilon=hyper.get("eps", 1e-8))


def _numpy_adam(params, hyper, keras_forms, *, decoupled=False):
    cls, extra = (AdamW, {"weight_decay": hyper.get("weight_decay", 0.01)}) if decoupled else (Adam, {})
    return cls(params, lr=hyper["lr"], betas=hyper.get("betas", (0.9, 0.999)), eps=hyper.get("eps", 1e-8),
               eps_form="hat" if keras_forms else "standard", **extra)


def _torch_adam(torch, tensors, hyper, *, decoupled=False):
    common = dict(lr=hyper["lr"], betas=hyper.get("betas", (0.9, 0.999)), eps=hyper.get("eps", 1e-8))
    if decoupled:
        return torch.optim.AdamW(tensors, weight_decay=hyper.get("weight_decay", 0.01), **common)
    return torch.optim.Adam(tensors, **common)


def _keras_adam(keras, hyper, f64, *, decoupled=False):
    beta_1, beta_2 = (f64(beta) for beta in hyper.get("betas", (0.9, 0.999)))
    common = dict(learning_rate=hyper["lr"], beta_1=beta_1, beta_2=beta_2, epsilon=hyper.get("eps", 1e-8))
    if not decoupled:
        return keras.optimizers.Adam(**common)
    opt = keras.optimizers.AdamW(weight_decay=hyper.get("weight_decay", 0.01), **common)
    opt.weight_decay = f64(opt.weight_decay)
    return opt


@dataclass(frozen=True)
class OptimizerKind:
    """One optimizer of chapter 4: the hyperparameters it takes and its NumPy, PyTorch and Keras builders."""

    hyper: frozenset
    numpy: Callable
    torch: Callable
    keras: Callable


def _kind(hyper, numpy, torch, keras, **flags) -> OptimizerKind:
    return OptimizerKind(frozenset(hyper), partial(numpy, **flags), partial(torch, **flags), partial(keras, **flags))


OPTIMIZERS = {
    "sgd": _kind({"lr"}, _numpy_sgd, _torch_sgd, _keras_sgd),
    "momentum": _kind({"lr", "momentum"}, _numpy_sgd, _torch_sgd, _keras_sgd),
    "nesterov": _kind({"lr", "momentum"}, _numpy_sgd, _torch_sgd, _keras_sgd, nesterov=True),
    "rmsprop": _kind({"lr", "alpha", "eps"}, _numpy_rmsprop, _torch_rmsprop, _keras_rmsprop),
    "adam": _kind({"lr", "betas", "eps"}, _numpy_adam, _torch_adam, _keras_adam),
    "adamw": _kind({"lr", "betas", "eps", "weight_decay"}, _numpy_adam, _torch_adam, _keras_adam, decoupled=True),
}
KINDS = tuple(OPTIMIZERS)
CONVENTIONS = ("torch", "keras")


def _check_hyper(kind: str, hyper: dict) -> dict:
    check_choice(kind, "kind", KINDS)
    allowed = OPTIMIZERS[kind].hyper
    unknown = set(hyper) - allowed
    if unknown:
        raise ValueError(f"{kind} takes hyperparameters {sorted(allowed)}; got unknown {sorted(unknown)}")
    if "lr" not in hyper:
        raise ValueError(f"{kind} needs a learning rate 'lr'; got {sorted(hyper)}")
    return dict(hyper)


def make_numpy_optimizer(kind: str, params, convention: str = "torch", **hyper):
    """Build the NumPy optimizer for ``kind`` with the update forms of ``convention``.

    ``kind`` is one of :data:`KINDS`; ``hyper`` uses the names of the table above.
    """
    hyper = _check_hyper(kind, hyper)
    check_choice(convention, "convention", CONVENTIONS)
    return OPTIMIZERS[kind].numpy(params, hyper, convention == "keras")


def logistic_loss_and_grads(params, X, y):
    """Mean binary cross-entropy of logits z = X w + b, and its gradients [dL/dw, dL/db].

    dL/dz_i = (sigmoid(z_i) - y_i) / n, so dL/dw = X^T (sigmoid(z) - y) / n and
    dL/db = sum_i (sigmoid(z_i) - y_i) / n.
    """
    w, b = params
    z = X @ w + b[0]
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    e = np.exp(-np.abs(z))
    p = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    r = (p - y) / len(y)
    return float(loss), [X.T @ r, np.array([r.sum()])]


def _prepare(X, y, params0, batches, steps_name="batches"):
    X = as_float_array(X, "X", ndim=2).astype(np.float64)
    y = as_float_array(y, "y", ndim=1).astype(np.float64)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}")
    if len(params0) != 2:
        raise ValueError(f"params0 must be [w, b]; got {len(params0)} array(s)")
    w0 = as_float_array(params0[0], "params0[0]", ndim=1).astype(np.float64)
    b0 = as_float_array(params0[1], "params0[1]", ndim=1).astype(np.float64)
    if w0.shape != (X.shape[1],) or b0.shape != (1,):
        raise ValueError(f"params0 must have shapes [({X.shape[1]},), (1,)]; got [{w0.shape}, {b0.shape}]")
    batches = [np.asarray(idx) for idx in batches]
    if not batches:
        raise ValueError(f"{steps_name} must hold at least one index array; got none")
    for t, idx in enumerate(batches):
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"batches[{t}] must be a non-empty 1-D integer index array; got {idx!r}")
        if idx.min() < 0 or idx.max() >= len(X):
            raise ValueError(f"batches[{t}] indexes rows outside [0, {len(X)}); got {idx.min()}..{idx.max()}")
    return X, y, w0, b0, batches


def numpy_trajectory(kind, X, y, params0, batches, hyper, convention="torch", lr_schedule=None):
    """Run the NumPy optimizer over ``batches``; return (len(batches) + 1, d + 1) rows [w, b].

    ``lr_schedule``, if given, maps the step t = 1, 2, ... to the learning rate
    used at that step.
    """
    X, y, w0, b0, batches = _prepare(X, y, params0, batches)
    params = [w0.copy(), b0.copy()]
    opt = make_numpy_optimizer(kind, params, convention, **hyper)
    rows = [np.concatenate(params)]
    for t, idx in enumerate(batches, start=1):
        if lr_schedule is not None:
            opt.lr = lr_schedule(t)
        _, grads = logistic_loss_and_grads(params, X[idx], y[idx])
        opt.step(grads)
        rows.append(np.concatenate(params))
    return np.array(rows)


def _torch_device(device):
    import torch

    if device is None:
        from companion.device import get_device

        device = get_device()
    device = torch.device(device)
    # Apple's MPS backend has no float64, and these comparisons are made in float64.
    return torch.device("cpu") if device.type == "mps" else device


def torch_trajectory(kind, X, y, params0, batches, hyper, lr_schedule=None, device=None):
    """The run of :func:`numpy_trajectory` with ``torch.optim`` and autograd, in float64.

    ``device`` defaults to ``companion.get_device()`` (CPU instead of MPS, which lacks float64).
    """
    import torch

    hyper = _check_hyper(kind, hyper)
    X, y, w0, b0, batches = _prepare(X, y, params0, batches)
    dev = _torch_device(device)
    Xt, yt = torch.as_tensor(X, device=dev), torch.as_tensor(y, device=dev)
    w = torch.tensor(w0, device=dev, requires_grad=True)
    b = torch.tensor(b0, device=dev, requires_grad=True)
    opt = OPTIMIZERS[kind].torch(torch, [w, b], hyper)
    rows = [np.concatenate([w0, b0])]
    for t, idx in enumerate(batches, start=1):
        if lr_schedule is not None:
            for group in opt.param_groups:
                group["lr"] = lr_schedule(t)
        index = torch.as_tensor(idx, device=dev)
        z = Xt[index] @ w + b[0]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, yt[index])
        opt.zero_grad()
        loss.backward()
        opt.step()
        rows.append(torch.cat([w, b]).detach().cpu().numpy())
    return np.array(rows)


def keras_trajectory(kind, X, y, params0, batches, hyper, lr_schedule=None, exact=True):
    """The run of :func:`numpy_trajectory` with ``keras.optimizers`` and ``tf.GradientTape``, in float64.

    Keras (3.15, TensorFlow backend) rounds its hyperparameters to float32 even
    when the variables are float64, which blurs a float64 comparison at the
    1e-9 to 1e-5 level:

    - the learning rate lives in a variable of the default float type
      ``keras.config.floatx()``, normally float32 (0.1 becomes 0.10000000149...);
    - momentum, beta1, beta2 and weight decay are Python floats that the update
      passes through ``ops.cast(value, "float64")``, and TensorFlow converts a
      Python float to a float32 tensor before casting it: 0.999 becomes
      0.99900001287..., so Adam's first bias correction 1 - beta2 is off by
      1.3e-5 relative.

    With ``exact=True`` (the default) the run sets ``floatx`` to float64 for its
    duration (restoring it afterwards) and replaces those hyperparameters by
    float64 tensors, so Keras computes exactly Eqs. (4.4), (4.9), (4.13) and
    (4.15). With ``exact=False`` Keras runs with its everyday float32 rounding.
    """
    from companion.device import get_tf_device
    from companion.frameworks import import_tensorflow

    tf = import_tensorflow()
    import keras

    hyper = _check_hyper(kind, hyper)
    X, y, w0, b0, batches = _prepare(X, y, params0, batches)
    if not isinstance(exact, bool):
        raise TypeError(f"exact must be a bool; got {type(exact).__name__} {exact!r}")
    previous_floatx = keras.config.floatx()
    if exact:
        keras.config.set_floatx("float64")
    try:
        return _keras_run(tf, keras, kind, X, y, w0, b0, batches, hyper, lr_schedule, get_tf_device(), exact)
    finally:
        keras.config.set_floatx(previous_floatx)


def _keras_run(tf, keras, kind, X, y, w0, b0, batches, hyper, lr_schedule, tf_device, exact):
    def f64(value):  # a float64 tensor, so that Keras's cast to float64 is exact
        return tf.constant(value, dtype=tf.float64) if exact else value

    with tf.device(tf_device):
        Xt, yt = tf.constant(X), tf.constant(y)
        w = tf.Variable(w0, dtype=tf.float64)
        b = tf.Variable(b0, dtype=tf.float64)
        opt = OPTIMIZERS[kind].keras(keras, hyper, f64)
        rows = [np.concatenate([w0, b0])]
        for t, idx in enumerate(batches, start=1):
            if lr_schedule is not None:
                opt.learning_rate = lr_schedule(t)
            Xb, yb = tf.gather(Xt, idx), tf.gather(yt, idx)
            with tf.GradientTape() as tape:
                z = tf.linalg.matvec(Xb, w) + b[0]
                loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=yb, logits=z))
            grads = tape.gradient(loss, [w, b])
            opt.apply(grads, [w, b])
            rows.append(np.concatenate([w.numpy(), b.numpy()]))
    return np.array(rows)


def max_relative_error(path, reference) -> float:
    """max over steps t of ||path_t - reference_t|| / ||reference_t|| (2-norms over all parameters).

    Both paths must have the same shape; a reference row of all zeros is
    compared in absolute terms (divided by 1).
    """
    path = as_float_array(path, "path", ndim=2)
    reference = as_float_array(reference, "reference", ndim=2)
    if path.shape != reference.shape:
        raise ValueError(f"path and reference must have the same shape; got {path.shape} and {reference.shape}")
    num = np.linalg.norm(path - reference, axis=1)
    den = np.linalg.norm(reference, axis=1)
    return float(np.max(num / np.where(den > 0, den, 1.0)))
