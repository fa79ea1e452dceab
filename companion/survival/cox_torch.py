"""The Cox negative log partial likelihood as a PyTorch loss, and the neural Cox model
(book chapter 19, Eqs. (19.8) and (19.9)).

:func:`cox_loss` computes Eq. (19.8) (Efron's ties, or Breslow's) from a vector
of log-risks eta = f(x) in any differentiable model, so a linear layer gives the
classical Cox model of :mod:`companion.survival.cox` and a multilayer perceptron
gives the neural Cox model of Eq. (19.9), log h(t | x) = log h_0(t) + f_theta(x)
("DeepSurv"). Risk-set sums are taken in log space with ``logcumsumexp``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import (
    check_choice,
    check_in_interval,
    check_learning_rate,
    check_positive_int,
    check_weight_decay,
)
from companion.survival.cox import check_ties, event_terms


def cox_loss(log_risk, time, event, ties: str = "efron", reduction: str = "sum", terms=None):
    """-log L of Eq. (19.8) for ``log_risk`` (a tensor of shape (n,) or (n, 1)).

    ``reduction="sum"`` gives the negative log partial likelihood itself, equal
    to :func:`companion.survival.cox.cox_negative_log_likelihood`;
    ``"mean"`` divides it by the number of events, a scale that does not grow
    with the data set (the learning rate then means the same for any n).
    ``terms`` (from :func:`companion.survival.cox.event_terms` on the same
    time and event) saves recomputing the risk sets at every step.
    """
    import torch

    ties = check_ties(ties)
    check_choice(reduction, "reduction", ("sum", "mean"))
    if not isinstance(log_risk, torch.Tensor):
        raise TypeError(f"log_risk must be a torch.Tensor; got {type(log_risk).__name__}")
    eta = log_risk.reshape(-1) if log_risk.dim() == 2 and log_risk.shape[1] == 1 else log_risk
    if eta.dim() != 1:
        raise ValueError(f"log_risk must have shape (n,) or (n, 1); got {tuple(log_risk.shape)}")
    terms = event_terms(time, event) if terms is None else terms
    if len(terms.order) != eta.shape[0]:
        raise ValueError(
            f"log_risk must have one entry per patient ({len(terms.order)}); got {eta.shape[0]}"
        )
    device = eta.device

    def index(a):
        return torch.as_tensor(np.asarray(a), device=device, dtype=torch.long)

    log_risk_sets = torch.logcumsumexp(eta[index(terms.order)], dim=0)[index(terms.risk_end - 1)]
    events = eta[index(terms.event_index)]
    group = index(terms.group)
    # log of the tied patients' summed weight, per group
    log_tied = torch.full((terms.n_groups,), -torch.inf, dtype=eta.dtype, device=device)
    log_tied = log_tied.scatter_reduce(0, group, events, reduce="amax", include_self=True)
    log_tied = log_tied + torch.log(
        torch.zeros_like(log_tied).index_add(0, group, torch.exp(events - log_tied[group]))
    )
    if ties == "efron":
        fraction = torch.as_tensor(terms.rank / terms.size, dtype=eta.dtype, device=device)
        ratio = torch.exp(log_tied[group] - log_risk_sets[group])
        log_phi = log_risk_sets[group] + torch.log1p(-fraction * ratio)
    else:
        log_phi = log_risk_sets[group]
    loss = log_phi.sum() - events.sum()
    return loss / len(terms.event_index) if reduction == "mean" else loss


def build_cox_mlp(n_features: int, hidden: tuple[int, ...] = (32,), dropout: float = 0.0):
    """f_theta of Eq. (19.9): ReLU layers, then one output without bias (a constant cancels in Eq. 19.6).

    ``hidden=()`` gives the linear Cox model eta = x . beta.
    """
    import torch

    n_features = check_positive_int(n_features, "n_features")
    widths = [check_positive_int(h, "each hidden width") for h in hidden]
    dropout = check_in_interval(dropout, "dropout", 0, 1)
    layers, width = [], n_features
    for h in widths:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
        width = h
    layers.append(torch.nn.Linear(width, 1, bias=False))
    return torch.nn.Sequential(*layers)


@dataclass(frozen=True)
class CoxTraining:
    """Mean training loss per epoch, validation loss per epoch (if any) and the epoch kept."""

    train_loss: list[float]
    val_loss: list[float]
    best_epoch: int


def _as_inputs(X, n: int, parameter):
    import torch

    inputs = torch.as_tensor(np.asarray(X), dtype=parameter.dtype, device=parameter.device)
    if inputs.dim() != 2 or inputs.shape[0] != n:
        raise ValueError(
            f"X must have shape (n, features) with n = len(time) = {n}; got {tuple(inputs.shape)}"
        )
    return inputs


def train_cox_model(
    model,
    X,
    time,
    event,
    *,
    epochs: int,
    lr: float,
    weight_decay: float = 0.0,
    ties: str = "efron",
    validation=None,
) -> CoxTraining:
    """Full-batch Adam on the mean loss of Eq. (19.8).

    The whole training set is one batch because every event's term needs its
    whole risk set; mini-batches would replace the risk sets by their samples.
    With ``validation=(X_val, time_val, event_val)`` the loss of Eq. (19.8) on
    those patients is computed after each epoch and the model ends with the
    weights of the epoch where it was lowest (early stopping, chapter 6).
    """
    import torch

    epochs = check_positive_int(epochs, "epochs")
    lr = check_learning_rate(lr)
    weight_decay = check_weight_decay(weight_decay)
    parameter = next(model.parameters())
    inputs = _as_inputs(X, len(np.asarray(time)), parameter)
    terms = event_terms(time, event)
    if validation is not None:
        X_val, time_val, event_val = validation
        val_inputs = _as_inputs(X_val, len(np.asarray(time_val)), parameter)
        val_terms = event_terms(time_val, event_val)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    train_loss, val_loss = [], []
    best_state, best_epoch = None, epochs
    for epoch in range(1, epochs + 1):
        model.train()
        optimiser.zero_grad()
        loss = cox_loss(model(inputs), time, event, ties, reduction="mean", terms=terms)
        loss.backward()
        optimiser.step()
        train_loss.append(float(loss.detach()))
        if validation is not None:
            model.eval()
            with torch.no_grad():
                current = cox_loss(
                    model(val_inputs), time_val, event_val, ties, reduction="mean", terms=val_terms
                )
            val_loss.append(float(current))
            if current <= min(val_loss):
                best_epoch = epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return CoxTraining(train_loss, val_loss, best_epoch)
