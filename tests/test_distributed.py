"""In-process tests of companion.distributed: the data-parallel identity, accumulation, checkpoints, memory."""

import numpy as np
import pytest
import torch
from toy_data import classification_data
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.distributed import accumulation, checkpoint, data_parallel, ddp_train, memory

SPEC = {"kind": "mlp", "sizes": [8, 16, 3]}


def _model(seed=0, spec=SPEC):
    return ddp_train.build_model(spec, seed).double()


# --- sharding ------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=30)
@given(world_size=st.integers(1, 8), per_rank=st.integers(1, 6))
def test_split_batch_covers_the_batch_in_equal_shards(world_size, per_rank):
    batch = np.arange(world_size * per_rank)
    shards = data_parallel.split_batch(batch, world_size)
    assert [len(s) for s in shards] == [per_rank] * world_size
    np.testing.assert_array_equal(np.concatenate(shards), batch)
    assert data_parallel.shard_bounds(len(batch), world_size, world_size - 1) == (len(batch) - per_rank, len(batch))


def test_world_size_zero_is_refused():
    with pytest.raises(ValueError, match="world_size must be a positive int; got 0"):
        data_parallel.shard_bounds(8, 0, 0)
    with pytest.raises(TypeError, match="world_size"):
        data_parallel.check_world_size(2.0)


def test_uneven_global_batch_names_expected_and_got():
    with pytest.raises(ValueError, match=r"expected a multiple of world_size 4, got global batch 30 \(remainder 2\)"):
        data_parallel.shard_bounds(30, 4, 0)
    with pytest.raises(ValueError, match=r"rank must be an int in \[0, 2\).*got 2"):
        data_parallel.shard_bounds(8, 2, 2)


# --- the identity ------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=10)
@given(world_size=st.sampled_from([1, 2, 3, 4, 6]), seed=st.integers(0, 100))
def test_mean_of_replica_gradients_is_the_full_batch_gradient(world_size, seed):
    x, y = classification_data(48, seed=seed)
    model = _model(seed)
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    loss = torch.nn.functional.cross_entropy
    full = data_parallel.full_batch_gradient(model, loss, xt, yt)
    replicas = data_parallel.replica_gradients(model, loss, xt, yt, world_size)
    assert len(replicas) == world_size
    assert data_parallel.max_abs_difference(data_parallel.average_gradients(replicas), full) < 1e-12


def test_unequal_shards_need_the_weighted_sum():
    x, y = classification_data(48)
    model = _model()
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    loss = torch.nn.functional.cross_entropy
    full = data_parallel.full_batch_gradient(model, loss, xt, yt)
    sizes = [40, 8]
    replicas = data_parallel.replica_gradients(model, loss, xt, yt, shard_sizes=sizes)
    plain = data_parallel.average_gradients(replicas)
    weighted = data_parallel.average_gradients(replicas, [s / 48 for s in sizes])
    assert data_parallel.max_abs_difference(plain, full) > 1e-3  # the plain mean is wrong
    assert data_parallel.max_abs_difference(weighted, full) < 1e-12
    with pytest.raises(ValueError, match="add up to the batch of 48 examples; got"):
        data_parallel.replica_gradients(model, loss, xt, yt, shard_sizes=[40, 4])
    with pytest.raises(ValueError, match="add up to 1"):
        data_parallel.average_gradients(replicas, [0.5, 0.6])


# --- accumulation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8])
def test_accumulated_gradient_equals_the_big_batch(k):
    x, y = classification_data(48)
    model = _model()
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    loss = torch.nn.functional.cross_entropy
    full = data_parallel.full_batch_gradient(model, loss, xt, yt)
    acc = accumulation.accumulated_gradient(model, loss, xt, yt, k)
    assert data_parallel.max_abs_difference(acc, full) < 1e-12


