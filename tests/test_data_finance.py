"""The chapter 20 tables read from the ISLP wheel."""

from __future__ import annotations

import numpy as np
import pytest

from companion.data import finance, sources

pytestmark = pytest.mark.skipif(
    not (sources.cache_dir() / sources.ISLP_WHEEL).is_file(),
    reason=f"{sources.ISLP_WHEEL} not fetched ({sources.FETCH_COMMAND})",
)


def test_tables_have_their_published_sizes():
    nyse = finance.load_nyse()
    assert (
        len(nyse) == 6051 and nyse["date"][0] == "1962-12-03" and nyse["date"][-1] == "1986-12-31"
    )
    assert np.all(np.diff(np.array(nyse["date"], dtype="datetime64[D]")).astype(int) > 0)
    default = finance.load_default()
    assert (
        len(default) == 10000
        and default["default"].sum() == 333
        and default["student"].sum() == 2944
    )
    caravan = finance.load_caravan()
    assert len(caravan) == 5822 and len(caravan.columns) == 86 and caravan["Purchase"].sum() == 348


def test_unknown_table_and_column_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="name must be one of"):
        finance.read_islp_table("Wage")
    with pytest.raises(KeyError, match="no column 'price'"):
        finance.load_default()["price"]


def test_yes_no_columns_refuse_other_values():
    with pytest.raises(ValueError, match=r"expected Yes/No values; got \['maybe'\]"):
        finance._yes_no(["Yes", "maybe"])
