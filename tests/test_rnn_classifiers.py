"""LSTM classifiers (PyTorch packed, Keras masked), training helpers, scores and the TF-IDF baseline (chapter 8)."""

import numpy as np
import pytest
import torch
from toy_data import toy_split

import companion
from companion.rnn import from_keras_lstm, from_torch_lstm, lstm_forward
from companion.rnn.baseline import fit_tfidf_baseline, tfidf_vectorizer
from companion.train.sequence_classifier import (CPU_PROFILE, GPU_PROFILE, EncodedSplit,
                                                 check_encoded, choose_profile, encode_split,
                                                 keras_predict, score, steps_per_epoch,
                                                 torch_predict, train_keras_classifier,
                                                 train_torch_classifier)
from companion.rnn.classifiers import (build_keras_classifier, build_torch_classifier,
                                       keras_vectorizer)
from companion.text import Vocabulary, tokenize_chinese_chars, tokenize_english


def test_steps_per_epoch_is_the_ceiling():
    assert steps_per_epoch(20000, 64) == 313
    assert steps_per_epoch(60000, 32) == 1875
    assert steps_per_epoch(128, 64) == 2
    assert steps_per_epoch(1, 64) == 1
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        steps_per_epoch(10, 0)
    with pytest.raises(TypeError, match="n_samples"):
        steps_per_epoch(10.5, 2)


def test_choose_profile():
    assert choose_profile(torch.device("cpu")) is CPU_PROFILE
    assert choose_profile("cuda") is GPU_PROFILE
    assert choose_profile(torch.device("mps")) is GPU_PROFILE
    assert GPU_PROFILE.batch_size > CPU_PROFILE.batch_size and GPU_PROFILE.max_train is None
    with pytest.raises(TypeError, match="device"):
        choose_profile(3)


def test_encode_split_truncates_and_checks_labels():
    vocab = Vocabulary.build([["good", "film"], ["bad", "film"]], min_freq=1)
    split = encode_split(["good film good film good", "bad"], [1, 0], tokenize_english, vocab, max_len=3)
    assert split.ids.shape == (2, 3)
    np.testing.assert_array_equal(split.lengths, [3, 1])
    np.testing.assert_array_equal(split.ids[1], [vocab.encode(["bad"])[0], 0, 0])
    with pytest.raises(ValueError, match=r"one entry per text, shape \(2,\); got shape \(3,\)"):
        encode_split(["good", "bad"], [1, 0, 1], tokenize_english, vocab, max_len=3)


def test_check_encoded_rejects_inconsistent_batches():
    ids = np.zeros((3, 4), dtype=np.int64)
    with pytest.raises(ValueError, match=r"labels must have one entry per text, shape \(3,\); got shape \(2,\)"):
        EncodedSplit(ids, np.array([1, 2, 3]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 4\]"):
        check_encoded(ids, np.array([1, 5, 2]))
    with pytest.raises(ValueError, match="one per row of ids"):
        check_encoded(ids, np.array([1, 2]))
    with pytest.raises(TypeError, match="integer class ids"):
        check_encoded(ids, np.array([1, 2, 3]), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(TypeError, match="2-d integer array"):
        check_encoded(ids.astype(float), np.array([1, 2, 3]))


def test_score_matches_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    s = score(y, p)
    assert s.accuracy == pytest.approx(accuracy_score(y, p), abs=1e-12)
    assert s.precision == pytest.approx(precision_score(y, p), abs=1e-12)
    assert s.recall == pytest.approx(recall_score(y, p), abs=1e-12)
    assert s.f1 == pytest.approx(f1_score(y, p), abs=1e-12)
    with pytest.raises(ValueError):
        score(y, p[:-1])


def test_torch_classifier_is_embedding_then_numpy_lstm_then_linear():
    companion.set_seed(0, frameworks=("numpy", "torch"))
    model = build_torch_classifier(20, 6, embed_dim=5, hidden_size=4)
    split = toy_split(7, seed=1)
    with torch.no_grad():
        logits = model(torch.as_tensor(split.ids), torch.as_tensor(split.lengths)).numpy()
    E = model.embedding.weight.detach().numpy()
    _, (h_T, _) = lstm_forward(E[split.ids], from_torch_lstm(model.lstm), split.lengths)
    expected = h_T @ model.head.weight.detach().numpy().T + model.head.bias.detach().numpy()
    np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-5)


def test_torch_classifier_ignores_padding_and_refuses_long_rows():
    model = build_torch_classifier(20, 8, embed_dim=4, hidden_size=3)
    split = toy_split(5, seed=2, width=6)
    wider = np.concatenate([split.ids, np.zeros((5, 2), dtype=np.int64)], axis=1)
    with torch.no_grad():
        a = model(torch.as_tensor(split.ids), torch.as_tensor(split.lengths))
        b = model(torch.as_tensor(wider), torch.as_tensor(split.lengths))
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="T <= max_len = 8"):
        model(torch.zeros((2, 9), dtype=torch.int64), torch.tensor([9, 9]))
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        build_torch_classifier(20, 8, n_classes=1)


def test_torch_training_learns_the_toy_task():
    companion.set_seed(0, frameworks=("numpy", "torch"))
    train, val = toy_split(512, seed=3), toy_split(128, seed=4)
    model = build_torch_classifier(20, 6, embed_dim=8, hidden_size=8)
    history = train_torch_classifier(model, train, val, epochs=6, batch_size=32, learning_rate=0.02, device="cpu")
    assert len(history.train_loss) == len(history.val_acc) == 6
    assert history.steps_per_epoch == 16
    assert history.train_loss[-1] < history.train_loss[0]
    assert score(val.labels, torch_predict(model, val)).accuracy > 0.95


