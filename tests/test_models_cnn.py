"""Chapter 18's PyTorch CNNs, frame classifiers and augmentation; NumPy conv2d equals Keras Conv2D."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from companion.data.augment import random_affine  # noqa: E402
from companion.models.cnn import FrameConvClassifier, FrameLSTMClassifier, build_image_cnn, real_frames  # noqa: E402
from companion.models.counting import count_parameters  # noqa: E402
from companion.nn.conv import conv2d_forward, conv2d_parameter_count  # noqa: E402
from companion.train.torch_classifier import train_classifier  # noqa: E402


def test_image_cnn_shapes_and_parameter_count():
    model = build_image_cnn(28, (8, 16), 5)
    assert model(torch.zeros(3, 784)).shape == (3, 10)
    expected = conv2d_parameter_count(1, 8, 5) + conv2d_parameter_count(8, 16, 5) + 16 * 7 * 7 * 10 + 10
    assert count_parameters(model) == expected == 11274
    assert build_image_cnn(8, (8, 16), 3)(torch.zeros(2, 64)).shape == (2, 10)
    with pytest.raises(ValueError, match="kernel must be odd"):
        build_image_cnn(28, kernel=4)
    with pytest.raises(ValueError, match="side at least 4; got 3"):
        build_image_cnn(3, kernel=1)


def _padded_pair():
    rng = np.random.default_rng(0)
    frames = torch.tensor(rng.normal(size=(2, 9, 12)), dtype=torch.float32)
    frames[0, 5:] = 0  # the first utterance has 5 real frames
    return frames


@pytest.mark.parametrize("cls", [FrameConvClassifier, FrameLSTMClassifier])
def test_frame_models_ignore_the_padding(cls):
    torch.manual_seed(0)
    model = cls(12, 9).eval()
    frames = _padded_pair()
    assert real_frames(frames).sum(1).tolist() == [5, 9]
    with torch.no_grad():
        full = model(frames)
        alone = model(frames[:1, :5])
        longer = model(torch.cat([frames, torch.zeros(2, 4, 12)], 1))
    torch.testing.assert_close(full[:1], alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(full, longer, atol=1e-5, rtol=1e-5)


def test_frame_models_refuse_wrong_shapes():
    with pytest.raises(ValueError, match=r"shape \(n, T, d\); got \(2, 12\)"):
        FrameConvClassifier(12, 9)(torch.zeros(2, 12))
    with pytest.raises(ValueError, match="kernel must be odd"):
        FrameConvClassifier(12, 9, kernel=2)


def test_random_affine_is_seeded_keeps_shape_and_moves_ink():
    image = torch.zeros(1, 28, 28)
    image[0, 10:18, 12:16] = 1
    batch = image.reshape(1, 784).repeat(4, 1)
    first = random_affine(batch, 28, torch.Generator().manual_seed(0))
    second = random_affine(batch, 28, torch.Generator().manual_seed(0))
    assert first.shape == batch.shape and torch.equal(first, second)
    assert not torch.allclose(first, batch)
    assert not torch.allclose(first[0], first[1])  # each image draws its own transformation
    identity = random_affine(batch, 28, torch.Generator().manual_seed(0), max_shift=0, max_degrees=0)
    torch.testing.assert_close(identity, batch, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"flat, shape \(n, 784\)"):
        random_affine(torch.zeros(2, 28, 28), 28, torch.Generator())
    with pytest.raises(ValueError, match="max_degrees must be a finite number >= 0; got -1"):
        random_affine(batch, 28, torch.Generator(), max_degrees=-1)


def test_train_classifier_applies_augment_to_training_batches_only():
    seen = []

    def augment(batch, generator):
        seen.append(batch.shape[0])
        return batch

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3, 4)).astype(np.float32), rng.integers(0, 2, 20)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    train_classifier(model, (X, y), (X[:5], y[:5]), 2, 8, lambda p: torch.optim.SGD(p, lr=0.1), device="cpu",
                     augment=augment)  # fmt: skip
    assert seen == [8, 8, 4, 8, 8, 4]
    with pytest.raises(ValueError, match=r"shape \(n, ...\); got shape \(20,\)"):
        train_classifier(model, (X[:, 0, 0], y), (X, y), 1, 8, lambda p: torch.optim.SGD(p, lr=0.1))


def test_train_classifier_without_train_tracking_trains_the_same_model():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(24, 6)).astype(np.float32), rng.integers(0, 3, 24)
    states, histories = [], []
    for track_train in (True, False):
        torch.manual_seed(0)
        model = torch.nn.Linear(6, 3)
        histories.append(train_classifier(model, (X, y), (X[:6], y[:6]), 3, 8,
                                          lambda p: torch.optim.SGD(p, lr=0.1), device="cpu",
                                          track_train=track_train))  # fmt: skip
        states.append(model.state_dict())
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key])
    assert len(histories[0].train_acc) == 3 and histories[1].train_acc == [] and histories[1].train_loss == []
    assert histories[0].val_loss == histories[1].val_loss
    with pytest.raises(TypeError, match="track_train must be True or False; got 'no'"):
        train_classifier(model, (X, y), (X, y), 1, 8, lambda p: torch.optim.SGD(p, lr=0.1), track_train="no")


def test_numpy_conv2d_equals_keras_conv2d_with_copied_weights():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(2, 3, 9, 8)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    layer = keras.layers.Conv2D(4, 3, strides=2, padding="valid", dtype="float64")
    layer.build((None, 9, 8, 3))
    layer.set_weights([W.transpose(2, 3, 1, 0), b])  # Keras: (k_h, k_w, C, F), images (N, H, W, C)
    theirs = np.asarray(layer(X.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(conv2d_forward(X, W, b, stride=2), theirs, atol=1e-10)
