"""Chapter 4 NumPy optimizers: update rules against hand computation, form equivalences, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.optim import (
    SGD,
    Adam,
    AdamW,
    RMSProp,
    ill_conditioned_matrix,
    quadratic,
    quadratic_grad,
    rosenbrock,
    rosenbrock_grad,
    run_path,
)


def shapes_strategy():
    return st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), min_size=1, max_size=3)


def random_params(rng, shapes):
    return [rng.normal(size=s) for s in shapes]


# ---------------------------------------------------------------- SGD and momentum


def test_plain_sgd_is_one_gradient_step():
    p = np.array([1.0, -2.0])
    SGD([p], lr=0.1).step([np.array([0.5, 4.0])])
    np.testing.assert_allclose(p, [0.95, -2.4], rtol=0, atol=1e-15)


def test_momentum_by_hand_for_both_forms_and_a_learning_rate_change():
    g1, g2 = np.array([1.0]), np.array([2.0])
    pt, cl = np.array([0.0]), np.array([0.0])
    torch_form = SGD([pt], lr=0.1, momentum=0.5, form="pytorch")
    classic = SGD([cl], lr=0.1, momentum=0.5, form="classic")
    torch_form.step([g1])
    classic.step([g1])
    np.testing.assert_allclose([pt[0], cl[0]], [-0.1, -0.1], atol=1e-15)  # b1 = g1, v1 = -lr g1
    torch_form.lr = classic.lr = 0.01
    torch_form.step([g2])
    classic.step([g2])
    # PyTorch: b2 = 0.5*1 + 2 = 2.5, step -0.01*2.5.  Classic: v2 = 0.5*(-0.1) - 0.01*2 = -0.07.
    np.testing.assert_allclose(pt, [-0.1 - 0.025], atol=1e-15)
    np.testing.assert_allclose(cl, [-0.1 - 0.07], atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(shapes_strategy(), st.floats(0.0, 0.99), st.floats(1e-3, 0.5), st.booleans(), st.integers(0, 2**31))
def test_classic_and_pytorch_momentum_coincide_at_constant_lr(shapes, mu, lr, nesterov, seed):
    if nesterov and mu == 0.0:
        mu = 0.5
    rng = np.random.default_rng(seed)
    a = random_params(rng, shapes)
    b = [x.copy() for x in a]
    opt_a = SGD(a, lr=lr, momentum=mu, nesterov=nesterov, form="pytorch")
    opt_b = SGD(b, lr=lr, momentum=mu, nesterov=nesterov, form="classic")
    for _ in range(5):
        grads = random_params(rng, shapes)
        opt_a.step(grads)
        opt_b.step(grads)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
    if mu > 0:  # Eq. (4.6): v_t = -lr b_t
        for va, vb in zip(opt_a.state["velocity"], opt_b.state["velocity"]):
            np.testing.assert_allclose(vb, -lr * va, rtol=1e-12, atol=1e-12)


def test_nesterov_by_hand():
    p = np.array([0.0])
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    opt.step([np.array([1.0])])  # b = 1, step = 0.1 * (1 + 0.9)
    np.testing.assert_allclose(p, [-0.19], atol=1e-15)
    opt.step([np.array([1.0])])  # b = 1.9, step = 0.1 * (1 + 1.71)
    np.testing.assert_allclose(p, [-0.19 - 0.271], atol=1e-15)


def test_sgd_weight_decay_is_l2_added_to_the_gradient():
    p = np.array([2.0])
    SGD([p], lr=0.1, weight_decay=0.5).step([np.array([1.0])])
    np.testing.assert_allclose(p, [2.0 - 0.1 * (1.0 + 0.5 * 2.0)], atol=1e-15)


# ---------------------------------------------------------------- RMSProp


@pytest.mark.parametrize("placement", ["outside", "inside"])
def test_rmsprop_by_hand(placement):
    p = np.array([1.0, 1.0])
    opt = RMSProp([p], lr=0.01, alpha=0.9, eps=1e-3, eps_placement=placement)
    g = np.array([3.0, -0.02])
    opt.step([g])
    s = 0.1 * g**2
    denom = np.sqrt(s) + 1e-3 if placement == "outside" else np.sqrt(s + 1e-3)
    np.testing.assert_allclose(p, 1.0 - 0.01 * g / denom, rtol=1e-14)
    np.testing.assert_allclose(opt.state["square_avg"][0], s, rtol=1e-14)


def test_rmsprop_eps_placements_differ_where_gradients_are_small():
    a, b = np.array([0.0]), np.array([0.0])
    RMSProp([a], lr=0.1, eps=1e-4, eps_placement="outside").step([np.array([1e-4])])
    RMSProp([b], lr=0.1, eps=1e-4, eps_placement="inside").step([np.array([1e-4])])
    assert abs(a[0] - b[0]) > 1e-3


# ---------------------------------------------------------------- Adam and AdamW


def adam_reference(theta, grads, lr, b1, b2, eps):
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return theta


def test_adam_matches_the_textbook_loop():
    grads = [np.array([0.3, -2.0]), np.array([0.1, -1.0]), np.array([-0.4, 0.5])]
    p = np.array([1.0, 2.0])
    opt = Adam([p], lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    for g in grads:
        opt.step([g])
    np.testing.assert_allclose(p, adam_reference(np.array([1.0, 2.0]), grads, 0.05, 0.8, 0.99, 1e-6), rtol=1e-13)


def test_adam_first_step_has_length_lr_whatever_the_gradient_scale():
    for scale in (1e-3, 1.0, 1e3):
        p = np.zeros(3)
        Adam([p], lr=0.01, eps=1e-12).step([scale * np.array([1.0, -2.0, 0.5])])
        np.testing.assert_allclose(p, [-0.01, 0.01, -0.01], rtol=1e-8)


def test_bias_corrected_first_moment_equals_a_constant_gradient():
    p = np.zeros(2)
    opt = Adam([p], lr=1e-3, betas=(0.9, 0.999))
    g = np.array([0.7, -1.3])
    for t in range(1, 30):
        opt.step([g])
        np.testing.assert_allclose(opt.state["exp_avg"][0] / (1 - 0.9**t), g, rtol=1e-12)
        np.testing.assert_allclose(opt.state["exp_avg_sq"][0] / (1 - 0.999**t), g**2, rtol=1e-12)


def test_eps_hat_form_is_standard_form_with_a_time_varying_eps():
    grads = [np.array([0.3, -2e-7]), np.array([0.1, 1e-7]), np.array([-0.4, 3e-7])]
    p = np.array([1.0, 2.0])
    opt = Adam([p], lr=0.05, eps=1e-6, eps_form="hat")
    theta = np.array([1.0, 2.0])
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        opt.step([g])
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        eps_t = 1e-6 / np.sqrt(1 - 0.999**t)  # Eq. (4.13) rewritten as Eq. (4.12)
        theta = theta - 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + eps_t)
    np.testing.assert_allclose(p, theta, rtol=1e-13)
    standard = np.array([1.0, 2.0])
    opt_std = Adam([standard], lr=0.05, eps=1e-6)
    for g in grads:
        opt_std.step([g])
    assert abs(standard[1] - p[1]) > 1e-3  # the tiny-gradient coordinate feels the difference


def test_adamw_decays_outside_the_adaptive_step_and_adam_l2_inside():
    p = np.array([3.0])
    AdamW([p], lr=0.1, weight_decay=0.2).step([np.array([0.0])])
    np.testing.assert_allclose(p, [3.0 * (1 - 0.1 * 0.2)], rtol=1e-15)  # m = 0: only the decay acts
    q = np.array([3.0])
    Adam([q], lr=0.1, weight_decay=0.2, eps=1e-12).step([np.array([0.0])])
    np.testing.assert_allclose(q, [3.0 - 0.1], rtol=1e-9)  # L2 gradient normalised to a step of lr


def test_adamw_without_decay_is_adam():
    rng = np.random.default_rng(0)
    a, b = [rng.normal(size=(3, 2))], [None]
    b[0] = a[0].copy()
    opt_a, opt_b = Adam(a, lr=0.01), AdamW(b, lr=0.01, weight_decay=0.0)
    for _ in range(10):
        g = [rng.normal(size=(3, 2))]
        opt_a.step(g)
        opt_b.step(g)
    np.testing.assert_array_equal(a[0], b[0])


@settings(max_examples=25, deadline=None)
@given(shapes_strategy(), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**31))
def test_updates_are_in_place_and_keep_dtype(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    params = [x.astype(dtype) for x in random_params(rng, shapes)]
    before = [x.copy() for x in params]
    ids = [id(x) for x in params]
    for cls in (SGD, RMSProp, Adam, AdamW):
        opt = cls(params, lr=0.01)
        opt.step([np.ones(s) for s in shapes])
    assert [id(x) for x in params] == ids
    for x, x0 in zip(params, before):
        assert x.dtype == dtype
        assert np.all(x < x0)  # a positive gradient lowers every entry


# ---------------------------------------------------------------- state


def test_state_dict_round_trip_continues_the_same_trajectory():
    rng = np.random.default_rng(1)
    grads = [[rng.normal(size=4)] for _ in range(6)]
    a = [np.ones(4)]
    opt = Adam(a, lr=0.01)
    for g in grads[:3]:
        opt.step(g)
    saved, a_saved = opt.state_dict(), a[0].copy()
    for g in grads[3:]:
        opt.step(g)
    b = [a_saved]
    other = Adam(b, lr=0.5)
    other.load_state_dict(saved)
    assert other.t == 3 and other.lr == 0.01
    for g in grads[3:]:
        other.step(g)
    np.testing.assert_array_equal(a[0], b[0])
    opt.zero_state()
    assert opt.t == 0 and not np.any(opt.state["exp_avg"][0])


def test_load_state_dict_rejects_bad_state():
    opt = SGD([np.ones(3)], lr=0.1, momentum=0.9)
    good = opt.state_dict()
    with pytest.raises(ValueError, match=r"missing \['velocity'\]"):
        opt.load_state_dict({"t": 0, "lr": 0.1})
    with pytest.raises(ValueError, match=r"state\['velocity'\]\[0\] must have shape \(3,\); got \(2,\)"):
        opt.load_state_dict({**good, "velocity": [np.zeros(2)]})
    with pytest.raises(ValueError, match="int >= 0"):
        opt.load_state_dict({**good, "t": -1})


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("cls", [SGD, RMSProp, Adam, AdamW])
@pytest.mark.parametrize(("lr", "error", "message"), [
    (0.0, ValueError, r"lr must be > 0; got 0.0"),
    (-0.1, ValueError, r"lr must be > 0; got -0.1"),
    (float("nan"), ValueError, r"lr must be a finite number > 0; got nan"),
    (float("inf"), ValueError, r"lr must be a finite number > 0; got inf"),
    ("0.1", TypeError, r"lr must be a finite number > 0; got str '0.1'"),
    (True, TypeError, r"got bool True"),
])
def test_bad_learning_rates(cls, lr, error, message):
    with pytest.raises(error, match=message):
        cls([np.zeros(2)], lr=lr)


def test_learning_rate_is_checked_when_changed_between_steps():
    opt = SGD([np.zeros(2)], lr=0.1)
    opt.lr = 0.05
    assert opt.lr == 0.05
    with pytest.raises(ValueError, match=r"lr must be > 0; got -1.0"):
        opt.lr = -1.0
    assert opt.lr == 0.05


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize(("betas", "error", "message"), [
    ((1.0, 0.999), ValueError, r"betas\[0\] must be in \[0, 1\); got 1.0"),
    ((0.9, -0.1), ValueError, r"betas\[1\] must be in \[0, 1\); got -0.1"),
    ((0.9, 1.5), ValueError, r"betas\[1\] must be in \[0, 1\); got 1.5"),
    ((0.9,), ValueError, r"betas must be a pair \(beta1, beta2\); got 1 value"),
    (0.9, TypeError, r"betas must be a pair \(beta1, beta2\); got float 0.9"),
    (("a", 0.9), TypeError, r"betas\[0\] must be a number in \[0, 1\); got str 'a'"),
])
def test_bad_betas(cls, betas, error, message):
    with pytest.raises(error, match=message):
        cls([np.zeros(2)], betas=betas)


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: Adam(p, weight_decay=-0.01), r"weight_decay must be >= 0; got -0.01"),
    (lambda p: AdamW(p, weight_decay=-1), r"weight_decay must be >= 0; got -1.0"),
    (lambda p: SGD(p, weight_decay=-0.5), r"weight_decay must be >= 0; got -0.5"),
    (lambda p: RMSProp(p, weight_decay=float("nan")), r"weight_decay must be a finite number >= 0; got nan"),
    (lambda p: Adam(p, eps=0.0), r"eps must be > 0; got 0.0"),
    (lambda p: RMSProp(p, eps=-1e-8), r"eps must be > 0; got -1e-08"),
    (lambda p: SGD(p, momentum=1.0), r"momentum must be in \[0, 1\); got 1.0"),
    (lambda p: SGD(p, momentum=-0.1), r"momentum must be in \[0, 1\); got -0.1"),
    (lambda p: RMSProp(p, alpha=1.0), r"alpha must be in \[0, 1\); got 1.0"),
    (lambda p: SGD(p, nesterov=True), r"nesterov=True needs momentum > 0; got momentum=0.0"),
    (lambda p: SGD(p, momentum=0.9, form="keras"), r"form must be one of \('pytorch', 'classic'\); got 'keras'"),
    (lambda p: RMSProp(p, eps_placement="under"), r"eps_placement must be one of"),
    (lambda p: Adam(p, eps_form="tilde"), r"eps_form must be one of \('standard', 'hat'\); got 'tilde'"),
])
def test_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message):
        make([np.zeros(2)])


def test_nesterov_must_be_a_bool():
    with pytest.raises(TypeError, match="nesterov must be a bool; got int 1"):
        SGD([np.zeros(2)], momentum=0.9, nesterov=1)


@pytest.mark.parametrize(("params", "error", "message"), [
    ([], ValueError, "at least one array; got an empty list"),
    (np.zeros(3), TypeError, "got a single np.ndarray"),
    ([np.zeros(3, dtype=np.int64)], TypeError, r"params\[0\] must have a floating-point dtype.*got int64"),
    ([np.zeros(2), [1.0, 2.0]], TypeError, r"params\[1\] must be an np.ndarray; got list"),
    ([np.array([1.0, np.nan])], ValueError, r"params\[0\] must be finite"),
    (5, TypeError, "params must be a list of np.ndarray; got int"),
])
def test_bad_params(params, error, message):
    with pytest.raises(error, match=message):
        SGD(params, lr=0.1)


def test_read_only_and_repeated_params_are_rejected():
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        Adam([frozen])
    shared = np.zeros(3)
    with pytest.raises(ValueError, match="same array twice"):
        Adam([shared, shared])


def test_bad_gradients():
    opt = Adam([np.zeros((2, 3)), np.zeros(4)])
    with pytest.raises(ValueError, match=r"expected 2 gradient\(s\), one per parameter; got 1"):
        opt.step([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"grads\[1\] must have the shape of params\[1\], \(4,\); got \(3,\)"):
        opt.step([np.zeros((2, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match=r"grads\[0\] must be finite; got 1 NaN or inf"):
        opt.step([np.array([[0, 0, np.inf], [0, 0, 0]]), np.zeros(4)])
    with pytest.raises(TypeError, match=r"grads\[1\] must be a numeric array"):
        opt.step([np.zeros((2, 3)), np.array(["a"] * 4)])
    with pytest.raises(TypeError, match="got a single np.ndarray"):
        opt.step(np.zeros((2, 3)))
    assert opt.t == 0  # a rejected step changes nothing


# ---------------------------------------------------------------- landscapes


def test_quadratic_has_the_requested_conditioning_and_gradient():
    A = ill_conditioned_matrix(kappa=25.0, angle_deg=30.0)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), [1.0, 25.0], rtol=1e-12)
    x = np.array([0.3, -1.1])
    h = 1e-6
    fd = [(quadratic(x + h * e, A) - quadratic(x - h * e, A)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(quadratic_grad(x, A), fd, rtol=1e-8)
    assert quadratic(np.zeros((4, 5, 2)), A).shape == (4, 5)


def test_rosenbrock_minimum_and_gradient():
    assert rosenbrock(np.array([1.0, 1.0])) == 0.0
    np.testing.assert_array_equal(rosenbrock_grad(np.array([1.0, 1.0])), [0.0, 0.0])
    x, h = np.array([-1.2, 1.0]), 1e-6
    fd = [(rosenbrock(x + h * e) - rosenbrock(x - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(rosenbrock_grad(x), fd, rtol=1e-7)


def test_gd_on_a_quadratic_shrinks_each_eigen_direction_by_one_minus_lr_lambda():
    A = ill_conditioned_matrix(kappa=10.0, angle_deg=20.0)
    lam, Q = np.linalg.eigh(A)
    theta0 = np.array([1.0, 1.0])
    path = run_path(SGD([theta0.copy()], lr=0.15), lambda x: quadratic_grad(x, A), steps=20)
    assert path.shape == (21, 2)
    coords = path @ Q  # components along the eigenvectors
    expected = (theta0 @ Q) * (1 - 0.15 * lam) ** np.arange(21)[:, None]  # Eq. (4.2)
    np.testing.assert_allclose(coords, expected, rtol=1e-10, atol=1e-14)


def test_run_path_reports_divergence_and_bad_arguments():
    A = ill_conditioned_matrix(kappa=100.0)
    with pytest.raises(ValueError, match="not finite"):
        with np.errstate(over="ignore", invalid="ignore"):
            run_path(SGD([np.array([1.0, 1.0])], lr=1.0), lambda x: quadratic_grad(x, A) * 1e300, steps=50)
    with pytest.raises(ValueError, match="exactly one array"):
        run_path(SGD([np.zeros(2), np.zeros(2)], lr=0.1), lambda x: x, steps=3)
    with pytest.raises(TypeError, match="Optimizer"):
        run_path("sgd", lambda x: x, steps=3)
    with pytest.raises(ValueError, match="steps must be a positive int; got 0"):
        run_path(SGD([np.zeros(2)], lr=0.1), lambda x: x, steps=0)
    with pytest.raises(ValueError, match="kappa must be a finite number >= 1; got 0.5"):
        ill_conditioned_matrix(kappa=0.5)
