"""Compute and memory arithmetic (book chapter 13).

Framework-free calculators, one concept per module:

- ``companion.scaling.precision``: number formats (fp32, bf16, fp16) and their bytes;
- ``companion.scaling.flops``: floating-point operations of a Transformer's training step;
- ``companion.scaling.memory``: parameter, gradient, optimizer-state and activation memory;
- ``companion.scaling.shapes``: parameter counts of published model shapes (GPT-2, MiniLM, Llama 2);
- ``companion.scaling.measure``: measurements that check the formulas (these import PyTorch
  inside their functions).

This package imports no framework itself, so ``import companion`` stays light.
"""
