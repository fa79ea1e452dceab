"""Chapter 15's pruning, fake quantisation and ONNX Runtime path, on small models."""

import numpy as np
import pytest
import torch

from companion.compression import pruning
from companion.compression.fake_quant import fake_quantize_ste


def test_magnitude_mask_equals_torch_prune():
    import torch.nn.utils.prune as prune

    layer = torch.nn.Linear(12, 7)
    reference = layer.weight.detach().numpy().copy()
    prune.l1_unstructured(layer, "weight", amount=0.4)
    ours = pruning.magnitude_mask(reference, 0.4)
    assert np.array_equal(layer.weight_mask.numpy().astype(bool), ours)
    assert (~ours).sum() == round(0.4 * reference.size)
    assert np.abs(reference[~ours]).max() <= np.abs(reference[ours]).min()


def test_shrunk_feed_forward_keeps_what_the_kept_neurons_compute():
    torch.manual_seed(0)
    first, second = torch.nn.Linear(6, 10), torch.nn.Linear(10, 4)
    keep = pruning.neurons_to_keep(first.weight.detach().numpy(), second.weight.detach().numpy(), 0.5)
    assert len(keep) == 5 and np.all(np.diff(keep) > 0)
    new_first, new_second = pruning.shrink_feed_forward(first, second, keep)
    x = torch.randn(3, 6)
    hidden = torch.relu(first(x))
    dropped = torch.ones(10, dtype=torch.bool)
    dropped[torch.as_tensor(keep)] = False
    hidden[:, dropped] = 0.0  # the full block with the removed neurons silenced
    expected = second(hidden)
    assert torch.allclose(new_second(torch.relu(new_first(x))), expected, atol=1e-6)
    assert new_first.weight.shape == (5, 6) and new_second.weight.shape == (4, 5)
    assert first.weight.shape == (10, 6)  # the original is untouched


def test_neuron_scores_rank_a_dead_neuron_last():
    w_in = np.ones((3, 2))
    w_out = np.ones((2, 3))
    w_out[:, 1] = 0.0
    assert pruning.neurons_to_keep(w_in, w_out, 0.6).tolist() == [0, 2]


def test_fake_quantize_ste_equals_torch():
    x = torch.linspace(-3, 3, 301, requires_grad=True)
    ours = fake_quantize_ste(x, 0.02, 5, -128, 127)  # representable [-2.66, 2.44]
    ours.sum().backward()
    grad, x.grad = x.grad.clone(), None
    library = torch.fake_quantize_per_tensor_affine(x, 0.02, 5, -128, 127)
    library.sum().backward()
    assert torch.equal(ours, library) and torch.equal(grad, x.grad)
    assert 0 < int((grad == 0).sum()) < x.numel()  # some values were clamped, most were not


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: pruning.magnitude_mask(np.ones(3), 1.0), ValueError, r"\[0, 1\)"),
        (lambda: pruning.magnitude_mask(np.ones(3), "half"), TypeError, "number"),
        (lambda: pruning.neuron_scores(np.ones((3, 2)), np.ones((2, 4))), ValueError, "share hidden"),
        (lambda: pruning.neurons_to_keep(np.ones((3, 2)), np.ones((2, 3)), 0.0), ValueError, r"\(0, 1\]"),
        (lambda: pruning.shrink_feed_forward(torch.nn.Linear(2, 3), torch.nn.Linear(4, 2), [0]), ValueError,
         "takes 4"),
        (lambda: pruning.shrink_feed_forward(torch.nn.Linear(2, 3), torch.nn.Linear(3, 2), [0, 3]), ValueError,
         "distinct indices"),
        (lambda: pruning.shrink_feed_forward(torch.nn.Conv1d(2, 3, 1), torch.nn.Linear(3, 2), [0]), TypeError,
         "torch.nn.Linear"),
        (lambda: fake_quantize_ste(torch.ones(2), 0.0, 0, -128, 127), ValueError, "scale"),
        (lambda: fake_quantize_ste(torch.ones(2), 0.1, 300, -128, 127), ValueError, "zero_point"),
        (lambda: fake_quantize_ste(torch.ones(2, dtype=torch.int64), 0.1, 0, -128, 127), TypeError, "floating"),
    ],
)
def test_bad_input_says_what_was_expected(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.fixture(scope="module")
def tiny_classifier():
    """An ExportableClassifier on a 2-block BERT of width 32 with random weights."""
    from transformers import BertConfig, BertModel

    from companion.compression.exportable import ExportableClassifier

    torch.manual_seed(0)
    config = BertConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=32)
    return ExportableClassifier(BertModel(config).eval(), num_labels=2).eval()


