"""The chapter 19 loaders: gbsg2 from lifelines, Khan's tumours from the ISLP wheel."""

from __future__ import annotations

import numpy as np
import pytest

from companion.data import clinical, sources, wheel_member


def test_gbsg2_has_the_published_counts():
    pytest.importorskip("lifelines")
    data = clinical.load_gbsg2()
    assert data.X.shape == (686, 9) and len(data.feature_names) == 9
    assert data.event.sum() == 299  # recurrences or deaths observed (Schumacher et al. 1994)
    hormone = data.X[:, data.feature_names.index("hormone therapy")]
    assert hormone.sum() == 246
    grades = data.X[:, [4, 5]]
    assert grades.sum(axis=1).max() == 1  # grade II and III are exclusive indicators
    assert data.time.min() > 0 and data.metadata["sha256"] == sources.GBSG2_SHA256


def test_gbsg2_refuses_a_changed_file(tmp_path, monkeypatch):
    pytest.importorskip("lifelines")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "gbsg2.csv").write_text("horTh,age\nno,70\n")
    monkeypatch.setattr(clinical, "package_dir", lambda name: tmp_path)
    with pytest.raises(
        sources.ChecksumMismatchError, match="pip install --force-reinstall lifelines"
    ):
        clinical.load_gbsg2()
    monkeypatch.setattr(clinical, "package_dir", lambda name: None)
    with pytest.raises(sources.MissingSourceError, match="pip install lifelines==0.30.3"):
        clinical.load_gbsg2()


def test_khan_has_the_split_of_the_paper():
    if not (sources.cache_dir() / sources.ISLP_WHEEL).is_file():
        pytest.skip(f"{sources.ISLP_WHEEL} not fetched ({sources.FETCH_COMMAND})")
    data = clinical.load_khan()
    assert data.X_train.shape == (63, 2308) and data.X_test.shape == (20, 2308)
    assert np.bincount(data.y_train).tolist() == [0, 8, 23, 12, 20]
    assert np.bincount(data.y_test).tolist() == [0, 3, 6, 6, 5]
    assert np.all(np.isfinite(data.X_train))


def test_khan_without_the_wheel_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setattr(wheel_member, "cache_dir", lambda: tmp_path)
    clinical.load_khan.cache_clear()
    try:
        with pytest.raises(sources.MissingSourceError, match="python -m companion data fetch"):
            clinical.load_khan()
    finally:
        clinical.load_khan.cache_clear()
