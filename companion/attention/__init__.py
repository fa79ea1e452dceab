"""Attention (book chapter 9): masks, the NumPy reference, PyTorch and Keras multi-head attention.

Import the submodule you need (``companion.attention.masks``,
``companion.attention.numpy_attention``, ``companion.attention.torch_attention``);
this package imports no framework itself, so ``import companion`` stays light.
"""