def test_torch_training_rejects_labels_beyond_the_outputs():
    train = toy_split(16, seed=5)
    bad = EncodedSplit(train.ids, train.lengths, np.where(train.labels == 1, 2, 0))
    model = build_torch_classifier(20, 6)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\) for a model with 2 output units"):
        train_torch_classifier(model, bad, train, epochs=1, batch_size=8, learning_rate=0.01, device="cpu")
    with pytest.raises(TypeError, match="EncodedSplit"):
        train_torch_classifier(model, (train.ids, train.lengths), train, 1, 8, 0.01, device="cpu")


def test_keras_classifier_is_embedding_then_numpy_lstm_then_dense():
    companion.set_seed(0)
    model = build_keras_classifier(20, 6, embed_dim=5, hidden_size=4)
    split = toy_split(7, seed=6)
    logits = model.predict(split.ids, verbose=0)
    embedding, lstm, dense = (layer for layer in model.layers[1:])
    E = embedding.get_weights()[0]
    _, (h_T, _) = lstm_forward(E[split.ids], from_keras_lstm(lstm), split.lengths)
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(logits, h_T @ kernel + bias, rtol=0, atol=1e-5)


def test_keras_training_learns_and_checks_its_input():
    companion.set_seed(0)
    train, val = toy_split(512, seed=7), toy_split(128, seed=8)
    model = build_keras_classifier(20, 6, embed_dim=8, hidden_size=8, learning_rate=0.02)
    history = train_keras_classifier(model, train, val, epochs=6, batch_size=32)
    assert len(history.val_acc) == 6 and history.train_loss[-1] < history.train_loss[0]
    assert score(val.labels, keras_predict(model, val)).accuracy > 0.95
    narrow = toy_split(4, seed=9, width=5)
    with pytest.raises(ValueError, match="width max_len = 6"):
        keras_predict(model, narrow)
    bad = EncodedSplit(train.ids, train.lengths, np.full(len(train), 3))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        train_keras_classifier(model, bad, val, epochs=1, batch_size=32)
    with pytest.raises(ValueError, match="recurrent_dropout"):
        build_keras_classifier(20, 6, recurrent_dropout=1.0)


def test_keras_vectorizer_splits_chinese_into_characters():
    layer = keras_vectorizer(["很好用", "不好"], "zh", max_tokens=10, max_len=4)
    ids = np.asarray(layer(["很好"]))
    assert ids.shape == (1, 4)
    vocab = layer.get_vocabulary()
    assert [vocab[i] for i in ids[0, :2]] == ["很", "好"] and ids[0, 2] == 0
    with pytest.raises(ValueError, match="language must be one of"):
        keras_vectorizer(["a"], "fr", 10, 4)


def test_baseline_chooses_c_on_validation():
    from companion.data import load_english_sentiment

    splits = load_english_sentiment("movie_reviews", seed=0)
    result = fit_tfidf_baseline(splits.train.texts[:800], splits.train.labels[:800], splits.val.texts[:300],
                                splits.val.labels[:300], "en", Cs=(0.01, 1.0, 10.0))
    assert result.C == max(result.val_accuracy, key=result.val_accuracy.get)
    assert set(result.val_accuracy) == {0.01, 1.0, 10.0}
    pred = result.predict(splits.test.texts[:200])
    assert pred.shape == (200,) and set(np.unique(pred)) <= {0, 1}
    assert score(splits.test.labels[:200], pred).accuracy > 0.6  # far above chance on real reviews


def test_baseline_vectorizers_and_bad_input():
    assert tfidf_vectorizer("zh").analyzer == "char" and tfidf_vectorizer("zh").ngram_range == (1, 3)
    assert tfidf_vectorizer("en").ngram_range == (1, 2)
    features = tfidf_vectorizer("zh").fit(["很好用"]).get_feature_names_out().tolist()
    assert "很好" in features and "很好用" in features
    assert tokenize_chinese_chars("很好用") == ["很", "好", "用"]
    with pytest.raises(ValueError, match="language must be 'en' or 'zh'"):
        tfidf_vectorizer("de")
    with pytest.raises(ValueError, match=r"train labels must have one entry per text, shape \(2,\)"):
        fit_tfidf_baseline(["a b", "c d"], [0], ["a"], [0], "en")
    with pytest.raises(ValueError, match="Cs must be"):
        fit_tfidf_baseline(["a b", "c d"], [0, 1], ["a"], [0], "en", Cs=(0.0,))


def test_the_classifiers_and_the_progress_callback_are_module_level_classes():
    import pickle

    from companion.rnn.torch_lstm import TorchLSTMClassifier
    from companion.train.keras_progress import ProgressBarCallback

    first, second = build_torch_classifier(20, 6), build_torch_classifier(20, 6, hidden_size=8)
    assert type(first) is type(second) is TorchLSTMClassifier
    ids, lengths = torch.tensor([[3, 4, 0], [5, 0, 0]]), torch.tensor([2, 1])
    restored = pickle.loads(pickle.dumps(first))
    assert torch.equal(restored(ids, lengths), first(ids, lengths))

    class Bar:
        count = 0

        def update(self, n):
            self.count += n

    bar = Bar()
    callback = ProgressBarCallback(bar)
    callback.on_train_batch_end(0)
    callback.on_train_batch_end(1)
    assert bar.count == 2 and isinstance(ProgressBarCallback(bar), ProgressBarCallback)