def test_accumulation_without_division_is_k_times_too_big():
    x, y = classification_data(48)
    model = _model()
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    loss = torch.nn.functional.cross_entropy
    full = data_parallel.full_batch_gradient(model, loss, xt, yt)
    wrong = accumulation.accumulated_gradient(model, lambda out, t: 4 * loss(out, t), xt, yt, 4)
    assert data_parallel.max_abs_difference([g / 4 for g in wrong], full) < 1e-12
    assert data_parallel.max_abs_difference(wrong, full) > 1e-3


def test_accumulation_training_matches_big_batch_training():
    x, y = classification_data(48)
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    batches = [(xt[i:i + 16], yt[i:i + 16]) for i in range(0, 48, 16)]
    runs = []
    for k in (1, 4):
        model = _model()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        runs.append(accumulation.train_with_accumulation(model, opt, torch.nn.functional.cross_entropy, batches, k))
    np.testing.assert_allclose(runs[0], runs[1], rtol=0, atol=1e-12)


def test_accumulation_bad_micro_batches():
    x, y = classification_data(48)
    model = _model()
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    with pytest.raises(ValueError, match="expected a multiple of micro_batches 5, got global batch 48"):
        accumulation.accumulated_gradient(model, torch.nn.functional.cross_entropy, xt, yt, 5)
    with pytest.raises(ValueError, match="micro_batches must be a positive int; got 0"):
        accumulation.accumulated_gradient(model, torch.nn.functional.cross_entropy, xt, yt, 0)


# --- the training loop and checkpoints ------------------------------------------------------------------


def test_batch_indices_are_a_function_of_the_step():
    a = ddp_train.batch_indices(100, 32, 4, seed=3)
    b = ddp_train.batch_indices(100, 32, 4, seed=3)
    np.testing.assert_array_equal(a, b)
    epoch0 = np.concatenate([ddp_train.batch_indices(100, 32, s, 3) for s in range(3)])
    assert len(set(epoch0.tolist())) == 96  # one epoch: no repeats
    assert not np.array_equal(ddp_train.batch_indices(100, 32, 3, 3), ddp_train.batch_indices(100, 32, 0, 3))
    with pytest.raises(ValueError, match="at most the 10 training examples; got 32"):
        ddp_train.batch_indices(10, 32, 0, 0)


def test_resume_gives_identical_losses(tmp_path):
    x, y = classification_data(96)
    spec = {"kind": "mlp", "sizes": [8, 16, 3], "dropout": 0.3}  # dropout: the RNG state matters
    kwargs = dict(steps=8, global_batch=16, lr=1e-2, seed=0, device=torch.device("cpu"))
    full = ddp_train.train(spec, x, y, **kwargs)
    path = tmp_path / "ckpt.pt"
    first = ddp_train.train(spec, x, y, checkpoint_path=path, save_at=3, **{**kwargs, "steps": 3})
    assert first == full[:3]
    resumed = ddp_train.train(spec, x, y, resume=path, init_seed=99, **kwargs)
    assert resumed == full[3:]  # exactly, not approximately
    # Without the RNG state the dropout masks differ, and so do the losses.
    torch.manual_seed(123)
    model = ddp_train.build_model(spec, 99)
    opt = ddp_train.make_optimizer("adam", model.parameters(), 1e-2)
    step = checkpoint.load_checkpoint(path, model, opt, restore_rng=False)["step"]
    assert step == 3
    other = ddp_train.train_steps(model, opt, x, y, steps=8, global_batch=16, seed=0, start_step=3)
    assert other != full[3:]


