"""companion.survival against lifelines and against the equations of chapter 19."""

from __future__ import annotations

import numpy as np
import pytest

from companion.survival.concordance import concordance_index
from companion.survival.cox import cox_negative_log_likelihood, event_terms, fit_cox
from companion.survival.data import check_survival
from companion.survival.kaplan_meier import kaplan_meier

lifelines = pytest.importorskip("lifelines")


def tied_data(seed=0, n=120, p=3):
    """Random covariates and times rounded to whole units, so many event times are tied."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    hazard = np.exp(X @ np.array([0.8, -0.5, 0.3][:p]))
    event_time = rng.exponential(1 / hazard) * 5
    censor_time = rng.exponential(8, size=n)
    time = np.ceil(np.minimum(event_time, censor_time))
    event = event_time <= censor_time
    return X, time, event


def test_kaplan_meier_by_hand():
    # times 1, 2+, 3, 3, 4+: S(1) = 4/5, S(3) = 4/5 * (1 - 2/3)
    km = kaplan_meier([1, 2, 3, 3, 4], [1, 0, 1, 1, 0])
    assert km.times.tolist() == [1, 3]
    assert km.at_risk.tolist() == [5, 3] and km.events.tolist() == [1, 2]
    np.testing.assert_allclose(km.survival, [0.8, 0.8 / 3])
    np.testing.assert_allclose(km.at([0.5, 1, 2.9, 3, 10]), [1, 0.8, 0.8, 0.8 / 3, 0.8 / 3])
    # Greenwood: S^2 * (1/(5*4) + 2/(3*1))
    np.testing.assert_allclose(km.variance[-1], (0.8 / 3) ** 2 * (1 / 20 + 2 / 3))
    assert km.median() == 3.0


def test_kaplan_meier_equals_lifelines():
    from lifelines import KaplanMeierFitter

    _, time, event = tied_data()
    km = kaplan_meier(time, event)
    fitter = KaplanMeierFitter().fit(time, event)
    np.testing.assert_allclose(
        km.at(km.times), fitter.survival_function_at_times(km.times).to_numpy(), atol=1e-12
    )
    assert km.median() == fitter.median_survival_time_


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_gradient_and_hessian_are_the_derivatives_of_the_value(ties):
    X, time, event = tied_data(seed=1)
    beta = np.array([0.3, -0.2, 0.1])
    _, gradient, hessian = cox_negative_log_likelihood(beta, X, time, event, ties)
    h = 1e-6
    for k in range(3):
        step = np.eye(3)[k] * h
        up, g_up, _ = cox_negative_log_likelihood(beta + step, X, time, event, ties)
        down, g_down, _ = cox_negative_log_likelihood(beta - step, X, time, event, ties)
        assert abs((up - down) / (2 * h) - gradient[k]) < 1e-6
        np.testing.assert_allclose((g_up - g_down) / (2 * h), hessian[k], atol=1e-5)


def test_efron_and_breslow_agree_without_ties_and_differ_with_them():
    X, time, event = tied_data(seed=2)
    beta = np.array([0.5, 0.1, -0.3])
    distinct = time + np.random.default_rng(0).uniform(0, 0.5, len(time))
    assert cox_negative_log_likelihood(beta, X, distinct, event, "efron")[0] == pytest.approx(
        cox_negative_log_likelihood(beta, X, distinct, event, "breslow")[0], abs=1e-9
    )
    assert (
        abs(
            cox_negative_log_likelihood(beta, X, time, event, "efron")[0]
            - cox_negative_log_likelihood(beta, X, time, event, "breslow")[0]
        )
        > 1.0
    )


def test_cox_fit_equals_lifelines_with_efron_ties():
    import pandas as pd
    from lifelines import CoxPHFitter

    X, time, event = tied_data(seed=3, n=300)
    fit = fit_cox(X, time, event)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(T=time, E=event.astype(int))
    # lifelines stops at a change of 1e-7 by default; asked to go on, it meets the Newton fit to 1e-12
    reference = CoxPHFitter().fit(frame, "T", "E", fit_options={"precision": 1e-12})
    np.testing.assert_allclose(fit.coef, reference.params_.to_numpy(), atol=1e-9)
    np.testing.assert_allclose(
        fit.standard_errors, reference.standard_errors_.to_numpy(), rtol=1e-6
    )
    assert fit.log_likelihood == pytest.approx(reference.log_likelihood_, abs=1e-9)


def test_torch_cox_loss_equals_numpy_and_its_gradient():
    import torch

    from companion.survival.cox_torch import cox_loss

    X, time, event = tied_data(seed=4)
    beta = np.array([0.2, 0.4, -0.6])
    for ties in ("efron", "breslow"):
        value, gradient, _ = cox_negative_log_likelihood(beta, X, time, event, ties)
        b = torch.tensor(beta, requires_grad=True)
        loss = cox_loss(torch.as_tensor(X) @ b, time, event, ties)
        loss.backward()
        assert float(loss.detach()) == pytest.approx(value, abs=1e-9)
        np.testing.assert_allclose(b.grad.numpy(), gradient, atol=1e-9)
        mean = cox_loss(torch.as_tensor(X) @ b.detach(), time, event, ties, reduction="mean")
        assert float(mean) == pytest.approx(value / event.sum(), abs=1e-12)


def test_torch_cox_loss_is_stable_for_large_log_risks():
    import torch

    from companion.survival.cox_torch import cox_loss

    from scipy.special import logsumexp

    X, time, event = tied_data(seed=5)
    eta = (
        X[:, 0] * 400.0
    )  # exp(eta) spans 10^400: one shift cannot keep every risk-set sum above underflow
    expected = 0.0
    for t in np.unique(time[event]):
        tied = event & (time == t)
        log_risk_set, log_tied, d = logsumexp(eta[time >= t]), logsumexp(eta[tied]), tied.sum()
        for l in range(d):
            expected += (
                log_risk_set + np.log1p(-l / d * np.exp(log_tied - log_risk_set)) - eta[tied][l]
            )
    assert float(cox_loss(torch.as_tensor(eta), time, event)) == pytest.approx(expected, rel=1e-12)


def test_a_linear_torch_model_trained_on_the_loss_finds_the_cox_fit():
    import torch

    from companion.survival.cox_torch import build_cox_mlp, train_cox_model

    X, time, event = tied_data(seed=6, n=200)
    torch.manual_seed(0)
    model = build_cox_mlp(3, hidden=()).double()
    training = train_cox_model(model, X, time, event, epochs=600, lr=0.05)
    assert training.train_loss[-1] < training.train_loss[0] and training.val_loss == []
    np.testing.assert_allclose(
        model[0].weight.detach().numpy().ravel(), fit_cox(X, time, event).coef, atol=1e-3
    )


def test_neural_cox_model_shapes_and_bad_settings():
    from companion.survival.cox_torch import build_cox_mlp, train_cox_model

    model = build_cox_mlp(4, hidden=(8, 8), dropout=0.1)
    assert model[-1].bias is None and model[-1].out_features == 1
    with pytest.raises(ValueError, match="dropout must be in"):
        build_cox_mlp(4, dropout=1.0)
    with pytest.raises(ValueError, match="n_features must be a positive int"):
        build_cox_mlp(0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train_cox_model(model, np.zeros((3, 4)), [1, 2, 3], [1, 1, 0], epochs=1, lr=0)
    with pytest.raises(ValueError, match=r"X must have shape \(n, features\)"):
        train_cox_model(model, np.zeros((2, 4)), [1, 2, 3], [1, 1, 0], epochs=1, lr=0.1)


def test_concordance_equals_lifelines_with_tied_times_and_scores():
    from lifelines.utils import concordance_index as reference

    X, time, event = tied_data(seed=7)
    risk = np.round(X[:, 0], 1)  # tied scores too
    assert concordance_index(time, event, risk) == pytest.approx(
        reference(time, -risk, event), abs=1e-12
    )


def test_concordance_by_hand():
    # patient 0 fails first and has the highest risk: 2 concordant pairs; 1 fails next, lower than 2: discordant
    assert concordance_index([1, 2, 3], [1, 1, 0], [3, 1, 2]) == pytest.approx(2 / 3)
    assert concordance_index([1, 2, 3], [1, 1, 0], [0, 0, 0]) == 0.5
    with pytest.raises(ValueError, match="no comparable pair"):
        concordance_index([1, 2], [0, 1], [1, 2])  # the only event comes last


def test_bad_survival_input_is_refused_with_what_was_got():
    with pytest.raises(ValueError, match="non-negative; got minimum -1"):
        check_survival([1, -1], [1, 0])
    with pytest.raises(ValueError, match=r"only 0 \(censored\) and 1 \(event\); got values \[2\]"):
        check_survival([1, 2], [1, 2])
    with pytest.raises(ValueError, match="same length; got 2 and 3"):
        check_survival([1, 2], [1, 0, 1])
    with pytest.raises(ValueError, match="at least one observed event"):
        kaplan_meier([1, 2], [0, 0])
    with pytest.raises(TypeError, match="event must be 0/1 or boolean"):
        check_survival([1, 2], ["yes", "no"])
    with pytest.raises(ValueError, match="time must be finite"):
        check_survival([1, np.nan], [1, 0])
    X, time, event = tied_data()
    with pytest.raises(ValueError, match="ties must be one of"):
        fit_cox(X, time, event, ties="exact")
    with pytest.raises(ValueError, match=r"beta must have one entry per column of X \(3\)"):
        cox_negative_log_likelihood(np.zeros(2), X, time, event)
    with pytest.raises(ValueError, match="X must have one row per patient"):
        fit_cox(X[:-1], time, event)


def test_cox_fit_reports_divergence():
    # the covariate orders the events perfectly: the partial likelihood has no maximum
    time = np.arange(1.0, 21.0)
    X = -time[:, None]
    with pytest.raises(RuntimeError, match="did not converge"):
        fit_cox(X, time, np.ones(20, bool), max_iter=30)


def test_event_terms_count_risk_sets_and_ranks():
    terms = event_terms([1, 2, 2, 3, 2], [1, 1, 1, 0, 0])
    assert terms.risk_end.tolist() == [5, 4]  # at time 1 all five; at time 2 four
    assert terms.size.tolist() == [1, 2, 2] and terms.rank.tolist() == [0, 0, 1]


def test_early_stopping_keeps_the_epoch_of_lowest_validation_loss():
    import torch

    from companion.survival.cox_torch import build_cox_mlp, cox_loss, train_cox_model

    X, time, event = tied_data(seed=8, n=200)
    torch.manual_seed(0)
    model = build_cox_mlp(3, hidden=(64,)).double()
    fit, held = slice(0, 120), slice(120, 200)
    training = train_cox_model(
        model,
        X[fit],
        time[fit],
        event[fit],
        epochs=150,
        lr=0.03,
        validation=(X[held], time[held], event[held]),
    )
    assert len(training.val_loss) == 150
    best = int(np.argmin(training.val_loss)) + 1
    assert training.best_epoch == best < 150  # a 64-unit network overfits 120 patients
    with torch.no_grad():
        kept = cox_loss(model(torch.as_tensor(X[held])), time[held], event[held], reduction="mean")
    assert float(kept) == pytest.approx(min(training.val_loss), abs=1e-12)
