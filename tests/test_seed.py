"""Seeding: the same seed gives the same numbers in every framework."""

import random

import numpy as np
import pytest
import torch

import companion
from companion.frameworks import import_tensorflow

tf = import_tensorflow()


def _draw():
    return (
        random.random(),
        np.random.rand(3).tolist(),
        torch.rand(3).tolist(),
        tf.random.uniform((3,)).numpy().tolist(),
    )


def test_same_seed_same_numbers_in_python_numpy_torch_and_tensorflow():
    companion.set_seed(123)
    first = _draw()
    companion.set_seed(123)
    second = _draw()
    assert first == second


def test_different_seeds_give_different_numbers_in_each_framework():
    companion.set_seed(1)
    first = _draw()
    companion.set_seed(2)
    second = _draw()
    for a, b in zip(first, second):
        assert a != b


def test_keras_initialisers_are_reproducible():
    import keras

    def build():
        companion.set_seed(7)
        layer = keras.layers.Dense(4)
        layer.build((None, 3))
        return layer.kernel.numpy()

    np.testing.assert_array_equal(build(), build())


def test_returns_the_frameworks_it_seeded():
    assert companion.set_seed(0) == ("numpy", "torch", "tensorflow")
    assert companion.set_seed(0, frameworks=("torch",)) == ("torch",)
    assert companion.set_seed(0, frameworks="numpy") == ("numpy",)


def test_turns_on_torch_determinism():
    companion.set_seed(0, frameworks=("torch",))
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_out_of_range_seed_is_rejected(bad):
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 4294967295\]"):
        companion.set_seed(bad)


@pytest.mark.parametrize("bad", [1.5, "3", None, True])
def test_non_integer_seed_is_rejected(bad):
    with pytest.raises(TypeError, match="seed must be an int"):
        companion.set_seed(bad)


def test_unknown_framework_is_rejected():
    with pytest.raises(ValueError, match=r"unknown \['jax'\]"):
        companion.set_seed(0, frameworks=("numpy", "jax"))


def test_torch_seed_scope_depends_on_the_seed_alone_and_restores_the_stream():
    import torch

    from companion.seed import torch_seed_scope

    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    with torch_seed_scope(7):
        inside = torch.rand(3)
    after = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(inside, torch.rand(3))  # the block drew from seed 7
    assert torch.equal(after, expected_next)  # and the caller's stream went on untouched


def test_torch_seed_scope_rejects_a_bad_seed():
    from companion.seed import torch_seed_scope

    with pytest.raises(ValueError, match="seed"):
        with torch_seed_scope(-1):
            pass
