"""Parameter counts of published model shapes (book chapter 13).

Each shape below is the model's *published configuration* (the sizes its
authors released with the weights or printed in the paper); the counts are
computed here from those sizes, and the book checks the MiniLM one against the
real weights.

Three architecture families:

- GPT-2 (decoder, pre-LN, learned positions, biases, LM head tied to the
  embedding): exactly the book's Transformer, so its count is
  :func:`companion.models.config.parameter_count` with ``head="lm"``.
- BERT / MiniLM (encoder, post-LN): the book's post-LN stack with learned
  positions, plus token-type embeddings, a LayerNorm on the embeddings and a
  pooler (a D x D layer with bias on the first token), Eq. (13.1).
- Llama 2 (decoder, pre-RMSNorm, no biases, gated FFN with three D x F
  matrices, grouped-query attention with fewer key/value heads, untied head):
  counted by :func:`llama_parameter_count`.
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.checks import check_choice, check_positive_int

FAMILIES = ("gpt2", "bert", "llama")


@dataclass(frozen=True)
class PublishedShape:
    """Sizes of a released model (its published configuration)."""

    name: str
    family: str
    vocab_size: int
    context: int
    d_model: int
    num_layers: int
    num_heads: int
    d_ff: int
    num_kv_heads: int | None = None
    source: str = "published configuration"

    def __post_init__(self):
        check_choice(self.family, "family", FAMILIES)
        for field in ("vocab_size", "context", "d_model", "num_layers", "num_heads", "d_ff"):
            check_positive_int(getattr(self, field), field)
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model must be divisible by num_heads; got {self.d_model} and {self.num_heads}")
        if self.num_kv_heads is not None:
            check_positive_int(self.num_kv_heads, "num_kv_heads")
            if self.num_heads % self.num_kv_heads:
                raise ValueError(f"num_heads must be divisible by num_kv_heads; got {self.num_heads} and "
                                 f"{self.num_kv_heads}")


PUBLISHED_SHAPES = {
    shape.name: shape
    for shape in (
        PublishedShape("all-MiniLM-L6-v2", "bert", 30522, 512, 384, 6, 12, 1536,
                       source="published configuration (config.json shipped with the weights)"),
        PublishedShape("GPT-2 small", "gpt2", 50257, 1024, 768, 12, 12, 3072,
                       source="published configuration (GPT-2 release, 124M)"),
        PublishedShape("GPT-2 XL", "gpt2", 50257, 1024, 1600, 48, 25, 6400,
                       source="published configuration (GPT-2 release, 1.5B)"),
        PublishedShape("Llama 2 7B", "llama", 32000, 4096, 4096, 32, 32, 11008, num_kv_heads=32,
                       source="published configuration (Llama 2 release)"),
        PublishedShape("Llama 2 70B", "llama", 32000, 4096, 8192, 80, 64, 28672, num_kv_heads=8,
                       source="published configuration (Llama 2 release)"),
    )
}


def _shape(shape) -> PublishedShape:
    if isinstance(shape, str):
        check_choice(shape, "shape", PUBLISHED_SHAPES, hint=" or a PublishedShape")
        return PUBLISHED_SHAPES[shape]
    if not isinstance(shape, PublishedShape):
        raise TypeError(f"shape must be a PublishedShape or its name; got {type(shape).__name__}")
    return shape


def transformer_config(shape):
    """The :class:`~companion.models.config.TransformerConfig` of a GPT-2 or BERT shape.

    GPT-2: pre-LN, learned positions, causal, tied LM head. BERT: post-LN,
    learned positions (the extras of Eq. (13.1) are not part of the config).
    Raises ValueError for a Llama shape, whose blocks the config cannot express.
    """
    from companion.models.config import TransformerConfig

    shape = _shape(shape)
    if shape.family == "llama":
        raise ValueError(f"{shape.name} has gated FFNs, RMSNorm and grouped-query attention, which a "
                         "TransformerConfig cannot express; use llama_parameter_count")
    return TransformerConfig(vocab_size=shape.vocab_size, max_len=shape.context, d_model=shape.d_model,
                             num_heads=shape.num_heads, num_layers=shape.num_layers, d_ff=shape.d_ff,
                             positions="learned", norm_first=shape.family == "gpt2",
                             causal=shape.family == "gpt2", tie_embeddings=True, dropout=0.0)


def bert_parameter_count(vocab_size: int, max_positions: int, d_model: int, num_heads: int, num_layers: int,
                         d_ff: int, type_vocab_size: int = 2, pooler: bool = True) -> int:
    """Parameters of a BERT-style encoder (BERT, MiniLM), Eq. (13.1).

    The post-LN Transformer stack with learned positions, counted by
    ``companion.models.config.parameter_count`` (Eq. (10.8)), plus the three
    things BERT adds: token-type embeddings (``type_vocab_size`` x D), a
    LayerNorm on the summed embeddings (2 D) and, when ``pooler``, a D x D
    layer with bias applied to the first token (D^2 + D).
    """
    from companion.models.config import TransformerConfig, parameter_count

    config = TransformerConfig(vocab_size=vocab_size, max_len=max_positions, d_model=d_model, num_heads=num_heads,
                               num_layers=num_layers, d_ff=d_ff, positions="learned", norm_first=False,
                               dropout=0.0)
    types = check_positive_int(type_vocab_size, "type_vocab_size")
    if not isinstance(pooler, bool):
        raise TypeError(f"pooler must be a bool; got {type(pooler).__name__}")
    return parameter_count(config, "none") + types * d_model + 2 * d_model + (d_model * d_model + d_model
                                                                               if pooler else 0)


def llama_parameter_count(shape) -> int:
    """Parameters of a Llama-style decoder.

    Per layer: Q and output projections D^2 each, K and V projections
    D x (kv_heads x head size) each, a gated FFN of three D x F matrices, two
    RMSNorm gains of D. Plus the token embedding V D, an untied LM head V D and
    a final RMSNorm D. No biases.
    """
    shape = _shape(shape)
    if shape.family != "llama":
        raise ValueError(f"llama_parameter_count needs a llama-family shape; got family {shape.family!r}")
    D, F = shape.d_model, shape.d_ff
    kv = (shape.num_kv_heads or shape.num_heads) * (D // shape.num_heads)
    per_layer = 2 * D * D + 2 * D * kv + 3 * D * F + 2 * D
    return shape.num_layers * per_layer + 2 * shape.vocab_size * D + D


def shape_parameter_count(shape) -> int:
    """Total parameters of a published shape (GPT-2 and Llama with their LM heads; BERT with its pooler)."""
    from companion.models.config import parameter_count

    shape = _shape(shape)
    if shape.family == "llama":
        return llama_parameter_count(shape)
    if shape.family == "bert":
        return bert_parameter_count(shape.vocab_size, shape.context, shape.d_model, shape.num_heads,
                                    shape.num_layers, shape.d_ff)
    return parameter_count(transformer_config(shape), "lm")


def shape_matmul_parameter_count(shape) -> int:
    """N_mm of Eq. (13.5) for a decoder shape: weights in matrix products, LM head included."""
    from companion.scaling.flops import matmul_parameter_count

    shape = _shape(shape)
    if shape.family == "bert":
        raise ValueError(f"{shape.name} is an encoder; N_mm is defined here for decoder language models")
    if shape.family == "gpt2":
        return matmul_parameter_count(transformer_config(shape), "lm")
    D, F = shape.d_model, shape.d_ff
    kv = (shape.num_kv_heads or shape.num_heads) * (D // shape.num_heads)
    return shape.num_layers * (2 * D * D + 2 * D * kv + 3 * D * F) + shape.vocab_size * D
