"""Importing companion's framework-free modules must not load a framework.

A reader with NumPy only (pyproject's base install) can import these, and a
chapter that needs PyTorch or TensorFlow pays their import time only when it
calls a function that uses them. Each case runs in a fresh interpreter.
"""

import subprocess
import sys

import pytest

FRAMEWORKS = {"torch", "tensorflow", "keras", "jax", "matplotlib", "sklearn", "transformers", "safetensors",
              "tokenizers", "jieba"}

CASES = {
    "the package": "import companion",
    "NumPy building blocks and data": "import companion.nn, companion.losses, companion.data",
    "the doctor": "import companion.doctor",
    "optimizers": "import companion.optim, companion.optim.reference",
    "text": "import companion.text",
    "metrics": "import companion.metrics",
    "recurrent networks": "import companion.rnn, companion.rnn.classifiers, companion.rnn.baseline",
    "model configurations": ("import companion.models.config as c\n"
                             "c.parameter_count(c.TransformerConfig(vocab_size=5, max_len=3, d_model=4, num_heads=2))"),
    "sequence-classifier training": "import companion.train, companion.train.sequence_classifier",
    "pretrained models": "import " + ", ".join(f"companion.pretrained.{name}" for name in
                                               ("minilm", "wordpiece", "pooling", "features", "classifier",
                                                "finetune")),
}


def modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in out.split()}


@pytest.mark.parametrize("statement", CASES.values(), ids=CASES.keys())
def test_import_loads_no_framework(statement):
    loaded = modules_after(statement)
    assert "companion" in loaded
    assert not loaded & FRAMEWORKS, f"{statement!r} pulled in {sorted(loaded & FRAMEWORKS)}"


def test_the_check_sees_a_framework():
    # The check itself must be able to fail: importing PyTorch is seen.
    pytest.importorskip("torch")
    assert "torch" in modules_after("import companion, torch")


def test_a_missing_library_skips_only_outside_make_test(monkeypatch):
    # A NumPy-only install skips what needs a framework; `make test` (COMPANION_FULL_INSTALL=1) fails instead.
    import conftest

    error = ModuleNotFoundError("No module named 'jieba'", name="jieba")
    monkeypatch.setattr(conftest.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv("COMPANION_FULL_INSTALL", raising=False)
    assert conftest._missing_optional(error) == "jieba"
    assert conftest._missing_optional(ModuleNotFoundError("No module named 'nosuch'", name="nosuch")) is None
    assert conftest._missing_optional(ValueError("jieba")) is None
    monkeypatch.setenv("COMPANION_FULL_INSTALL", "1")
    assert conftest._missing_optional(error) is None
