"""The companion package's layers: every import points down, never up or sideways.

CONTRIBUTING.md ("Layers") explains the table. A module belongs to the unit of the
longest prefix in LAYERS that names it; it may import its own unit and any unit of a
lower layer, nothing else. Imports inside functions count too: a lazy import is
still a dependency. Two units of the same layer may not import each other, which
rules out cycles between them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "companion"

# unit (a module or package, by its dotted name) -> layer; lower layers know nothing of higher ones.
LAYERS = {
    "companion.checks": 0,
    "companion.frameworks": 0,
    "companion.device": 1,
    "companion.seed": 1,
    "companion": 2,  # the package's __init__: set_seed, get_device
    "companion.nn.activations": 2,
    "companion.losses": 3,
    "companion.nn": 4,
    "companion.optim": 4,
    "companion.metrics": 4,
    "companion.text": 4,
    "companion.data": 4,
    "companion.speech": 4,
    "companion.survival": 4,
    "companion.attention": 5,
    "companion.rnn": 5,
    "companion.models": 6,
    "companion.train": 7,
    "companion.pretrained": 8,
    "companion.generation": 8,
    "companion.scaling": 9,
    "companion.compression": 9,
    "companion.distributed": 10,
    "companion.serving": 10,
    "companion.bench": 11,
    "companion.experiments": 12,
    "companion.doctor": 12,
    "companion.__main__": 13,
}


def unit_of(module: str) -> str:
    """The longest prefix of ``module`` in LAYERS."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in LAYERS:
            return prefix
    raise KeyError(f"{module} is in no unit of LAYERS; add it to the table (and to CONTRIBUTING.md)")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every companion module that ``path`` imports, at any depth of its code."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                # `from companion import losses` imports the module companion.losses
                candidate = f"{source}.{alias.name}"
                as_module = PACKAGE.parent.joinpath(*candidate.split("."))
                is_module = as_module.with_suffix(".py").exists() or (as_module / "__init__.py").exists()
                found.add(candidate if is_module else source)
    return {name for name in found if name == "companion" or name.startswith("companion.")}


def layering_violations(files) -> list[str]:
    problems = []
    for path in files:
        here = unit_of(module_name(path))
        for target in sorted(imported_modules(path)):
            there = unit_of(target)
            if there == here:
                continue
            if LAYERS[there] >= LAYERS[here]:
                problems.append(f"{module_name(path)} (layer {LAYERS[here]}, {here}) imports {target} "
                                f"(layer {LAYERS[there]}, {there})")
    return problems


def test_every_import_points_to_a_lower_layer():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    assert layering_violations(files) == []


def test_the_check_finds_a_back_reference(tmp_path, monkeypatch):
    # A lower layer importing a higher one must be reported: write such a module and check it.
    bad = PACKAGE / "nn" / "_layering_probe.py"
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    try:
        bad.write_text("def f():\n    from companion.train.sequence_classifier import score\n", encoding="utf-8")
        problems = layering_violations([bad])
    finally:
        bad.unlink()
    assert problems == ["companion.nn._layering_probe (layer 4, companion.nn) imports "
                        "companion.train.sequence_classifier (layer 7, companion.train)"]


def test_a_sideways_import_is_reported():
    # rnn and attention share layer 5: neither may import the other.
    probe = PACKAGE / "rnn" / "_layering_probe.py"
    try:
        probe.write_text("from companion.attention.masks import causal_mask\n", encoding="utf-8")
        problems = layering_violations([probe])
    finally:
        probe.unlink()
    assert len(problems) == 1 and "imports companion.attention.masks (layer 5" in problems[0]


def test_every_module_is_in_the_table():
    for path in PACKAGE.rglob("*.py"):
        unit_of(module_name(path))  # raises KeyError for a module of no unit


def test_losses_does_not_load_the_mlp():
    # companion.losses needs the chapter 1 activations only, not the chapter 3 MLP built on the losses.
    code = ("import sys, companion.losses; "
            "print(sorted(m for m in sys.modules if m.startswith('companion.nn.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout
    assert out.strip() == "['companion.nn.activations', 'companion.nn.dense', 'companion.nn.forward', " \
                          "'companion.nn.init']", out


@pytest.mark.parametrize("name", ["MLP", "Dense", "gradient_check"])
def test_the_lazy_chapter3_names_still_import(name):
    import companion.nn

    assert getattr(companion.nn, name).__name__ == name
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        companion.nn.no_such_name  # noqa: B018
