"""The shared input checks of companion/checks.py."""

import numpy as np
import pytest

from companion.checks import MAX_SEED, as_float_array, check_positive_int, check_seed


@pytest.mark.parametrize("seed", [0, 1, MAX_SEED, np.int64(7), np.uint32(MAX_SEED)])
def test_check_seed_accepts_the_range(seed):
    assert check_seed(seed) == int(seed) and type(check_seed(seed)) is int


@pytest.mark.parametrize("seed, error, message", [
    (-1, ValueError, r"seed must be an int in \[0, 4294967295\]; got -1"),
    (2**32, ValueError, r"seed must be an int in \[0, 4294967295\]; got 4294967296"),
    (True, TypeError, r"seed must be an int in \[0, 4294967295\]; got bool True"),
    (1.0, TypeError, r"seed must be an int in \[0, 4294967295\]; got float 1.0"),
    ("3", TypeError, r"seed must be an int in \[0, 4294967295\]; got str '3'"),
])
def test_check_seed_rejects(seed, error, message):
    with pytest.raises(error, match=message):
        check_seed(seed)


def test_one_seed_rule_for_set_seed_and_the_splits():
    from companion.data.splits import stratified_split
    from companion.seed import set_seed

    for call in (lambda s: set_seed(s, frameworks=("numpy",)),
                 lambda s: stratified_split([f"text {i}" for i in range(20)], [0, 1] * 10, seed=s)):
        call(MAX_SEED)
        with pytest.raises(ValueError, match=r"seed must be an int in \[0, 4294967295\]; got 4294967296"):
            call(MAX_SEED + 1)


def test_check_positive_int():
    assert check_positive_int(np.int32(3), "n") == 3
    with pytest.raises(ValueError, match="n must be a positive int; got 0"):
        check_positive_int(0, "n")
    with pytest.raises(TypeError, match="n must be a positive int; got bool True"):
        check_positive_int(True, "n")


def test_as_float_array():
    assert as_float_array([1, 2], "x").dtype == np.float64
    assert as_float_array(np.ones(2, np.float32), "x").dtype == np.float32
    with pytest.raises(ValueError, match="x must be finite; got 1 NaN or inf value"):
        as_float_array([1.0, np.nan], "x")
    with pytest.raises(ValueError, match=r"x must have 2 dimension\(s\); got shape \(2,\)"):
        as_float_array([1.0, 2.0], "x", ndim=2)


def test_check_texts_is_one_rule_for_every_collection_of_texts():
    from companion.checks import check_texts

    assert check_texts(("a", "b")) == ["a", "b"] and check_texts(t for t in ["x"]) == ["x"]
    assert check_texts(np.array(["a", "b"])) == ["a", "b"] and type(check_texts(np.array(["a"]))[0]) is str
    assert check_texts(["ok", "  "]) == ["ok", "  "]  # a blank text is a text (it has no tokens)
    assert check_texts([], allow_empty=True) == []
    with pytest.raises(TypeError, match=r"texts must be an iterable of str \(a list of texts\); got str"):
        check_texts("one text")
    with pytest.raises(TypeError, match=r"reviews\[1\] must be a str; got int 3"):
        check_texts(["ok", 3], "reviews")
    with pytest.raises(ValueError, match="texts must hold at least one text; got none"):
        check_texts([])
    with pytest.raises(ValueError, match=r"texts\[1\] must be a non-empty string; got '  '"):
        check_texts(["ok", "  "], allow_blank=False)


def test_check_labels():
    from companion.checks import check_labels

    assert check_labels([0, 1, True], 3).dtype == np.int64
    with pytest.raises(ValueError, match=r"labels must have one entry per text, shape \(3,\); got shape \(2,\)"):
        check_labels([0, 1], 3)
    with pytest.raises(TypeError, match="labels must be integer class ids; got dtype float64"):
        check_labels([0.0, 1.0], 2)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\); got min 0, max 2"):
        check_labels([0, 2], 2, num_classes=2)
    with pytest.raises(ValueError, match="y must be class ids >= 0; got min -1, max 1"):
        check_labels([-1, 1], 2, name="y")


