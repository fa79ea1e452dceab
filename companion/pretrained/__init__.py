"""A pretrained encoder used offline: all-MiniLM-L6-v2 (book chapter 11).

- :mod:`companion.pretrained.minilm`: where the weights live and how to load them
  offline and quietly (tokenizer, encoder, or encoder with a new classification head);
- :mod:`companion.pretrained.wordpiece`: greedy longest-match-first WordPiece on the
  model's ``vocab.txt``, Eq. (11.3), written out to compare with the library tokenizer;
- :mod:`companion.pretrained.pooling`: masked mean pooling of token states, Eq. (11.4);
- :mod:`companion.pretrained.features`: batched, length-sorted, no-grad sentence features;
- :mod:`companion.pretrained.classifier`: the encoder + mean pooling + a new linear head;
- :mod:`companion.pretrained.finetune`: AdamW parameter groups, warmup + linear decay
  schedule, Eq. (11.6), gradient clipping, Eq. (11.7), and the fine-tuning loop.

Nothing heavy is imported here: PyTorch and transformers load inside the functions
that need them.
"""
