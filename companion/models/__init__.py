"""Transformer models (book chapters 10 and 12): configuration, encoder blocks, classifier, GPT.

``companion.models.config`` is framework-free (configurations and the parameter-count
formula); ``companion.models.transformer`` and ``companion.models.gpt`` need PyTorch.
"""
