"""Making a trained model smaller and faster (book chapter 15), one concept per module:

- ``companion.compression.quantization``: affine and symmetric integer quantisation and the int8
  matrix product with int32 accumulation, in NumPy (Eqs. (15.1)-(15.7));
- ``companion.compression.fake_quant``: fake quantisation with the straight-through estimator, for
  quantisation-aware training (Eq. (15.8); PyTorch);
- ``companion.compression.pruning``: magnitude pruning and feed-forward neuron pruning (Eqs. (15.9)-(15.10));
- ``companion.compression.exportable`` and ``companion.compression.onnx_runtime``: chapter 11's MiniLM
  classifier exported to ONNX and quantised with ONNX Runtime;
- ``companion.compression.distillation``: the distillation loss and a student's training loop
  (Eqs. (15.11)-(15.12); PyTorch).

This package imports nothing itself; each module imports what it needs (NumPy only for
``quantization``).
"""