def test_checkpoint_from_a_different_model_is_refused(tmp_path):
    model = ddp_train.build_model(SPEC, 0)
    opt = torch.optim.Adam(model.parameters())
    path = checkpoint.save_checkpoint(tmp_path / "c.pt", model, opt, 5)
    wider = ddp_train.build_model({"kind": "mlp", "sizes": [8, 32, 3]}, 0)
    with pytest.raises(checkpoint.CheckpointMismatchError,
                       match=r"different model.*'0.weight' has shape \(16, 8\) in the checkpoint, "
                             r"\(32, 8\) in the model"):
        checkpoint.load_checkpoint(path, wider)
    deeper = ddp_train.build_model({"kind": "mlp", "sizes": [8, 16, 16, 3]}, 0)
    with pytest.raises(ValueError, match="missing from the checkpoint"):
        checkpoint.load_checkpoint(path, deeper)
    # The same architecture loads, and the weights are those saved.
    same = ddp_train.build_model(SPEC, 7)
    assert checkpoint.load_checkpoint(path, same)["step"] == 5
    for a, b in zip(model.parameters(), same.parameters()):
        assert torch.equal(a, b)


TRANSFORMER = {"kind": "transformer", "num_classes": 2,
               "config": dict(vocab_size=30, max_len=8, d_model=16, num_heads=2, num_layers=1, d_ff=32,
                              dropout=0.0, causal=False)}


def test_checkpoint_from_a_model_with_another_config_is_refused(tmp_path):
    # causal=False and causal=True have the same tensors: the signature alone would let it load.
    bidirectional = ddp_train.build_model(TRANSFORMER, 0)
    path = checkpoint.save_checkpoint(tmp_path / "c.pt", bidirectional, None, 3)
    assert torch.load(path, weights_only=True)["config"]["causal"] is False
    causal_spec = {**TRANSFORMER, "config": {**TRANSFORMER["config"], "causal": True}}
    causal = ddp_train.build_model(causal_spec, 1)
    assert checkpoint.model_signature(causal) == checkpoint.model_signature(bidirectional)
    before = [p.detach().clone() for p in causal.parameters()]
    with pytest.raises(checkpoint.CheckpointMismatchError,
                       match=r"different configuration: causal is False in the checkpoint, True in the model$"):
        checkpoint.load_checkpoint(path, causal)
    assert all(torch.equal(a, b) for a, b in zip(before, causal.parameters()))  # nothing was copied
    # Every differing field is named, as stored and as in the model.
    other = {**TRANSFORMER, "config": {**TRANSFORMER["config"], "causal": True, "dropout": 0.1}}
    with pytest.raises(ValueError, match=r"causal is False in the checkpoint, True in the model; "
                                         r"dropout is 0.0 in the checkpoint, 0.1 in the model|"
                                         r"dropout is 0.0 in the checkpoint, 0.1 in the model; causal is False"):
        checkpoint.load_checkpoint(path, ddp_train.build_model(other, 0))
    # The same configuration loads.
    same = ddp_train.build_model(TRANSFORMER, 9)
    assert checkpoint.load_checkpoint(path, same)["step"] == 3
    assert all(torch.equal(a, b) for a, b in zip(bidirectional.parameters(), same.parameters()))


def test_model_config_of_models_with_and_without_one():
    assert checkpoint.model_config(ddp_train.build_model(SPEC, 0)) is None  # nn.Sequential: signature only
    config = checkpoint.model_config(ddp_train.build_model(TRANSFORMER, 0))
    assert config["d_ff"] == 32 and config["causal"] is False
    holder = torch.nn.Linear(2, 2)
    holder.config = {"width": 2, "activation": torch.nn.ReLU()}
    with pytest.raises(TypeError, match="field 'activation' must be a plain value"):
        checkpoint.model_config(holder)
    assert checkpoint.describe_config_mismatch({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 0}) == (
        "b is 3 in the checkpoint, 2 in the model; c is 0 in the checkpoint, unknown to the model")


