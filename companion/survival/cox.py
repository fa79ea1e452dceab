"""The Cox proportional-hazards model fitted by its partial likelihood, in NumPy
(book chapter 19, Eqs. (19.6)-(19.8)).

The model says patient i's hazard is h_0(t) exp(eta_i) with eta_i = x_i . beta:
covariates multiply a baseline hazard h_0 that is left unspecified. At an event
time t_j the chance that the patient who failed is the one who did, among the
risk set R_j of patients still followed, does not involve h_0 (Eq. 19.6):

    L(beta) = prod_j exp(eta_(j)) / sum_{i in R_j} exp(eta_i).

When d_j > 1 patients fail at the same recorded time the order among them is
unknown. Breslow's rule uses the full risk set for each of the d_j factors
(Eq. 19.7); Efron's rule (Eq. 19.8, the default of lifelines, R's survival and
this module) removes on average the fraction l / d_j of the tied patients'
weight from the l-th factor:

    log L = sum_j [ sum_{i in D_j} eta_i
                    - sum_{l=0}^{d_j - 1} log( sum_{R_j} e^eta - (l / d_j) sum_{D_j} e^eta ) ].

:func:`cox_negative_log_likelihood` returns -log L with its gradient and
Hessian; :func:`fit_cox` minimises it by Newton's method with step halving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import as_float_array, check_choice, check_positive_int
from companion.survival.data import check_survival

TIES = ("efron", "breslow")


@dataclass(frozen=True)
class EventTerms:
    """Where each observed event sits: its tie group j (``group``), its rank l in the group and d_j."""

    order: np.ndarray  # patient indices sorted by decreasing time
    risk_end: np.ndarray  # per group: how many patients of ``order`` are at risk (time >= t_j)
    group: np.ndarray  # per event (events in index order): its group
    rank: np.ndarray  # per event: l in 0..d_j - 1
    size: np.ndarray  # per event: d_j
    event_index: np.ndarray  # the patients who had an event
    n_groups: int


def check_ties(ties) -> str:
    """Return ``ties`` if it names a rule of Eqs. (19.7)-(19.8), else raise."""
    return check_choice(ties, "ties", TIES)


def event_terms(time, event) -> EventTerms:
    """The bookkeeping of Eqs. (19.6)-(19.8): risk sets and tie groups, computed once per data set."""
    time, event = check_survival(time, event)
    order = np.argsort(-time, kind="stable")
    event_index = np.flatnonzero(event)
    group_times, group = np.unique(time[event_index], return_inverse=True)
    risk_end = len(time) - np.searchsorted(np.sort(time), group_times, side="left")
    size = np.bincount(group)[group]
    rank = np.zeros(len(event_index), dtype=np.int64)
    for j in range(len(group_times)):
        members = np.flatnonzero(group == j)
        rank[members] = np.arange(len(members))
    return EventTerms(order, risk_end, group, rank, size, event_index, len(group_times))


def _check_design(X, beta, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = as_float_array(X, "X", ndim=2).astype(np.float64)
    if X.shape[0] != n:
        raise ValueError(f"X must have one row per patient ({n}); got {X.shape[0]} rows")
    beta = as_float_array(beta, "beta", ndim=1).astype(np.float64)
    if beta.shape != (X.shape[1],):
        raise ValueError(
            f"beta must have one entry per column of X ({X.shape[1]}); got shape {beta.shape}"
        )
    return X, beta


def cox_negative_log_likelihood(
    beta, X, time, event, ties: str = "efron", terms: EventTerms | None = None
):
    """-log L of Eq. (19.8) (Efron) or (19.7) (Breslow), with its gradient and Hessian in beta.

    Returns ``(value, gradient, hessian)``. The linear predictor is shifted by
    its maximum before exponentiating, which leaves every ratio unchanged; when
    the log-risks span more than about 700 a risk-set sum can still underflow,
    and :func:`companion.survival.cox_torch.cox_loss`, which works in log space,
    is the one to use.
    """
    ties = check_ties(ties)
    terms = event_terms(time, event) if terms is None else terms
    X, beta = _check_design(X, beta, len(terms.order))
    eta = X @ beta
    shift = eta.max()
    w = np.exp(eta - shift)
    ordered = terms.order
    # risk-set sums: cumulative sums over patients sorted by decreasing time
    s0 = np.cumsum(w[ordered])
    s1 = np.cumsum(w[ordered, None] * X[ordered], axis=0)
    s2 = np.cumsum(w[ordered, None, None] * X[ordered, :, None] * X[ordered, None, :], axis=0)
    last = terms.risk_end - 1
    r0, r1, r2 = s0[last], s1[last], s2[last]
    # tied-event sums per group
    e = terms.event_index
    d0 = np.bincount(terms.group, weights=w[e], minlength=terms.n_groups)
    d1 = np.zeros_like(r1)
    np.add.at(d1, terms.group, w[e, None] * X[e])
    d2 = np.zeros_like(r2)
    np.add.at(d2, terms.group, w[e, None, None] * X[e, :, None] * X[e, None, :])
    fraction = terms.rank / terms.size if ties == "efron" else np.zeros(len(e))
    g = terms.group
    phi0 = r0[g] - fraction * d0[g]
    phi1 = r1[g] - fraction[:, None] * d1[g]
    phi2 = r2[g] - fraction[:, None, None] * d2[g]
    mean = phi1 / phi0[:, None]
    value = -(eta[e].sum() - np.sum(np.log(phi0) + shift))
    gradient = -(X[e].sum(axis=0) - mean.sum(axis=0))
    hessian = np.sum(phi2 / phi0[:, None, None] - mean[:, :, None] * mean[:, None, :], axis=0)
    return float(value), gradient, hessian


@dataclass(frozen=True)
class CoxFit:
    """The maximum partial-likelihood estimate, its standard errors (inverse Hessian) and the fit's log L."""

    coef: np.ndarray
    standard_errors: np.ndarray
    log_likelihood: float
    iterations: int


def fit_cox(
    X, time, event, ties: str = "efron", *, tol: float = 1e-10, max_iter: int = 50
) -> CoxFit:
    """Newton's method on Eq. (19.8) (or 19.7) from beta = 0, halving a step that does not lower -log L.

    Stops when the Newton step's largest entry is below ``tol``; raises
    RuntimeError when ``max_iter`` steps do not get there (for example when a
    covariate separates the events perfectly and beta runs off to infinity).
    """
    ties = check_ties(ties)
    max_iter = check_positive_int(max_iter, "max_iter")
    terms = event_terms(time, event)
    X = as_float_array(X, "X", ndim=2).astype(np.float64)
    beta = np.zeros(X.shape[1])
    value, gradient, hessian = cox_negative_log_likelihood(beta, X, time, event, ties, terms)
    for iteration in range(1, max_iter + 1):
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while True:
            candidate = beta - scale * step
            new = cox_negative_log_likelihood(candidate, X, time, event, ties, terms)
            if new[0] <= value + 1e-12 or scale < 1e-8:
                break
            scale /= 2
        beta, (value, gradient, hessian) = candidate, new
        if np.max(np.abs(scale * step)) < tol:
            errors = np.sqrt(np.diag(np.linalg.inv(hessian)))
            return CoxFit(beta, errors, -value, iteration)
    raise RuntimeError(
        f"the Cox fit did not converge in {max_iter} Newton steps (last step {np.abs(step).max():.3g})"
    )
