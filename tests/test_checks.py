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
