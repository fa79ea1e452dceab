"""``python -m companion doctor`` reports what the book needs to know about the machine."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from companion import doctor
from companion.data import SOURCES, cache_dir


@pytest.fixture(scope="module")
def report():
    return doctor.diagnose()


def test_reports_framework_versions(report):
    assert report.value("Versions", "NumPy") == np.__version__
    assert report.value("Versions", "PyTorch") == torch.__version__
    tf_version = report.value("Versions", "TensorFlow")
    keras_version = report.value("Versions", "Keras")
    assert tf_version[0].isdigit() and keras_version.startswith("3.")


def test_reports_threads_and_accelerators(report):
    assert int(report.value("CPU", "logical cores")) >= 1
    assert report.value("CPU", "PyTorch threads") == str(torch.get_num_threads())
    seen = report.value("Accelerators", "PyTorch sees")
    assert seen == "none (CPU only)" or "cuda" in seen or "mps" in seen
    assert report.value("Accelerators", "book device (TensorFlow)") in ("/CPU:0", "/GPU:0")


def test_lists_every_data_source_with_its_install_command(report):
    section = next(name for name in report.sections if name.startswith("Offline data sources"))
    rows = dict(report.sections[section])
    assert set(rows) == {source.name for source in SOURCES}
    for source in SOURCES:
        assert rows[source.name] == "installed" or source.install in rows[source.name]


def test_data_source_presence_follows_the_cache_dir_and_checks_the_hash(tmp_path, monkeypatch):
    vader = next(source for source in SOURCES if source.package is None)
    real_archive = vader.path()  # fetched by `make test` before the unit tests run
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    assert cache_dir() == tmp_path
    assert not vader.is_present()
    (tmp_path / vader.relative_file).write_bytes(b"not the archive")
    assert not vader.is_present(), "a file with the wrong sha256 must not count as installed"
    shutil.copyfile(real_archive, tmp_path / vader.relative_file)
    assert vader.is_present()


def test_invalid_device_override_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv("COMPANION_DEVICE", "tpu")
    report = doctor.diagnose()
    assert report.value("Accelerators", "book device (PyTorch)").startswith("error: COMPANION_DEVICE must be one of")


def test_command_line_prints_every_section():
    result = subprocess.run(
        [sys.executable, "-m", "companion", "doctor"], capture_output=True, text=True, timeout=300, check=True
    )
    for heading in ("Versions", "CPU", "Accelerators", "Offline data sources"):
        assert heading in result.stdout
    assert "I0000" not in result.stderr, "TensorFlow start-up noise leaked through"


def test_command_line_rejects_unknown_command():
    result = subprocess.run([sys.executable, "-m", "companion", "frobnicate"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_compares_every_installed_version_with_its_pin(report, tmp_path):
    pins = doctor.pinned_versions()
    assert pins["torch"] == "2.13.0" and pins["numpy"] == np.__version__
    rows = dict(report.sections["Pinned packages (requirements.txt)"])
    assert set(rows) == set(pins)
    assert rows["numpy"] == np.__version__ and rows["torch"] == torch.__version__  # 2.13.0+cpu matches 2.13.0
    assert doctor.compare_with_pin("numpy", "0.0.1") == (
        f"{np.__version__}, but requirements.txt pins 0.0.1: pip install -r requirements.txt", True)
    assert doctor.compare_with_pin("no-such-package-here", "1.0") == (
        "MISSING (pinned 1.0): pip install -r requirements.txt", False)
    written = tmp_path / "requirements.txt"
    written.write_text("# a comment\nnumpy==2.0  # pinned\n\nflag-without-pin\n", encoding="utf-8")
    assert doctor.pinned_versions(written) == {"numpy": "2.0"}


def test_exit_status_says_whether_something_is_missing(monkeypatch, capsys):
    assert doctor.main() == 0  # `make test` fetched the data and installed the pins
    assert "every pinned package and every data source" in capsys.readouterr().out
    monkeypatch.setenv("COMPANION_DATA", "/nonexistent-companion-cache")  # the fetched archives disappear
    assert doctor.main() == 1
    out = capsys.readouterr().out
    assert "doctor: 4 problem(s): data source vader-ground-truth is missing (python -m companion data fetch)" in out
    assert "data source mnist-5k is missing" in out and "data source japanese-vowels is missing" in out