def test_check_learning_rate():
    from companion.checks import check_learning_rate

    assert check_learning_rate(0.1) == 0.1 and type(check_learning_rate(np.float32(0.5))) is float
    assert check_learning_rate(1, "base_lr") == 1.0
    for value, error, message in [
        (0.0, ValueError, r"lr must be > 0; got 0.0"),
        (-1e-3, ValueError, r"lr must be > 0; got -0.001"),
        (float("nan"), ValueError, r"lr must be a finite number > 0; got nan"),
        (float("inf"), ValueError, r"lr must be a finite number > 0; got inf"),
        ("0.1", TypeError, r"lr must be a finite number > 0; got str '0.1'"),
        (True, TypeError, r"lr must be a finite number > 0; got bool True"),
        (None, TypeError, r"lr must be a finite number > 0; got NoneType None"),
    ]:
        with pytest.raises(error, match=message):
            check_learning_rate(value)
    with pytest.raises(ValueError, match=r"learning_rate must be > 0; got -2.0"):
        check_learning_rate(-2, "learning_rate")


def test_check_weight_decay():
    from companion.checks import check_weight_decay

    assert check_weight_decay(0) == 0.0 and check_weight_decay(np.float64(0.01)) == 0.01
    with pytest.raises(ValueError, match=r"weight_decay must be >= 0; got -0.5"):
        check_weight_decay(-0.5)
    with pytest.raises(ValueError, match=r"weight_decay must be a finite number >= 0; got inf"):
        check_weight_decay(float("inf"))
    with pytest.raises(TypeError, match=r"wd must be a finite number >= 0; got list \[0.1\]"):
        check_weight_decay([0.1], "wd")


def test_check_in_interval_and_check_decay_rate():
    from companion.checks import check_decay_rate, check_in_interval

    assert check_decay_rate(0, "momentum") == 0.0 and check_decay_rate(0.999, "beta2") == 0.999
    with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\); got 1.0"):
        check_decay_rate(1.0, "beta1")
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\); got -0.1"):
        check_decay_rate(-0.1, "alpha")
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\); got nan"):
        check_decay_rate(float("nan"), "alpha")
    with pytest.raises(TypeError, match=r"momentum must be a number in \[0, 1\); got str '0.9'"):
        check_decay_rate("0.9", "momentum")
    # Each end is in or out as ``closed`` says.
    assert check_in_interval(1, "gamma", 0, 1, closed="right") == 1.0
    with pytest.raises(ValueError, match=r"gamma must be in \(0, 1\]; got 0.0"):
        check_in_interval(0, "gamma", 0, 1, closed="right")
    assert check_in_interval(0, "a", 0, 1, closed="both") == check_in_interval(1, "a", 0, 1, closed="both") - 1
    for value in (0, 1):
        with pytest.raises(ValueError, match=rf"a must be in \(0, 1\); got {float(value)}"):
            check_in_interval(value, "a", 0, 1, closed="neither")
    with pytest.raises(ValueError, match=r"closed must be one of \('left', 'right', 'both', 'neither'\); got 'open'"):
        check_in_interval(0.5, "a", 0, 1, closed="open")


def test_check_choice():
    from companion.checks import check_choice

    assert check_choice("sample", "strategy", ("greedy", "sample")) == "sample"
    assert check_choice(None, "norm", (None, "batch")) is None  # a non-str choice is a choice
    assert check_choice("en", "language", {"zh": 1, "en": 2}) == "en"
    with pytest.raises(ValueError, match=r"strategy must be one of \('greedy', 'sample'\); got 'beam'"):
        check_choice("beam", "strategy", ("greedy", "sample"))
    # A dict or set of names is written sorted; the hint follows the choices.
    with pytest.raises(ValueError, match=r"language must be one of \['en', 'zh'\] or None; got 'de'"):
        check_choice("de", "language", {"zh": 1, "en": 2}, hint=" or None")
    with pytest.raises(TypeError, match=r"strategy must be one of \('greedy', 'sample'\); got int 3"):
        check_choice(3, "strategy", ("greedy", "sample"))
    with pytest.raises(TypeError, match=r"kind must be one of \['a', 'b'\]; got list \['a'\]"):
        check_choice(["a"], "kind", {"a", "b"})  # unhashable: not a choice, and a TypeError


def test_check_dtype():
    from companion.checks import check_dtype

    assert check_dtype("float32") == np.dtype(np.float32) and check_dtype(np.float64) == np.dtype(np.float64)
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got float16"):
        check_dtype(np.float16)
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got 'no such type'"):
        check_dtype("no such type")
