"""Convolutional networks of chapter 18 in PyTorch (imports PyTorch).

* :func:`build_image_cnn`: two blocks of convolution, ReLU and 2 x 2 max
  pooling, then a linear layer, for square grey images passed flat (n, side^2),
  as chapter 3's MLP takes them, so that both train with
  :func:`companion.train.torch_classifier.train_classifier` on the same arrays.
* :class:`FrameConvClassifier` and :class:`FrameLSTMClassifier`: speaker
  identification from right-padded frames (n, T, d), a 1-D convolution over
  time with a max over the real frames, and chapter 8's LSTM read at the last
  real frame. Both find the real frames themselves: a padding frame is all
  zeros (:func:`companion.data.speech.pad_frames`), so the models take one
  tensor and train with the same loop.
"""

from __future__ import annotations

import torch
from torch import nn

from companion.checks import check_positive_int


def build_image_cnn(side: int, channels=(8, 16), kernel: int = 5, n_classes: int = 10) -> nn.Sequential:
    """Flat (n, side^2) images -> logits (n, n_classes) through two conv-ReLU-pool blocks.

    Each convolution keeps the image size (stride 1, padding kernel // 2 for
    an odd kernel, Eq. 18.2); each pooling halves it (rounding down), so the
    linear layer reads channels[-1] x (side // 4)^2 features.
    """
    side = check_positive_int(side, "side")
    kernel = check_positive_int(kernel, "kernel")
    n_classes = check_positive_int(n_classes, "n_classes")
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be odd, so that padding kernel // 2 keeps the size; got {kernel}")
    channels = [check_positive_int(c, "channels") for c in channels]
    if len(channels) != 2:
        raise ValueError(f"channels must give the widths of the two blocks; got {channels}")
    if side // 4 < 1:
        raise ValueError(f"two 2 x 2 poolings need images of side at least 4; got {side}")
    c1, c2 = channels
    return nn.Sequential(
        nn.Unflatten(1, (1, side, side)),
        nn.Conv2d(1, c1, kernel, padding=kernel // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, kernel, padding=kernel // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * (side // 4) ** 2, n_classes),
    )  # fmt: skip


def real_frames(frames: torch.Tensor) -> torch.Tensor:
    """(n, T) boolean mask of the frames that are not padding (not all zeros)."""
    if frames.ndim != 3:
        raise ValueError(f"frames must have shape (n, T, d); got {tuple(frames.shape)}")
    return frames.abs().sum(dim=-1) > 0


class FrameConvClassifier(nn.Module):
    """(n, T, d) padded frames -> logits: two 1-D convolutions over time, max over real frames, linear.

    The output does not depend on how much padding follows an utterance.
    """

    def __init__(self, n_features: int, n_classes: int, channels: int = 32, kernel: int = 3):
        super().__init__()
        n_features = check_positive_int(n_features, "n_features")
        kernel = check_positive_int(kernel, "kernel")
        if kernel % 2 == 0:
            raise ValueError(f"kernel must be odd, so that the output has one value per frame; got {kernel}")
        self.conv1 = nn.Conv1d(n_features, channels, kernel, padding=kernel // 2)
        self.conv2 = nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
        self.head = nn.Linear(channels, check_positive_int(n_classes, "n_classes"))

    def forward(self, frames):
        keep = real_frames(frames)[:, None, :]  # (n, 1, T)
        # Zero the first layer's output on padding frames (its bias would make them non-zero), so that
        # the second layer sees there what it sees past the end: the same zeros as its own padding.
        maps = torch.relu(self.conv1(frames.transpose(1, 2))) * keep  # Conv1d wants (n, d, T)
        maps = torch.relu(self.conv2(maps)).masked_fill(~keep, float("-inf"))
        return self.head(maps.amax(dim=2))  # the strongest response of each filter over the utterance


class FrameLSTMClassifier(nn.Module):
    """(n, T, d) padded frames -> logits from the LSTM state after each utterance's last real frame."""

    def __init__(self, n_features: int, n_classes: int, hidden_size: int = 32):
        super().__init__()
        n_features = check_positive_int(n_features, "n_features")
        hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.lstm = nn.LSTM(n_features, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, check_positive_int(n_classes, "n_classes"))

    def forward(self, frames):
        lengths = real_frames(frames).sum(dim=1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(frames, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1])
