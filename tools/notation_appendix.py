"""Write book/appendix/notation.md: the symbols of the book, what each means, and where it is defined.

``SYMBOLS`` lists each symbol as the chapters write it in LaTeX, its meaning
and the chapter that introduces it. tests/test_book_pages.py checks that each
symbol occurs, as written, in the mathematics of that chapter, and that the
committed page is current:

    python tools/notation_appendix.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "appendix" / "notation.md"

# (LaTeX as the chapter writes it, meaning, chapter that introduces it); grouped by topic in the page.
SYMBOLS: dict[str, list[tuple[str, str, int]]] = {
    "Data and shapes": [
        ("X", "a batch of inputs, one example per row", 1),
        ("n", "the number of examples in a batch or data set", 1),
        ("d_\\text{in}", "the width of a layer's input", 1),
        ("k", "the number of classes", 1),
        ("y", "a label, or a vector of targets", 2),
        ("\\hat y", "a prediction", 2),
        ("V", "the size of a vocabulary", 7),
        ("T", "the length of a sequence, in tokens or steps", 8),
    ],
    "Layers and networks": [
        ("W", "a weight matrix", 1),
        ("b", "a bias vector", 1),
        ("Z", "pre-activations (logits at the output layer)", 1),
        ("\\sigma", "the sigmoid function", 1),
        ("\\operatorname{softmax}", "the softmax function", 1),
        ("\\operatorname{ReLU}", "the rectified linear unit", 1),
        ("A^{(l)}", "the activations of layer $l$", 1),
        ("\\Delta^{(L)}", "the error at the output layer's pre-activations", 3),
        ("\\odot", "the element-wise product", 3),
        ("E", "an embedding matrix, one row per token", 7),
        ("h_t", "the hidden state of a recurrent network at step $t$", 8),
        ("c_t", "the cell state of an LSTM at step $t$", 8),
    ],
    "Losses and probabilities": [
        ("J", "the training objective: the mean loss over a batch", 1),
        ("\\ell", "the loss of one example", 2),
        ("\\mathcal{L}", "a pretraining or language-model loss, as a function of the parameters", 11),
        ("p(y \\mid x)", "the model's probability of $y$ given $x$", 2),
        ("H(q)", "the entropy of a distribution $q$", 2),
        ("\\mathrm{KL}", "the Kullback-Leibler divergence", 2),
        ("\\mathbb{E}", "an expectation", 1),
        ("\\operatorname{Var}", "a variance", 1),
    ],
    "Optimisation": [
        ("\\theta", "the parameters being trained", 2),
        ("\\eta", "the learning rate", 3),
        ("\\nabla L", "the gradient of the loss", 4),
        ("\\mu", "the momentum coefficient (in chapter 2, a class mean)", 4),
        ("\\beta_1", "Adam's decay rate of the first moment", 4),
        ("\\beta_2", "Adam's decay rate of the second moment", 4),
        ("\\epsilon", "a small constant that keeps a logarithm or a division finite", 2),
        ("\\kappa", "the condition number of a quadratic", 4),
        ("\\lambda", "an eigenvalue (chapter 4), or a weight-decay coefficient (chapter 6)", 4),
        ("\\eta_t", "the learning rate at step $t$ under a schedule", 4),
    ],
    "Evaluation": [
        ("\\mathrm{TP}", "true positives (also FP, FN, TN)", 5),
        ("\\mathrm{TPR}", "the true-positive rate (recall)", 5),
        ("\\mathrm{FPR}", "the false-positive rate", 5),
        ("F_1", "the harmonic mean of precision and recall", 5),
        ("\\pi", "the share of positive cases, the prevalence (elsewhere the number 3.14159...)", 5),
    ],
    "Attention and Transformers": [
        ("Q", "the queries", 9),
        ("K", "the keys", 9),
        ("d_k", "the width of a query or key", 9),
        ("H", "the number of attention heads", 9),
        ("D", "the width of the residual stream ($d_\\text{model}$)", 10),
        ("L", "the number of layers (blocks)", 10),
        ("\\operatorname{PPL}", "perplexity", 12),
        ("\\tau", "the sampling temperature", 12),
    ],
    "Scale, compression and serving": [
        ("N", "a parameter count (chapters 13-14) or a number of ranks (chapter 14)", 13),
        ("b_w", "bytes per weight (also $b_g$, $b_m$, $b_s$ for gradients, master weights, optimiser state)",
         13),
        ("s", "a quantisation scale", 15),
        ("\\rho", "the utilisation of a server (in chapter 4, RMSProp's decay rate)", 16),
    ],
    "Domain shift": [
        ("A_{st}", "the transfer matrix: accuracy of a model trained on domain $s$ and tested on domain $t$", 17),
        ("\\Delta_{st}", "the transfer gap $A_{tt} - A_{st}$", 17),
        ("\\hat d_{\\mathcal{A}}", "the proxy A-distance between two domains, from a domain classifier's error", 17),
        ("\\pi_s(y)", "the class prior of the source domain (also $\\pi_t$, of the target)", 17),
    ],
    "Decisions and survival": [
        ("t^\\ast", "the decision threshold that stated costs give", 19),
        ("c_{\\mathrm{FP}}", "the cost of a false positive (also $c_{\\mathrm{FN}}$, of a false negative)", 19),
        ("\\mathrm{PPV}", "the positive predictive value (also NPV, the negative one)", 19),
        ("\\hat S", "the Kaplan-Meier estimate of the survival function", 19),
        ("h_0", "the baseline hazard of the Cox model (in chapter 8, the initial hidden state)", 19),
        ("R_j", "the risk set at the $j$-th event time: the patients still followed", 19),
        ("d_j", "the number of events at the $j$-th event time (tied in $D_j$)", 19),
        ("\\Delta_{\\mathrm{DP}}", "the demographic parity gap (also $\\Delta_{\\mathrm{EO}}$, equalised odds)", 20),
        ("\\mathcal{T}_p", "the training days of test period $p$ in walk-forward validation", 20),
    ],
}


# Multi-letter symbols that an earlier chapter uses with another meaning (the table says which).
REUSED = {"\\mu", "\\pi", "\\rho", "h_0"}


def chapter_paths() -> dict[int, Path]:
    return {int(p.name[2:4]): p for p in sorted((ROOT / "book").glob("part*/ch*.ipynb"))}


def chapter_math(path: Path) -> str:
    """The LaTeX of a chapter: its inline $...$ and display $$...$$ mathematics, whitespace collapsed."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    pieces = re.findall(r"\$\$(.+?)\$\$|\$(.+?)\$", text, re.S)
    return " ".join(re.sub(r"\s+", " ", a or b) for a, b in pieces)


