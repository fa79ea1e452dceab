"""The clinical data sets of chapter 19: gbsg2 (survival) and Khan's gene expression (p >> n).

- gbsg2, the German Breast Cancer Study Group 2 trial (Schumacher et al.,
  1994): 686 women with node-positive breast cancer, their recurrence-free
  survival time in days and whether recurrence or death was observed (cens = 1)
  or follow-up ended first (cens = 0), with hormonal therapy, age, menopausal
  status, tumour size and grade, positive nodes and two receptor levels. Read
  from the installed lifelines package by path, its SHA-256 checked.
- Khan et al. (2001): expression of 2,308 genes in 63 training and 20 test
  small round blue cell tumour samples (biopsies and cell lines) of four kinds,
  coded 1 Burkitt's lymphoma, 2 Ewing's sarcoma, 3 neuroblastoma and
  4 rhabdomyosarcoma (8, 23, 12 and 20 training samples, as in the paper), read
  from the ISLP wheel that ``python -m companion data fetch`` puts in the cache.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field

import numpy as np

from companion.data.sources import (
    GBSG2_FILE,
    GBSG2_SHA256,
    ISLP_SHA256,
    ISLP_WHEEL,
    KHAN_MEMBERS,
    KHAN_SHA256,
    MissingSourceError,
    package_dir,
    verify_sha256,
)
from companion.data.wheel_member import read_wheel_member

#: gbsg2's covariates as the loader encodes them (grade as two indicators against grade I).
GBSG2_FEATURES = (
    "hormone therapy",
    "age",
    "postmenopausal",
    "tumour size (mm)",
    "grade II",
    "grade III",
    "positive nodes",
    "progesterone receptor",
    "oestrogen receptor",
)


@dataclass(frozen=True)
class SurvivalData:
    """Covariates ``X`` (n, p) as float64, ``time`` in days, ``event`` (True: recurrence or death)."""

    X: np.ndarray
    time: np.ndarray
    event: np.ndarray
    feature_names: tuple[str, ...]
    metadata: dict = field(default_factory=dict)


def _gbsg2_rows() -> list[dict]:
    base = package_dir("lifelines")
    if base is None:
        raise MissingSourceError(
            "gbsg2 ships with lifelines, which is not installed: pip install lifelines==0.30.3"
        )
    path = base / GBSG2_FILE
    if not path.is_file():
        raise MissingSourceError(
            f"{path} is missing: reinstall with pip install --force-reinstall lifelines==0.30.3"
        )
    verify_sha256(path, GBSG2_SHA256, "pip install --force-reinstall lifelines==0.30.3")
    with open(path, newline="", encoding="ascii") as handle:
        return list(csv.DictReader(handle))


def load_gbsg2() -> SurvivalData:
    """The 686 patients of gbsg2 with the nine covariates of :data:`GBSG2_FEATURES`, in file order."""
    rows = _gbsg2_rows()
    yes_no = {"no": 0.0, "yes": 1.0}
    menopause = {"Pre": 0.0, "Post": 1.0}
    X, time, event = [], [], []
    for row in rows:
        grade = row["tgrade"]
        if grade not in ("I", "II", "III"):
            raise ValueError(f"{GBSG2_FILE}: tgrade must be I, II or III; got {grade!r}")
        X.append(
            [
                yes_no[row["horTh"]],
                float(row["age"]),
                menopause[row["menostat"]],
                float(row["tsize"]),
                float(grade == "II"),
                float(grade == "III"),
                float(row["pnodes"]),
                float(row["progrec"]),
                float(row["estrec"]),
            ]
        )
        time.append(float(row["time"]))
        event.append(row["cens"] == "1")
    metadata = {
        "name": "gbsg2",
        "source": f"lifelines/{GBSG2_FILE}",
        "sha256": GBSG2_SHA256,
        "n": len(rows),
    }
    return SurvivalData(np.array(X), np.array(time), np.array(event), GBSG2_FEATURES, metadata)


@dataclass(frozen=True)
class GeneExpression:
    """Khan's tumours: ``X_train`` (63, 2308), ``y_train`` in 1-4, and the 20 test tumours."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    metadata: dict = field(default_factory=dict)


def _read_khan_table(part: str) -> np.ndarray:
    payload = read_wheel_member(ISLP_WHEEL, ISLP_SHA256, KHAN_MEMBERS[part], KHAN_SHA256[part])
    rows = list(csv.reader(io.StringIO(payload.decode("ascii"))))
    return np.array(rows[1:], dtype=np.float64)  # the first row holds the column names


@functools.lru_cache(maxsize=1)
def load_khan() -> GeneExpression:
    """Khan's train and test split as ISLP ships it: the paper's 63 training samples, and its test set
    without the five samples that were not small round blue cell tumours (20 remain)."""
    X_train, X_test = _read_khan_table("x_train"), _read_khan_table("x_test")
    y_train = _read_khan_table("y_train")[:, 0].astype(np.int64)
    y_test = _read_khan_table("y_test")[:, 0].astype(np.int64)
    if (
        X_train.shape != (63, 2308)
        or X_test.shape != (20, 2308)
        or len(y_train) != 63
        or len(y_test) != 20
    ):
        raise ValueError(
            f"Khan: expected 63 + 20 tumours of 2,308 genes; got {X_train.shape} and {X_test.shape}"
        )
    metadata = {
        "name": "khan",
        "source": f"{ISLP_WHEEL}!ISLP/data/Khan_*.csv",
        "sha256": ISLP_SHA256,
    }
    return GeneExpression(X_train, y_train, X_test, y_test, metadata)
