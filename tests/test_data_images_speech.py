"""Chapter 18's data: MNIST digits and Japanese vowels read from cached wheels, checked and split."""

import gzip
import hashlib
import io
import zipfile

import numpy as np
import pytest

from companion.data import images, sources, speech, wheel_member
from companion.data.sources import ChecksumMismatchError, MissingSourceError


def test_mnist_split_is_stratified_disjoint_and_seeded():
    splits = images.load_mnist_5k(seed=0)
    assert [len(part[1]) for part in (splits.train, splits.val, splits.test)] == [3000, 1000, 1000]
    for X, y in (splits.train, splits.val, splits.test):
        assert X.shape[1:] == (28, 28) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
        assert len(set(np.bincount(y, minlength=10))) == 1  # the same count of every digit
    rows = lambda X: {row.tobytes() for row in X.reshape(len(X), -1)}  # noqa: E731
    assert not rows(splits.train[0]) & rows(splits.test[0])
    again, other = images.load_mnist_5k(seed=0), images.load_mnist_5k(seed=1)
    np.testing.assert_array_equal(again.test[0], splits.test[0])
    assert not np.array_equal(other.test[1], splits.test[1])


def test_vowels_have_the_published_counts():
    train, test = speech.load_japanese_vowels("train"), speech.load_japanese_vowels("test")
    assert len(train) == 270 and np.bincount(train.speakers).tolist() == [30] * 9
    assert len(test) == 370 and np.bincount(test.speakers).tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]
    lengths = np.concatenate([train.lengths(), test.lengths()])
    assert lengths.min() == 7 and lengths.max() == 29
    assert all(frames.shape[1] == 12 for frames in train.frames)


def test_padding_keeps_the_frames_and_marks_the_rest_with_zeros():
    train = speech.load_japanese_vowels("train")
    padded, lengths = speech.pad_frames(train, 29)
    assert padded.shape == (270, 29, 12) and padded.dtype == np.float32
    np.testing.assert_array_equal((np.abs(padded).sum(-1) > 0).sum(1), lengths)
    np.testing.assert_allclose(padded[0, : lengths[0]], train.frames[0], rtol=1e-6)
    with pytest.raises(ValueError, match="at least the longest utterance, 26 frames; got 20"):
        speech.pad_frames(train, 20)


def test_parse_ts_refuses_malformed_lines():
    header = "@problemName x\n@data\n"
    row = ":".join(["1,2"] * 12)
    assert len(speech.parse_ts(header + row + ":3\n")) == 1
    with pytest.raises(ValueError, match="no @data line"):
        speech.parse_ts("1,2:3\n")
    with pytest.raises(ValueError, match="expected 12 series and a label; got 11"):
        speech.parse_ts(header + ":".join(["1,2"] * 11) + ":3\n")
    with pytest.raises(ValueError, match="speaker must be 1..9; got '10'"):
        speech.parse_ts(header + row + ":10\n")
    with pytest.raises(ValueError, match="differ in length"):
        speech.parse_ts(header + "1:" + ":".join(["1,2"] * 11) + ":3\n")
    with pytest.raises(ValueError, match="split must be one of"):
        speech.load_japanese_vowels("validation")


def _fake_wheel(folder, member, payload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, payload)
    path = folder / "fake.whl"
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def test_wheel_member_is_verified_twice(tmp_path, monkeypatch):
    monkeypatch.setenv(sources.CACHE_ENV_VAR, str(tmp_path))
    with pytest.raises(MissingSourceError, match="python -m companion data fetch"):
        wheel_member.read_wheel_member("fake.whl", "0" * 64, "data.csv", "0" * 64)
    payload = gzip.compress(b"1,2,3\n")
    digest = _fake_wheel(tmp_path, "data.csv", payload)
    good = hashlib.sha256(payload).hexdigest()
    assert wheel_member.read_wheel_member("fake.whl", digest, "data.csv", good) == payload
    with pytest.raises(ChecksumMismatchError, match="fake.whl has SHA-256"):
        wheel_member.read_wheel_member("fake.whl", "0" * 64, "data.csv", good)
    with pytest.raises(ChecksumMismatchError, match="data.csv has SHA-256"):
        wheel_member.read_wheel_member("fake.whl", digest, "data.csv", "0" * 64)
    with pytest.raises(ChecksumMismatchError, match="has no member other.csv"):
        wheel_member.read_wheel_member("fake.whl", digest, "other.csv", good)
