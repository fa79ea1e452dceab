"""Chapter 11's MiniLM classifier in ONNX Runtime, in float32 and dynamically quantised to int8 (book chapter 15).

The path, all with maintained tools:

1. :func:`probe_classifier` builds chapter 11's frozen-feature classifier (MiniLM, mean
   pooling, logistic regression) as one :class:`companion.compression.exportable.ExportableClassifier`
   that maps ``(input_ids, attention_mask)`` to logits and that the exporter can trace.
2. :func:`export_onnx` writes it with ``torch.onnx.export`` (the dynamo-based exporter),
   batch and sequence length left dynamic.
3. :func:`quantize_dynamic_int8` runs ONNX Runtime's dynamic quantiser: every weight
   of a MatMul gets int8 codes (symmetric, Eq. (15.5), per output channel when
   ``per_channel``), and every activation entering one gets uint8 codes whose range is
   measured at run time (Eq. (15.3)); the products run as MatMulInteger with int32
   accumulation, Eq. (15.6).
4. :func:`onnx_logits` runs a session on texts in length-sorted, dynamically padded
   batches, as :func:`companion.pretrained.features.encode_texts` does.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path

import numpy as np

from companion.checks import check_positive_int, check_texts

INSTALL_COMMAND = "pip install onnx==1.23.2 onnxscript==0.7.2 onnxruntime==1.32.0"


def _import_onnxruntime():
    try:
        import onnxruntime
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(f"ONNX Runtime is not installed: run `{INSTALL_COMMAND}`", name=error.name) from error
    return onnxruntime


def probe_classifier(tokenizer, encoder, texts, labels, *, C: float = 0.1, max_len: int = 128, batch_size: int = 64):
    """``(classifier, probe)``: chapter 11's frozen MiniLM + logistic regression as one exportable module.

    The encoder's mean-pooled features of ``texts`` (Eq. (11.4)) train a scikit-learn
    ``LogisticRegression(C)``; its weights become the head of an
    :class:`companion.compression.exportable.ExportableClassifier` by Eq. (11.5), so the
    module's argmax equals the probe's prediction. ``C = 0.1`` is the value chapter 11
    chose on its validation texts.
    """
    from sklearn.linear_model import LogisticRegression

    from companion.checks import check_labels
    from companion.compression.exportable import ExportableClassifier
    from companion.pretrained.classifier import set_head_from_logistic
    from companion.pretrained.features import encode_texts

    texts = check_texts(texts)
    labels = check_labels(labels, len(texts), 2)
    if not C > 0:
        raise ValueError(f"C must be positive; got {C}")
    features = encode_texts(texts, tokenizer, encoder, batch_size=batch_size, max_len=max_len)
    probe = LogisticRegression(C=C, max_iter=5000).fit(features, labels)
    classifier = ExportableClassifier(encoder, num_labels=2)
    set_head_from_logistic(classifier, probe.coef_, probe.intercept_)
    return classifier.eval(), probe


def export_onnx(model, path, example_ids, example_mask) -> Path:
    """Write ``model`` (inputs ``input_ids``, ``attention_mask``; output ``logits``) to ``path`` as ONNX.

    Batch size and sequence length are dynamic. The example batch only traces the
    graph; its values do not matter, but its sequence length must be at least 2.
    """
    import torch

    path = Path(path)
    if path.suffix != ".onnx":
        raise ValueError(f"path must end in .onnx; got {path.name!r}")
    for name, tensor in (("example_ids", example_ids), ("example_mask", example_mask)):
        if not isinstance(tensor, torch.Tensor) or tensor.ndim != 2 or tensor.is_floating_point():
            raise TypeError(f"{name} must be a 2-d integer tensor (B, T); got {type(tensor).__name__}")
    if example_ids.shape != example_mask.shape or example_ids.shape[1] < 2:
        raise ValueError(f"example_ids and example_mask must share a shape (B, T) with T >= 2; "
                         f"got {tuple(example_ids.shape)} and {tuple(example_mask.shape)}")
    axes = {0: "batch", 1: "length"}
    model.eval()
    with _quiet_exporter(), torch.inference_mode():
        program = torch.onnx.export(
            model, (example_ids, example_mask), input_names=["input_ids", "attention_mask"],
            output_names=["logits"], dynamic_shapes={"input_ids": axes, "attention_mask": axes},
            dynamo=True, verbose=False,
        )
    program.save(str(path))
    return path


@contextlib.contextmanager
def _quiet_exporter():
    """Silence three notices of torch 2.13's exporter that say nothing about the reader's model.

    - its registry logs, as warnings, every torchvision operator it skips because
      torchvision is not installed (the book does not use torchvision);
    - ``torch.export`` itself triggers a ``FutureWarning`` about pytree's ``LeafSpec``,
      deprecated inside PyTorch;
    - naming the same axes "batch" and "length" on both inputs (they are the same
      dimensions) makes it say that each name is "not used" for the second input.

    Any other warning or error still reaches the caller.
    """
    onnx_logger = logging.getLogger("torch.onnx")
    level = onnx_logger.level
    onnx_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)", category=FutureWarning)
            warnings.filterwarnings("ignore", message=r"# The axis name: .* will not be used", category=UserWarning)
            yield
    finally:
        onnx_logger.setLevel(level)


def quantize_dynamic_int8(source, target, *, per_channel: bool = True, reduce_range: bool = False) -> Path:
    """ONNX Runtime's dynamic int8 quantisation of the model at ``source``, written to ``target``.

    Weights: int8, symmetric, one scale per output channel (``per_channel=True``) or one
    per tensor. Activations: uint8 with a range measured on each call. Only MatMul
    (and Gemm) nodes are quantised; layer norm, softmax and GELU stay in float32.
    ``reduce_range=True`` stores 7-bit weights (codes in [-63, 63]), which no x86 CPU's
    16-bit intermediate sums can saturate (see :func:`companion.compression.quantization.symmetric_params`).
    """
    _import_onnxruntime()
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source, target = Path(source), Path(target)
    if not source.is_file():
        raise FileNotFoundError(f"no ONNX model at {source}")
    if source.resolve() == target.resolve():
        raise ValueError("target must differ from source: the float32 model would be overwritten")
    # The pre-processing ONNX Runtime asks for: ONNX shape inference and graph optimisation, so that the
    # quantiser sees every tensor's shape. Its symbolic shape inference gives up on this graph's dynamic
    # length (the position ids are cut to min(512, length)); the plain ONNX inference handles it.
    prepared = target.with_name(target.stem + ".prepared.onnx")
    try:
        quant_pre_process(source, prepared, skip_symbolic_shape=True)
        quantize_dynamic(prepared, target, weight_type=QuantType.QInt8, per_channel=per_channel,
                         reduce_range=reduce_range, op_types_to_quantize=["MatMul", "Gemm"])
    finally:
        prepared.unlink(missing_ok=True)
    return target


def onnx_session(path, threads: int = 1):
    """An ONNX Runtime ``InferenceSession`` on the CPU with ``threads`` intra-op threads, quiet."""
    ort = _import_onnxruntime()
    threads = check_positive_int(threads, "threads")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ONNX model at {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def onnx_logits(session, tokenizer, texts, *, batch_size: int = 64, max_len: int = 128) -> np.ndarray:
    """Logits (n, num_labels) of ``texts`` from ``session``, in the order given (length-sorted batches)."""
    from companion.pretrained.features import check_max_len, length_sorted_batches, token_lengths

    texts = check_texts(texts)
    batch_size = check_positive_int(batch_size, "batch_size")
    max_len = check_max_len(max_len, tokenizer)
    out = None
    for rows in length_sorted_batches(token_lengths(texts, tokenizer, max_len), batch_size):
        batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=max_len,
                          return_tensors="np")
        (logits,) = session.run(["logits"], {"input_ids": batch["input_ids"].astype(np.int64),
                                             "attention_mask": batch["attention_mask"].astype(np.int64)})
        if out is None:
            out = np.zeros((len(texts), logits.shape[-1]), dtype=np.float32)
        out[rows] = logits
    return out


def file_megabytes(path) -> float:
    """Size of a file in MB (10^6 bytes), with the external-data file ONNX may write beside it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    total = path.stat().st_size
    data = path.with_name(path.name + ".data")
    if data.is_file():
        total += data.stat().st_size
    return total / 1e6
