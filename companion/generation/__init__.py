"""Generating text with a language model (book chapter 12): next-token sampling and the decoding loop.

Import the submodule you need:

- ``companion.generation.sampling``: turning one row of logits into a next token
  (greedy, temperature, top-k, top-p), Eqs. (12.6)-(12.10);
- ``companion.generation.generate``: the autoregressive loop, with or without a
  key/value cache.

Both need PyTorch; this package imports no framework itself, so ``import companion``
stays light.
"""
