"""The answer key of the exercises that can be checked by a program.

Each :class:`Answer` says what the exercise asks for (``what``, shown to the
student when an answer has the wrong form), the answer, and the tolerance the
check allows. Exercise ids are ``"chNN.K"``: exercise K of chapter NN, in the
order of the chapter's Exercises section.

The key is plain text in an open-source package, and the book prints every
solution in a dropdown: :func:`companion.exercises.check` keeps the answers out
of sight in class (it never prints one), it is not an exam lock.

Function answers (``kind="function"``) are checked by behaviour, not by value:
their ``expected`` is the name of a tester in :mod:`companion.exercises.check`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """One checkable exercise.

    kind: ``"integers"`` (exact whole numbers), ``"numbers"`` (within ``rel``
    relative or ``abs`` absolute tolerance, whichever is larger), ``"array"``
    (same shape, every entry within tolerance) or ``"function"``.
    """

    exercise: str
    what: str
    kind: str
    expected: object
    rel: float = 0.0
    abs: float = 0.0


def _mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value of chapter 5 (eq-ch5-mcnemar): twice the binomial tail of min(b, c)."""
    n = b + c
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n)


def _sigmoid_slope(z: float) -> float:
    s = 1 / (1 + math.exp(-z))
    return s * (1 - s)