def test_resume_restores_scheduler_and_grad_scaler(tmp_path):
    x, y = classification_data(96)
    spec = {"kind": "mlp", "sizes": [8, 16, 3], "dropout": 0.3}
    kwargs = dict(steps=8, global_batch=16, lr=1e-2, seed=0, device=torch.device("cpu"), schedule=(3, 8),
                  grad_scaler={"init_scale": 2.0**8, "growth_interval": 2})
    full = ddp_train.train(spec, x, y, checkpoint_path=tmp_path / "a8.pt", save_at=8, **kwargs)
    ddp_train.train(spec, x, y, checkpoint_path=tmp_path / "b3.pt", save_at=3, **{**kwargs, "steps": 3})
    b3 = torch.load(tmp_path / "b3.pt", weights_only=True)
    assert b3["scheduler"]["last_epoch"] == 3 and b3["scaler"]["scale"] == 2.0**9  # grew once, after 2 steps
    resumed = ddp_train.train(spec, x, y, resume=tmp_path / "b3.pt", init_seed=99,
                              checkpoint_path=tmp_path / "c8.pt", save_at=8, **kwargs)
    assert resumed == full[3:]  # exactly
    assert checkpoint.state_differences(tmp_path / "a8.pt", tmp_path / "c8.pt") == []
    # Resumed without the scheduler's state, the schedule restarts its warm-up: other rates, other losses.
    model = ddp_train.build_model(spec, 99)
    optimizer = ddp_train.make_optimizer("adam", model.parameters(), 1e-2)
    scheduler = ddp_train.make_scheduler(optimizer, 3, 8)
    scaler = ddp_train.make_grad_scaler("cpu", kwargs["grad_scaler"])
    start = checkpoint.load_checkpoint(tmp_path / "b3.pt", model, optimizer, scaler=scaler)["step"]
    other = ddp_train.train_steps(model, optimizer, x, y, steps=8, global_batch=16, seed=0, start_step=start,
                                  scheduler=scheduler, scaler=scaler)
    assert other[0] == full[3] and other[1:] != full[4:]  # the restored optimiser still held step 4's rate
    # Resumed without the scaler's state, the scale differs at the end (the losses need not, in fp32).
    model = ddp_train.build_model(spec, 99)
    optimizer = ddp_train.make_optimizer("adam", model.parameters(), 1e-2)
    scheduler = ddp_train.make_scheduler(optimizer, 3, 8)
    fresh_scaler = ddp_train.make_grad_scaler("cpu", kwargs["grad_scaler"])
    start = checkpoint.load_checkpoint(tmp_path / "b3.pt", model, optimizer, scheduler=scheduler)["step"]
    ddp_train.train_steps(model, optimizer, x, y, steps=8, global_batch=16, seed=0, start_step=start,
                          scheduler=scheduler, scaler=fresh_scaler, checkpoint_path=tmp_path / "d8.pt", save_at=8)
    assert "scaler.scale" in checkpoint.state_differences(tmp_path / "a8.pt", tmp_path / "d8.pt")


def test_checkpoint_without_a_requested_state_is_refused(tmp_path):
    model = ddp_train.build_model(SPEC, 0)
    optimizer = torch.optim.Adam(model.parameters())
    path = checkpoint.save_checkpoint(tmp_path / "c.pt", model, optimizer, 1)
    with pytest.raises(checkpoint.CheckpointMismatchError, match="holds no scheduler state; got None"):
        checkpoint.load_checkpoint(path, model, optimizer, scheduler=ddp_train.make_scheduler(optimizer, 1, 4))
    with pytest.raises(checkpoint.CheckpointMismatchError, match="holds no gradient scaler state; got None"):
        checkpoint.load_checkpoint(path, model, optimizer, scaler=ddp_train.make_grad_scaler("cpu"))
    with pytest.raises(ValueError, match="grad scaler options must be among"):
        ddp_train.make_grad_scaler("cpu", {"scale": 2.0})
    with pytest.raises(ValueError, match="warmup_steps must be smaller than total_steps"):
        ddp_train.make_scheduler(optimizer, 4, 4)


def test_state_differences_names_what_differs(tmp_path):
    model = ddp_train.build_model(SPEC, 0)
    a = checkpoint.save_checkpoint(tmp_path / "a.pt", model, None, 2)
    with torch.no_grad():
        model[0].bias[1] += 1.0
    b = checkpoint.save_checkpoint(tmp_path / "b.pt", model, None, 2)
    assert checkpoint.state_differences(a, a) == []
    assert checkpoint.state_differences(a, b) == ["model.0.bias"]


