"""What every served model folder shares: the files it must hold and a versioned manifest (book chapter 16).

A server loads models from folders of self-describing files (ONNX or safetensors weights, JSON
configuration and vocabulary, ``manifest.json``), never from pickles. :func:`read_manifest`
checks that a folder holds the files its loader needs and that its manifest has the format
version this companion reads, and says how to build one when it does not.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_manifest(directory, files, *, format_version: int, what: str, build_hint: str) -> dict:
    """The parsed ``manifest.json`` of ``directory``, once every name in ``files`` is there.

    Raises FileNotFoundError naming the missing files and ``build_hint`` (how to build the
    folder), or ValueError when the manifest's ``format_version`` is not ``format_version``.
    """
    directory = Path(directory)
    missing = [name for name in files if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} is not a built {what}: it lacks {missing}; build one with "
                                f"`{build_hint}`")
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format_version") != format_version:
        raise ValueError(f"{directory / 'manifest.json'} has format_version {manifest.get('format_version')!r}; "
                         f"this companion reads version {format_version}: rebuild the model")
    return manifest


def read_json(directory, name: str):
    """``directory / name`` parsed as UTF-8 JSON."""
    return json.loads((Path(directory) / name).read_text(encoding="utf-8"))
