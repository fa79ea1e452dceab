"""Chapter 12's character GPT as a servable folder, and the object a server streams text from (chapter 16).

A built folder holds, and nothing else is needed to serve it:

* ``model.safetensors``: the weights (safetensors, not a pickle; the tied input and output
  embedding is stored once);
* ``config.json``: the :class:`companion.models.config.TransformerConfig` fields;
* ``vocab.json``: the characters, id order (ids 0 and 1 are ``<pad>`` and ``<unk>``);
* ``manifest.json``: where the weights came from (trained or not, steps, held-out loss).

:func:`build_text_generator` trains with chapter 12's recipe (:func:`companion.train.language_model.train_gpt`,
the CPU profile: 600 steps, about 70 s on two cores) on the movie-review snippets and saves
the result; :func:`save_text_generator` saves any GPT and vocabulary in the same format (the
chapter uses it for an untrained model, whose timing is that of the trained one).
:class:`TextGenerator` loads a folder and yields the text of a continuation piece by piece
with :func:`companion.generation.generate.generate_stream`, so that the server can send each
character as soon as it exists.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from companion.checks import check_positive_int
from companion.serving.model_folder import read_json, read_manifest

FORMAT_VERSION = 1
REPLACEMENT = "\ufffd"
FILES = ("model.safetensors", "config.json", "vocab.json", "manifest.json")


def save_text_generator(model, vocab, directory, manifest: dict) -> Path:
    """Write ``model`` (a :class:`companion.models.gpt.GPT`) and ``vocab`` into ``directory``."""
    from safetensors.torch import save_model

    from companion.models.gpt import GPT
    from companion.text import Vocabulary

    if not isinstance(model, GPT):
        raise TypeError(f"model must be a companion.models.gpt.GPT; got {type(model).__name__}")
    if not isinstance(vocab, Vocabulary) or len(vocab) != model.config.vocab_size:
        raise ValueError(f"vocab must be the Vocabulary of the model's {model.config.vocab_size} ids; got "
                         f"{type(vocab).__name__} of {len(vocab) if isinstance(vocab, Vocabulary) else '?'}")
    if not isinstance(manifest, dict):
        raise TypeError(f"manifest must be a dict; got {type(manifest).__name__}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_model(model.cpu(), str(directory / "model.safetensors"))
    (directory / "config.json").write_text(json.dumps(dataclasses.asdict(model.config), indent=2) + "\n",
                                           encoding="utf-8")
    (directory / "vocab.json").write_text(json.dumps(vocab.itos[2:], ensure_ascii=False) + "\n", encoding="utf-8")
    record = {"format_version": FORMAT_VERSION, "kind": "character GPT (chapter 12)", **manifest}
    (directory / "manifest.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return directory


def build_text_generator(directory, *, steps: int | None = None, seed: int = 0) -> Path:
    """Train chapter 12's CPU GPT on the English movie-review snippets and save it to ``directory``.

    ``steps`` overrides the profile's 600 training steps (fewer for a quick, weaker model).
    The manifest records the held-out loss in nats per character on 20,000 test characters.
    """
    import numpy as np
    import torch

    from companion.data import load_english_sentiment
    from companion.models.gpt import GPT
    from companion.seed import set_seed
    from companion.train.language_model import (GPT_CPU_PROFILE, build_char_vocabulary, encode_stream,
                                                evaluate_nll, gpt_config, train_gpt)

    profile = GPT_CPU_PROFILE
    if steps is not None:
        profile = dataclasses.replace(profile, steps=check_positive_int(steps, "steps"),
                                      warmup_steps=min(profile.warmup_steps, max(1, steps // 10)))
    set_seed(seed)
    corpus = load_english_sentiment("movie_reviews", seed=seed)
    vocab = build_char_vocabulary(corpus.train.texts)
    model = GPT(gpt_config(len(vocab), profile))
    started = time.perf_counter()
    train_gpt(model, encode_stream(corpus.train.texts, vocab), profile, np.random.default_rng(seed),
              device=torch.device("cpu"))
    test_stream = encode_stream(corpus.test.texts, vocab)[:20_001]
    manifest = {"trained": True, "steps": profile.steps, "seed": seed,
                "trained_on": f"the {len(corpus.train.texts)} training texts of movie_reviews, split seed {seed}",
                "test_nats_per_char": round(evaluate_nll(model, test_stream), 4),
                "train_seconds": round(time.perf_counter() - started, 1)}
    return save_text_generator(model, vocab, directory, manifest)


class TextGenerator:
    """``stream(prompt, ...)`` -> an iterator of the characters that continue ``prompt``.

    Loads a folder written by :func:`save_text_generator` onto ``device`` (default CPU).
    Characters of the prompt that the vocabulary lacks become ``<unk>``; the prompt plus the
    new characters must fit the model's context of ``max_len`` characters. One character is
    yielded per decoding step (U+FFFD for the ids of ``<pad>`` and ``<unk>``).
    """

    def __init__(self, directory, *, device=None):
        import torch
        from safetensors.torch import load_model

        from companion.models.config import TransformerConfig
        from companion.models.gpt import GPT
        from companion.text import Vocabulary

        directory = Path(directory)
        self.manifest = read_manifest(directory, FILES, format_version=FORMAT_VERSION, what="text generator",
                                      build_hint="python -m companion serve --generator")
        config = TransformerConfig(**read_json(directory, "config.json"))
        self.vocab = Vocabulary(read_json(directory, "vocab.json"))
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.model = GPT(config)
        load_model(self.model, str(directory / "model.safetensors"))
        self.model.to(self.device).eval()
        self.max_len = config.max_len

    def encode(self, prompt: str) -> list[int]:
        return self.vocab.encode(list(prompt))

    def stream(self, prompt: str, max_new_tokens: int, *, temperature: float = 0.0, top_k: int | None = None,
               seed: int = 0):
        """Characters continuing ``prompt``, one per step; ``temperature=0`` is greedy decoding.

        Every argument is checked here, before anything is computed.
        """
        import torch

        from companion.generation.generate import generate_stream

        if not isinstance(prompt, str) or not prompt:
            raise ValueError(f"prompt must be a non-empty string; got {prompt!r}")
        strategy = "greedy" if temperature == 0 else "sample"
        tokens = generate_stream(self.model, self.encode(prompt), max_new_tokens, strategy=strategy,
                                 temperature=1.0 if temperature == 0 else temperature, top_k=top_k,
                                 generator=torch.Generator(device=self.device).manual_seed(seed))
        return self._characters(tokens)

    def _characters(self, tokens):
        try:
            for token in tokens:
                index = int(token[0])
                # <pad> and <unk> never occur in the training stream, so a trained model all but never
                # picks them; if it does, the caller gets U+FFFD, the character that stands for "unknown"
                yield REPLACEMENT if index in (self.vocab.pad_id, self.vocab.unk_id) else self.vocab.itos[index]
        finally:
            tokens.close()  # a caller that stops early stops the computation

    def complete(self, prompt: str, max_new_tokens: int, **settings) -> str:
        """The whole continuation at once: what :meth:`stream` yields, joined."""
        return "".join(self.stream(prompt, max_new_tokens, **settings))
