"""tests/portability.py: its options, and the nbval command it builds (without running nbval)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "portability.py"


@pytest.fixture()
def portability():
    spec = importlib.util.spec_from_file_location("portability_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workers_must_be_positive(portability, capsys):
    with pytest.raises(SystemExit):
        portability.main(["--configs", "threads-1", "--workers", "0", "--no-write"])
    assert "--workers must be a positive number" in capsys.readouterr().err


def test_an_unknown_configuration_is_refused(portability, capsys):
    with pytest.raises(SystemExit):
        portability.main(["--configs", "threads-7", "--no-write"])
    assert "threads-7" in capsys.readouterr().err


@pytest.mark.parametrize("workers", [1, 2])
def test_run_config_spreads_notebooks_over_workers_only_when_asked(portability, monkeypatch, workers):
    seen = {}

    def fake_run(command, cwd, env, capture_output, text):
        seen["command"], seen["env"] = command, env
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(portability.subprocess, "run", fake_run)
    result, rows = portability.run_config("threads-1", [Path("book/part1/ch01_forward_pass.ipynb")], workers)
    assert result["returncode"] == 0 and rows == []
    command = seen["command"]
    assert command[2] == "pytest" and "--nbval" in command
    assert ("-n" in command) == (workers > 1)
    if workers > 1:
        assert command[command.index("-n") + 1] == "2" and "loadfile" in command
    assert seen["env"]["OMP_NUM_THREADS"] == "1"
