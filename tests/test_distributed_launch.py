"""Multi-process tests of companion.distributed: DDP via torchrun, sharding on gloo, MirroredStrategy.

Each test starts real processes (a few seconds each); the data and models are tiny.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from toy_data import classification_data

from companion.distributed import ddp_train, launch, sharding

SPEC = {"kind": "mlp", "sizes": [8, 16, 3]}


def test_ddp_with_two_gloo_processes_equals_one_process(tmp_path):
    x, y = classification_data(96)
    ckpt = tmp_path / "ddp.pt"
    # With chapter 6's warm-up schedule and a GradScaler, whose states the checkpoint must carry too.
    schedule = dict(schedule=(2, 6), grad_scaler={"init_scale": 2.0**8, "growth_interval": 2})
    result = launch.run_ddp(x, y, SPEC, nproc=2, steps=6, global_batch=32, lr=1e-2, workdir=tmp_path,
                            checkpoint=ckpt, save_at=4, **schedule)
    reference = ddp_train.train(SPEC, x, y, steps=6, global_batch=32, lr=1e-2, device=torch.device("cpu"),
                                **schedule)
    assert result["world_size"] == 2 and result["backend"] == "gloo"
    assert len(result["losses"]) == 6
    assert np.max(np.abs(np.subtract(result["losses"], reference))) <= 1e-5
    # The ranks were initialised differently; DDP's constructor broadcast rank 0's weights.
    assert result["checksum_before_wrap"][0] != result["checksum_before_wrap"][1]
    assert result["checksum_after_wrap"][0] == result["checksum_after_wrap"][1]
    assert result["checksum_final"][0] == result["checksum_final"][1]
    assert result["command"].startswith("torchrun --nnodes 1 --nproc_per_node 2")
    # The checkpoint rank 0 wrote at step 4 resumes in one process and continues the DDP run.
    resumed = ddp_train.train(SPEC, x, y, steps=6, global_batch=32, lr=1e-2, device=torch.device("cpu"),
                              resume=ckpt, init_seed=5, **schedule)
    assert len(resumed) == 2
    assert np.max(np.abs(np.subtract(resumed, result["losses"][4:]))) <= 1e-5
    payload = torch.load(ckpt, weights_only=True)
    assert len(payload["extra"]["rng_per_rank"]) == 2
    assert payload["scheduler"]["last_epoch"] == 4 and payload["scaler"]["scale"] == 2.0**10


def test_run_ddp_bad_input_fails_before_launching_or_reports_stderr():
    x, y = classification_data(96)
    with pytest.raises(ValueError, match="expected a multiple of world_size 2, got global batch 31"):
        launch.run_ddp(x, y, SPEC, nproc=2, steps=2, global_batch=31)
    with pytest.raises(ValueError, match="world_size must be a positive int; got 0"):
        launch.run_ddp(x, y, SPEC, nproc=0, steps=2, global_batch=32)
    with pytest.raises(ValueError, match="'kind' must be one of"):
        launch.run_ddp(x, y, {"kind": "cnn"}, nproc=2, steps=2, global_batch=32)
    # A failing job raises with its exit status and the workers' stderr.
    failing = [sys.executable, "-c", "import sys; sys.stderr.write('rank 1: shapes do not fit'); sys.exit(3)"]
    with pytest.raises(launch.DistributedLaunchError,
                       match=r"(?s)expected exit status 0, got 3.*rank 1: shapes do not fit"):
        launch.run_command(failing, timeout=60)


def test_tensor_parallel_and_zero1_on_gloo_equal_the_single_process():
    rng = np.random.default_rng(0)
    n, d, h = 4, 6, 8
    tp_args = [rng.normal(size=s).astype(np.float32) for s in [(n, d), (d, h), (h,), (h, d), (d,), (n, d)]]
    x, y = classification_data(96)
    zero_args = (SPEC, x, y, 5, 32, 1e-2, 0)
    tp, zero = launch.spawn_gloo_many([(sharding.tensor_parallel_mlp_worker, tp_args),
                                       (sharding.zero1_adam_worker, zero_args)], 2)
    ref = sharding.tensor_parallel_mlp_reference(*tp_args)
    for rank in range(2):
        assert torch.allclose(tp[rank]["y"], ref["y"], atol=1e-5)
        assert torch.allclose(tp[rank]["x_grad"], ref["x_grad"], atol=1e-5)
    assert torch.allclose(torch.cat([r["w1_grad"] for r in tp], dim=1), ref["w1_grad"], atol=1e-5)
    assert torch.allclose(torch.cat([r["w2_grad"] for r in tp], dim=0), ref["w2_grad"], atol=1e-5)
    adam = sharding.adam_reference(*zero_args)
    # The gradients travel by reduce-scatter (each rank receives its slice) and the weights by all-gather.
    n = adam["n_params"]
    assert [r["reduce_scatter_numel"] for r in zero] == [(n + n % 2, (n + 1) // 2)] * 2
    assert [r["all_gather_numel"] for r in zero] == [((n + 1) // 2, n + n % 2)] * 2
    for rank in range(2):
        assert torch.allclose(zero[rank]["params"], adam["params"], atol=1e-6)
        np.testing.assert_allclose(zero[rank]["losses"], adam["losses"], atol=1e-6)
    # Each rank holds half of Adam's two moments.
    assert sum(r["state_numel"] for r in zero) == adam["state_numel"] == 2 * adam["n_params"]


def test_sharding_bad_input():
    w = np.zeros((6, 10))
    with pytest.raises(ValueError, match="size 10 must split evenly over world_size 4; got remainder 2"):
        sharding.column_shard(w, 4, 0)
    assert sharding.row_shard(w, 2, 1).shape == (3, 10)
    assert sharding.flat_shard_bounds(10, 3, 2) == (8, 10)


def test_the_loss_record_is_one_module_level_keras_callback():
    keras = pytest.importorskip("keras")
    from companion.distributed.keras_loss_record import BatchLossRecord

    first, second = BatchLossRecord(), BatchLossRecord()
    assert type(first) is type(second) is BatchLossRecord
    assert isinstance(first, keras.callbacks.Callback)
    first.on_train_batch_end(0, {"loss": 1.5})
    first.on_train_batch_end(1, {"loss": np.float32(1.25)})
    assert first.losses == [1.5, 1.25] and second.losses == []
    shared = []
    BatchLossRecord(shared).on_train_batch_end(0, {"loss": 2.0})
    assert shared == [2.0]


def test_mirrored_strategy_equals_one_device():
    # TensorFlow's logical devices must be configured before its runtime starts: a fresh process.
    code = textwrap.dedent("""
        import json, numpy as np
        from companion.distributed import tf_mirrored
        names = tf_mirrored.configure_logical_cpus(2)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 8)).astype(np.float32); y = rng.integers(0, 3, size=64)
        r = tf_mirrored.mirrored_vs_single(x, y, [8, 16, 3], devices=names, steps=4, global_batch=16, lr=0.1)
        try:
            tf_mirrored.configure_logical_cpus(3)
            error = ""
        except RuntimeError as e:
            error = str(e)
        print(json.dumps({"r": {k: r[k] for k in ("replicas", "max_loss_difference", "max_weight_difference")},
                          "error": error}))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COMPANION_DEVICE": "cpu"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["r"]["replicas"] == 2
    assert out["r"]["max_weight_difference"] < 1e-6
    assert out["r"]["max_loss_difference"] < 1e-4
    assert "expected 3 logical CPU devices, got 2" in out["error"]