ANSWERS: tuple[Answer, ...] = (
    Answer("ch01.1", "the layer's number of parameters (one integer)", "integers", (784 * 128 + 128,)),
    Answer("ch01.6", "sigma'(z) at z = 0, 5 and 10 (three numbers)", "numbers",
           tuple(_sigmoid_slope(z) for z in (0, 5, 10)), rel=0.02),
    Answer("ch02.4", "the z where the gradient's magnitude is largest, then that magnitude (two numbers)",
           "numbers", (math.log(0.5), 8 / 27), abs=0.01),
    Answer("ch03.6", "your LeakyReLU class (the class itself, not an instance)", "function", "leaky_relu_layer"),
    Answer("ch04.1", "the contraction factor per step of momentum, then of gradient descent, for kappa = 25 "
           "(two numbers)", "numbers", (2 / 3, 12 / 13), abs=0.005),
    Answer("ch05.1", "the arithmetic mean of precision and recall, then the F1 (two numbers)", "numbers",
           (0.505, 2 * 0.01 / 1.01), rel=0.01),
    Answer("ch05.2", "the precision at pi = 0.5, then at pi = 0.01 (two numbers)", "numbers",
           (0.95, 0.0095 / (0.0095 + 0.0495)), rel=0.01),
    Answer("ch05.6", "McNemar's exact p-value with 40 disagreements, then with 200 (two numbers)", "numbers",
           (_mcnemar_exact(26, 14), _mcnemar_exact(106, 94)), rel=0.03),
    Answer("ch06.4", "the learning rate at t = 0, 999, 1000 and 5500 (four numbers)", "numbers",
           (1e-6, 1e-3, 1e-3, 5e-4), rel=0.001),
    Answer("ch08.2", "the trainable numbers of one LSTM layer with d = h = 32 in the book's layout, then in "
           "PyTorch's (two integers)", "integers", (8320, 8448)),
    Answer("ch09.2", "the parameters of one MiniLM multi-head attention layer (one integer)", "integers",
           (4 * 384**2 + 4 * 384,)),
    Answer("ch09.3", "the (2, 7) causal mask as 0 and 1 (True for 'may attend')", "array",
           ((1, 1, 1, 1, 1, 1, 0), (1, 1, 1, 1, 1, 1, 1))),
    Answer("ch09.4", "the GiB taken by one layer's written-out attention weights in float32 (one number)",
           "numbers", (8 * 12 * 4096**2 * 4 / 2**30,), rel=0.01),
    Answer("ch10.4", "the parameters of the 12 FFNs of GPT-2 small, biases included (one integer)", "integers",
           (12 * (2 * 768 * 3072 + 3072 + 768),)),
    Answer("ch11.4", "MiniLM's parameter count with a vocabulary of 10,000 (one integer)", "integers",
           (22_713_216 - 11_918_592 + 10_000 * 384 + 196_608 + 768 + 768,)),
    Answer("ch12.2", "the key/value cache of the batch in GiB (one number)", "numbers",
           (2 * 32 * 4096 * 2 * 8 * 4096 / 2**30,), rel=0.01),
    Answer("ch12.3", "the same cache in GiB with H_kv = 8 (one number)", "numbers",
           (2 * 32 * 8 * 128 * 2 * 8 * 4096 / 2**30,), rel=0.01),
    Answer("ch13.3", "the FLOPs forward only, then forward and backward with an input that requires a "
           "gradient, then with one that does not (three integers)", "integers",
           (2 * 10 * 64 * 32, 3 * 2 * 10 * 64 * 32, 2 * 2 * 10 * 64 * 32)),
    Answer("ch13.4", "the smallest positive integer that bf16 cannot represent (one integer)", "integers",
           (257,)),
    Answer("ch14.1", "the factor by which an example of a 12-example shard is weighted, then one of a "
           "13-example shard, relative to the full batch (two numbers)", "numbers", (50 / 48, 50 / 52),
           rel=0.002),
    Answer("ch14.3", "the global batch, then the all-reduces per optimiser step without no_sync(), then with "
           "it (three integers)", "integers", (512, 8, 1)),
    Answer("ch14.4", "the bubble fraction with micro-batches of 64, then of 8 (two numbers)", "numbers",
           (3 / 7, 3 / 35), abs=0.001),
    Answer("ch14.5", "the smallest world size N for which ZeRO-3's model state fits in 40 GB (one integer)",
           "integers", (6,)),
    Answer("ch15.3", "the density below which CSR is smaller with float32 values and 4-byte indices, then with "
           "int8 values and 2-byte indices (two numbers)", "numbers",
           ((1536 * 384 * 4 - 4 * 1537) / 8 / (1536 * 384), (1536 * 384 - 4 * 1537) / 3 / (1536 * 384)),
           abs=0.01),
    Answer("ch16.2", "the largest utilisation that the p99 formula eq-ch16-quantile allows (one number)", "numbers",
           (1 - 4.6 * 3 / 25,), abs=0.005),
    Answer("ch16.3", "the throughput gain at b = 8, then at b = 32, then its bound (three numbers)", "numbers",
           (8 * 20.5 / 24, 32 * 20.5 / 36, 41.0), rel=0.01),
    Answer("ch17.1", "the transfer gap Delta_12, then Delta_21 (two numbers)", "numbers", (0.85 - 0.62, 0.80 - 0.58),
           abs=0.0005),
    Answer("ch17.2", "the proxy A-distance with 45 errors, then with 330 errors (two numbers)", "numbers",
           (2 * (1 - 2 * 45 / 600), 2 * (1 - 2 * (1 - 330 / 600))), abs=0.0005),
    Answer("ch17.3", "the corrected probability of 0.6, then of 0.7 (two numbers)", "numbers",
           (0.48 / 0.96, 0.56 / 0.92), abs=0.0005),
    Answer("ch17.4", "P(positive) for the review (one number)", "numbers", (91 / 325,), abs=0.0005),
    Answer("ch18.1", "the image size after the convolution, then after the pooling, then the convolution's "
           "parameter count (three integers)", "integers", (112, 56, 64 * (3 * 49 + 1))),
    Answer("ch19.1", "the threshold when a miss costs 4, then when it costs 99 (two numbers)", "numbers",
           (1 / (1 + 4), 1 / (1 + 99)), abs=0.0005),
    Answer("ch19.2", "the PPV, then the NPV, at prevalence 1 % (two numbers)", "numbers",
           (0.95 * 0.01 / (0.95 * 0.01 + 0.10 * 0.99), 0.90 * 0.99 / (0.90 * 0.99 + 0.05 * 0.01)), abs=0.0005),
    Answer("ch19.3", "S(5), then S(9) (two numbers)", "numbers", (5 / 12, 0.0), abs=0.0005),
    Answer("ch19.4", "log L under Breslow's rule, then under Efron's (two numbers)", "numbers",
           (-2 * math.log(4), -math.log(4) - math.log(3)), abs=0.0005),
    Answer("ch20.1", "the number of fits, then the number of days purged (two integers)", "integers", (12, 19)),
    Answer("ch20.2", "the precision at 100, then the lift at 100 (two numbers)", "numbers",
           (0.23, 0.23 / (348 / 5822)), abs=0.005),
    Answer("ch20.3", "the threshold with costs 2 and 10, then with 1 and 4 (two numbers)", "numbers",
           (2 / 12, 1 / 5), abs=0.0005),
    Answer("ch20.4", "the demographic parity gap, then the equalised odds gap (two numbers)", "numbers",
           (120 / 1000 - 72 / 1000, 40 / 900 - 40 / 960), abs=0.0002),
)

BY_EXERCISE: dict[str, Answer] = {answer.exercise: answer for answer in ANSWERS}
