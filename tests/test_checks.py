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
