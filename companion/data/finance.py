"""The market, credit and marketing tables of chapter 20, read from the ISLP wheel.

- NYSE: 6,051 trading days of the New York Stock Exchange, 3 December 1962 to
  31 December 1986: the day's Dow Jones return, the log trading volume
  (detrended) and the log volatility (LeBaron and Weigend, 1998).
- Default: 10,000 simulated credit-card customers: whether they defaulted,
  whether they are students, their balance and income (ISLR's teaching set).
- Caravan: 5,822 customers of an insurance company described by 85
  socio-demographic and product-ownership variables, and whether they bought a
  caravan (mobile home) policy: the CoIL 2000 challenge.

Each table is read from the wheel that ``python -m companion data fetch`` put
in the cache, its SHA-256 and that of the wheel checked.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field

import numpy as np

from companion.data.sources import ISLP_SHA256, ISLP_TABLES, ISLP_WHEEL
from companion.data.wheel_member import read_wheel_member


@functools.lru_cache(maxsize=None)
def read_islp_table(name: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """(header, rows) of one ISLP CSV file, every field as text."""
    if name not in ISLP_TABLES:
        raise ValueError(f"name must be one of {sorted(ISLP_TABLES)}; got {name!r}")
    member, digest = ISLP_TABLES[name]
    payload = read_wheel_member(ISLP_WHEEL, ISLP_SHA256, member, digest)
    rows = list(csv.reader(io.StringIO(payload.decode("ascii"))))
    return tuple(rows[0]), tuple(tuple(row) for row in rows[1:])


@dataclass(frozen=True)
class Table:
    """Named numeric columns of one data set, in file order, and where they came from."""

    columns: dict[str, np.ndarray]
    metadata: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; the columns are {list(self.columns)}")
        return self.columns[name]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


def _table(name: str, convert: dict) -> Table:
    header, rows = read_islp_table(name)
    columns = {}
    for index, column in enumerate(header):
        values = [row[index].strip() for row in rows]
        columns[column] = convert.get(column, lambda v: np.array(v, dtype=np.float64))(values)
    member, digest = ISLP_TABLES[name]
    return Table(
        columns,
        {"name": name, "source": f"{ISLP_WHEEL}!{member}", "sha256": digest, "n": len(rows)},
    )


def _yes_no(values) -> np.ndarray:
    bad = sorted(set(values) - {"Yes", "No"})
    if bad:
        raise ValueError(f"expected Yes/No values; got {bad[:5]}")
    return np.array([value == "Yes" for value in values])


def load_nyse() -> Table:
    """NYSE by day: ``date`` (text), ``DJ_return``, ``log_volume``, ``log_volatility``."""
    return _table(
        "NYSE",
        {
            "date": lambda v: np.array(v),
            "day_of_week": lambda v: np.array(v),
            "train": lambda v: np.array([x == "TRUE" for x in v]),
        },
    )


def load_default() -> Table:
    """Default: ``default`` and ``student`` as booleans, ``balance`` and ``income`` in dollars."""
    return _table("Default", {"default": _yes_no, "student": _yes_no})


def load_caravan() -> Table:
    """Caravan: 85 integer-coded customer variables and ``Purchase`` (bought a caravan policy) as booleans."""
    return _table("Caravan", {"Purchase": _yes_no})
