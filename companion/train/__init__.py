"""Training loops and the tools around them.

``numpy_loop`` trains the from-scratch NumPy MLP of chapter 3 with mini-batch
SGD; ``torch_classifier`` is the PyTorch MLP and loop of chapter 6 (it imports
PyTorch on use); ``early_stopping`` watches a validation metric (chapter 6).
"""

from companion.train.early_stopping import EarlyStopping
from companion.train.numpy_loop import minibatches, model_accuracy, sgd_step, train_numpy

__all__ = ["EarlyStopping", "minibatches", "model_accuracy", "sgd_step", "train_numpy"]