def test_onnx_export_and_int8_quantisation_agree_with_pytorch(tiny_classifier, tmp_path):
    pytest.importorskip("onnxruntime")
    from companion.compression import onnx_runtime

    ids = torch.randint(1, 60, (5, 9))
    mask = torch.ones_like(ids)
    mask[0, 4:] = 0  # a padded row
    fp32 = onnx_runtime.export_onnx(tiny_classifier, tmp_path / "m.onnx", ids[:2, :3], mask[:2, :3])
    # 7-bit weights: exact on every x86 CPU (8-bit sums saturate on CPUs without VNNI, chapter 15)
    int8 = onnx_runtime.quantize_dynamic_int8(fp32, tmp_path / "m_int8.onnx", reduce_range=True)
    with torch.inference_mode():
        expected = tiny_classifier(ids, mask).numpy()
    feeds = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    (got,) = onnx_runtime.onnx_session(fp32).run(["logits"], feeds)  # other batch and length than traced
    (got_int8,) = onnx_runtime.onnx_session(int8).run(["logits"], feeds)
    assert np.abs(got - expected).max() < 1e-5
    assert 0 < np.abs(got_int8 - expected).max() < 0.1 * np.abs(expected).max() + 0.05
    assert onnx_runtime.file_megabytes(int8) < onnx_runtime.file_megabytes(fp32)
    with pytest.raises(ValueError, match="must differ"):
        onnx_runtime.quantize_dynamic_int8(fp32, fp32)
    with pytest.raises(FileNotFoundError, match="no ONNX model"):
        onnx_runtime.onnx_session(tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match=r"\.onnx"):
        onnx_runtime.export_onnx(tiny_classifier, tmp_path / "m.bin", ids, mask)


def test_distillation_loss_terms_and_gradient():
    from companion.compression.distillation import distillation_loss

    torch.manual_seed(1)
    z = torch.randn(6, 3, requires_grad=True)
    v, y = torch.randn(6, 3), torch.randint(0, 3, (6,))
    hard = torch.nn.functional.cross_entropy(z, y)
    assert torch.allclose(distillation_loss(z, v, y, temperature=4.0, alpha=0.0), hard)
    T = 4.0
    p, q = torch.softmax(v / T, 1), torch.softmax(z / T, 1)
    kl = (p * (p.log() - q.log())).sum(1).mean()
    assert torch.allclose(distillation_loss(z, v, y, temperature=T, alpha=1.0), T**2 * kl, atol=1e-6)
    distillation_loss(z, v, y, temperature=T, alpha=1.0).backward()
    assert torch.allclose(z.grad, T * (q - p).detach() / len(y), atol=1e-6)  # Eq. (15.12), times T^2
    assert torch.equal(distillation_loss(z, z.detach(), y, alpha=1.0), torch.zeros(()))  # a perfect imitation


def test_train_student_pairs_and_learns():
    from companion.compression.distillation import train_student
    from companion.seed import set_seed
    from companion.train.sequence_classifier import build_encoder_classifier, TrainingProfile, torch_predict
    from toy_data import toy_split

    train, test = toy_split(256, seed=0), toy_split(128, seed=1)
    teacher = np.where(train.labels[:, None] == np.arange(2)[None, :], 3.0, -3.0)  # a confident, right teacher
    profile = TrainingProfile("toy", None, 6, 16, 32, 1, 32, 5e-3)
    losses = []
    for _ in range(2):
        set_seed(0)
        model = build_encoder_classifier(20, profile)
        losses.append(train_student(model, train, teacher, epochs=6, batch_size=32, learning_rate=5e-3,
                                    alpha=0.5, device="cpu"))
    assert losses[0] == losses[1]  # the same seed gives the same run, batches included
    assert losses[0][-1] < losses[0][0]
    assert np.mean(torch_predict(model, test) == test.labels) > 0.8
    with pytest.raises(ValueError, match="teacher_logits must be"):
        train_student(model, train, teacher[:5], epochs=1, batch_size=8, learning_rate=1e-3)
    with pytest.raises(TypeError, match="EncodedSplit"):
        train_student(model, "texts", teacher, epochs=1, batch_size=8, learning_rate=1e-3)


def test_compression_benchmark_quick_run_reports_every_variant():
    pytest.importorskip("onnxruntime")
    from companion.bench.compression import compression_benchmark

    result = compression_benchmark(quick=True, repeats=1, runs=1)
    rows = {row["variant"]: row for row in result["rows"]}
    assert set(rows) == {"PyTorch fp32 (eager)", "ONNX Runtime fp32", "ONNX Runtime int8, per channel",
                         "ONNX Runtime int8, per tensor"}
    assert result["test_texts"] == 256
    assert rows["ONNX Runtime int8, per channel"]["file_mb"] < rows["ONNX Runtime fp32"]["file_mb"]
    assert all(0.6 < row["accuracy"] < 0.9 and row["batch1_ms"] > 0 for row in rows.values())
    assert 0.9 < rows["ONNX Runtime int8, per channel"]["same_prediction_as_fp32"] <= 1.0
    assert abs(sum(result["op_profile_batch32"]["ONNX Runtime fp32"]["share"].values()) - 1) < 0.5
    assert {row["case"] for row in result["sparse_kernels"]} >= {"dense", "90% zeros, CSR kernel"}
    with pytest.raises(ValueError, match="repeats"):
        compression_benchmark(repeats=0)