def test_checkpoint_is_loadable_with_weights_only(tmp_path):
    model = ddp_train.build_model(SPEC, 0)
    path = checkpoint.save_checkpoint(tmp_path / "c.pt", model, torch.optim.Adam(model.parameters()), 0)
    payload = torch.load(path, weights_only=True)
    assert payload["signature"][0] == ["0.weight", [16, 8]]
    assert payload["config"] is None and payload["scheduler"] is None and payload["scaler"] is None
    with pytest.raises(ValueError, match="step must be an int >= 0"):
        checkpoint.save_checkpoint(tmp_path / "d.pt", model, None, -1)
    with pytest.raises(FileNotFoundError):
        checkpoint.load_checkpoint(tmp_path / "missing.pt", model)


def test_model_spec_errors():
    with pytest.raises(ValueError, match="'kind' must be one of"):
        ddp_train.check_model_spec({"kind": "cnn"})
    with pytest.raises(ValueError, match="at least 2 entries"):
        ddp_train.check_model_spec({"kind": "mlp", "sizes": [4]})
    with pytest.raises(ValueError, match="unparsable"):
        ddp_train.check_model_spec("{not json")


# --- memory arithmetic ---------------------------------------------------------------------------


def test_zero_memory_matches_the_published_example():
    # 7.5 B parameters, mixed-precision Adam, 64 data-parallel GPUs: 120, 31.4, 16.6 and 1.9 GB.
    p, n = 7_500_000_000, 64
    totals = {s: memory.training_memory_per_device(p, n, s)["total"] / 1e9 for s in memory.STAGES}
    assert totals["ddp"] == pytest.approx(120.0)
    assert totals["zero1"] == pytest.approx(31.40625)
    assert totals["zero2"] == pytest.approx(16.640625)
    assert totals["zero3"] == pytest.approx(1.875)
    tp = memory.training_memory_per_device(p, 1, "ddp", tensor_parallel=4, pipeline_parallel=2)["total"]
    assert tp == pytest.approx(16 * p / 8)
    with pytest.raises(ValueError, match="stage must be one of"):
        memory.training_memory_per_device(p, n, "zero4")
    with pytest.raises(ValueError, match="data_parallel must be a positive int; got 0"):
        memory.training_memory_per_device(p, 0)


def test_pipeline_bubble():
    assert memory.pipeline_bubble_fraction(1, 8) == 0.0
    assert memory.pipeline_bubble_fraction(4, 4) == pytest.approx(3 / 7)
    assert memory.pipeline_bubble_fraction(4, 32) < memory.pipeline_bubble_fraction(4, 8)
    with pytest.raises(ValueError, match="micro_batches must be a positive int; got 0"):
        memory.pipeline_bubble_fraction(4, 0)


def test_choose_backend_counts_the_gpus_of_this_node_not_of_the_whole_job(monkeypatch):
    """Two nodes of 8 GPUs: world size 16, 8 ranks per node; NCCL on each node's 8 GPUs."""
    import torch

    import companion.device
    from companion.distributed import ddp_train

    monkeypatch.setattr(companion.device, "get_device", lambda: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    chosen = []
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    assert ddp_train.choose_backend("auto", 3, world_size=16, local_world_size=8) == ("nccl", torch.device("cuda", 3))
    assert chosen == [3]
    # one machine with 16 ranks but 8 GPUs: NCCL cannot share a GPU between ranks
    assert ddp_train.choose_backend("auto", 3, world_size=16) == ("gloo", torch.device("cpu"))
    with pytest.raises(ValueError, match="one CUDA GPU per rank on this machine: expected 16, got 8"):
        ddp_train.choose_backend("nccl", 3, world_size=16)
