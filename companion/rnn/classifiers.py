"""LSTM sentiment classifiers in PyTorch and Keras (book chapter 8).

Both models read a text as a right-padded row of token ids (index 0 is the
padding, as :class:`companion.text.Vocabulary` encodes it) and classify it from
the LSTM's last hidden state h_T, Eq. (8.6), taken after the text's last *real*
token:

- PyTorch: ``Embedding -> nn.LSTM`` over a ``PackedSequence`` built with the
  true lengths (``pack_padded_sequence``), so the padding is never read, and
  ``h_n`` is the state after the last real token;
- Keras: ``Embedding(mask_zero=True) -> LSTM``; the mask carries the state
  over the padded steps, Eq. (8.8), which gives the same h_T.

Sequence limit: a model is built for rows of at most ``max_len`` ids. Longer
texts must be truncated when they are encoded (``Vocabulary.encode_batch(...,
max_len)`` keeps the first ``max_len`` tokens); a wider id matrix is refused
with a ValueError rather than silently cut. A text with no tokens at all has
length 0. The masked Keras model then keeps the zero initial state; the PyTorch
model reads one step of the padding embedding (a zero vector; packing needs at
least one step), which gives a different, small state. The two models can
therefore disagree on empty texts; count them with ``(split.lengths == 0).sum()``
(the chapter's data have none after tokenisation).

On a GPU, PyTorch runs ``nn.LSTM`` through cuDNN's fused kernel, and Keras
does the same as long as the layer keeps its defaults (tanh, sigmoid,
``recurrent_dropout=0``, ``unroll=False``, biases) and the mask is right-padded;
:func:`companion.train.sequence_classifier.choose_profile` then picks the larger
profile. That module trains and scores both models (``train_torch_classifier``,
``train_keras_classifier``), and chapter 10's encoder with them.
"""

from __future__ import annotations

from companion.checks import check_choice, check_positive_int


# --- PyTorch --------------------------------------------------------------------


def build_torch_classifier(vocab_size: int, max_len: int, embed_dim: int = 32, hidden_size: int = 32,
                           n_classes: int = 2):
    """``TorchLSTMClassifier``: Embedding (row 0 = padding) -> packed nn.LSTM -> h_T -> Linear.

    The linear layer gives ``n_classes`` logits from the state after each text's last real token.
    """
    import torch

    from companion.rnn.torch_lstm import TorchLSTMClassifier

    vocab_size = check_positive_int(vocab_size, "vocab_size")
    max_len = check_positive_int(max_len, "max_len")
    embed_dim = check_positive_int(embed_dim, "embed_dim")
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2 (one logit per class); got {n_classes}")

    model = TorchLSTMClassifier(vocab_size, max_len, embed_dim, hidden_size, n_classes)
    return model.to(torch.float32)


# --- Keras ----------------------------------------------------------------------


def build_keras_classifier(vocab_size: int, max_len: int, embed_dim: int = 32, hidden_size: int = 32,
                           n_classes: int = 2, learning_rate: float = 1e-3, recurrent_dropout: float = 0.0,
                           vectorizer=None):
    """Compiled Keras model: [TextVectorization ->] Embedding(mask_zero=True) -> LSTM -> Dense(n_classes) logits.

    Without ``vectorizer`` the model takes int id rows of width ``max_len``;
    with a ``keras.layers.TextVectorization`` (see :func:`keras_vectorizer`)
    it takes raw strings. The LSTM keeps Keras's defaults, so on a GPU it runs
    on cuDNN; ``recurrent_dropout > 0`` forces the slower generic loop.
    Loss: sparse categorical cross-entropy on logits; metric: accuracy.
    """
    from companion.frameworks import import_tensorflow

    import_tensorflow()
    import keras

    vocab_size = check_positive_int(vocab_size, "vocab_size")
    max_len = check_positive_int(max_len, "max_len")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2 (one logit per class); got {n_classes}")
    if not 0.0 <= recurrent_dropout < 1.0:
        raise ValueError(f"recurrent_dropout must lie in [0, 1); got {recurrent_dropout}")
    if vectorizer is None:
        inputs = keras.Input(shape=(max_len,), dtype="int64", name="ids")
        x = inputs
    else:
        inputs = keras.Input(shape=(), dtype="string", name="text")
        x = vectorizer(inputs)
    x = keras.layers.Embedding(vocab_size, check_positive_int(embed_dim, "embed_dim"), mask_zero=True)(x)
    x = keras.layers.LSTM(check_positive_int(hidden_size, "hidden_size"), recurrent_dropout=recurrent_dropout)(x)
    outputs = keras.layers.Dense(n_classes)(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def keras_vectorizer(texts, language: str, max_tokens: int, max_len: int):
    """An adapted ``TextVectorization``: words (lower-cased, punctuation stripped) for ``"en"``,
    characters for ``"zh"``; ids right-padded/truncated to ``max_len``, 0 = padding, 1 = unknown.

    Keras's default ``split="whitespace"`` is right for English and wrong for
    Chinese, which is written without spaces: every review would be one token.
    """
    from companion.frameworks import import_tensorflow

    import_tensorflow()
    import keras

    splits = {"en": "whitespace", "zh": "character"}
    check_choice(language, "language", splits)
    layer = keras.layers.TextVectorization(
        max_tokens=check_positive_int(max_tokens, "max_tokens"),
        split=splits[language],
        output_sequence_length=check_positive_int(max_len, "max_len"),
        standardize="lower_and_strip_punctuation" if language == "en" else None,
    )
    layer.adapt(list(texts))
    return layer