def occurs(symbol: str, math: str) -> bool:
    """The symbol in the chapter's mathematics, not as part of a longer name (``\\eta`` is not ``\\beta``)."""
    before = r"(?<![A-Za-z\\])" if symbol[0].isalpha() else r"(?<![A-Za-z])"
    after = r"(?![A-Za-z])"
    return re.search(before + re.escape(symbol) + after, math) is not None


def render() -> str:
    paths = chapter_paths()
    lines = [
        "# Appendix: notation",
        "",
        "<!-- Written by tools/notation_appendix.py; edit SYMBOLS there, not this page. -->",
        "",
        "The symbols the book uses, what each stands for, and the chapter that introduces it (a test checks",
        "that the symbol occurs in that chapter's mathematics). Matrices are upper case with one example",
        "per row, so a dense layer is $Z = XW + b$; vectors are lower case; a hat marks an estimate or a",
        "prediction. A few letters mean different things in different parts of the book, and the table",
        "says so where they do.",
        "",
    ]
    for group, rows in SYMBOLS.items():
        lines += [f"## {group}", "", "| symbol | meaning | chapter |", "| --- | --- | --- |"]
        for symbol, meaning, chapter in rows:
            path = paths[chapter]
            lines.append(f"| ${symbol}$ | {meaning} | {{doc}}`{chapter} <../{path.parent.name}/{path.stem}>` |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
