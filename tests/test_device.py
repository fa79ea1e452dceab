"""Device choice: order of preference, the override, and the missing-device error."""

import pytest
import torch

import companion
from companion import device as device_module


def _fake_accelerators(monkeypatch, cuda: bool, mps: bool):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.usefixtures("no_device_override")
@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_preference_order_is_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    _fake_accelerators(monkeypatch, cuda, mps)
    assert companion.get_device().type == expected


def test_environment_variable_overrides_the_automatic_choice(monkeypatch):
    _fake_accelerators(monkeypatch, cuda=True, mps=False)
    monkeypatch.setenv("COMPANION_DEVICE", "cpu")
    assert companion.get_device().type == "cpu"


def test_override_is_case_and_space_insensitive(monkeypatch):
    _fake_accelerators(monkeypatch, cuda=False, mps=True)
    monkeypatch.setenv("COMPANION_DEVICE", "  MPS ")
    assert companion.get_device().type == "mps"


@pytest.mark.parametrize("missing", ["cuda", "mps"])
def test_requesting_an_absent_device_raises_a_clear_error(monkeypatch, missing):
    _fake_accelerators(monkeypatch, cuda=False, mps=False)
    monkeypatch.setenv("COMPANION_DEVICE", missing)
    with pytest.raises(companion.DeviceNotAvailableError) as info:
        companion.get_device()
    message = str(info.value)
    assert f"COMPANION_DEVICE={missing}" in message
    assert "sees only cpu" in message


def test_unknown_device_name_is_rejected(monkeypatch):
    monkeypatch.setenv("COMPANION_DEVICE", "tpu")
    with pytest.raises(ValueError, match=r"one of cpu, cuda, mps.*got 'tpu'"):
        companion.get_device()


@pytest.mark.usefixtures("no_device_override")
def test_tensorflow_device_follows_the_same_rule(monkeypatch):
    monkeypatch.setattr(device_module, "tf_available_devices", lambda: ["cuda", "cpu"])
    assert companion.get_tf_device() == "/GPU:0"
    monkeypatch.setenv("COMPANION_DEVICE", "cpu")
    assert companion.get_tf_device() == "/CPU:0"


def test_tensorflow_absent_device_raises(monkeypatch):
    monkeypatch.setattr(device_module, "tf_available_devices", lambda: ["cpu"])
    monkeypatch.setenv("COMPANION_DEVICE", "cuda")
    with pytest.raises(companion.DeviceNotAvailableError, match="TensorFlow sees only cpu"):
        companion.get_tf_device()


@pytest.mark.usefixtures("no_device_override")
def test_real_tensorflow_device_string_is_valid():
    assert companion.get_tf_device() in ("/CPU:0", "/GPU:0")


def test_set_cpu_threads_sets_torch_and_blas_and_returns_the_previous_count():
    torch = pytest.importorskip("torch")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from companion.device import set_cpu_threads

    before = torch.get_num_threads()
    blas_before = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    try:
        assert set_cpu_threads(1) == before
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas")
        assert set_cpu_threads(2) == 1 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
        threadpoolctl.threadpool_limits(limits=max(blas_before, default=1), user_api="blas")
    for bad, kind in ((0, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(kind, match="count"):
            set_cpu_threads(bad)
