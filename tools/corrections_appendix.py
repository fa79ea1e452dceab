"""Write book/appendix/corrections.md: every wrong form the book corrects, from the chapters' callouts.

Each correction in a chapter is a ``{warning}`` callout named ``corr-chNN-K``
(the K-th correction of chapter NN). This script reads every callout from the
notebooks and joins it with ``CORRECTIONS`` below, a one-line statement of the
wrong form, the correct one and what the chapter runs to show the difference.
tests/test_book_pages.py fails when a callout has no entry here, when an entry
has no callout, or when the committed page differs from what this script
writes now:

    python tools/corrections_appendix.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "appendix" / "corrections.md"
# A warning callout: its fence, its options (":name: ..."), its body.
CALLOUT = re.compile(r"^(`{3,})\{warning\}[^\n]*\n((?::\w+:[^\n]*\n)*)(.*?)^\1[ \t]*$", re.M | re.S)

# label: (the wrong form, the correct form, what the chapter runs next to the callout)
CORRECTIONS: dict[str, tuple[str, str, str]] = {
    "corr-ch01-1": ("softmax applied to outputs that already went through a sigmoid",
                    "softmax on the logits for exclusive classes; a sigmoid alone for independent yes/no outputs",
                    "both on the same logits: no class can pass $e/(e + k - 1)$ after the double squashing"),
    "corr-ch01-2": ("weights drawn from $U(0, 1)$ (`np.random.rand`) as an initialisation",
                    "a zero-mean scheme scaled to the layer's size: He for ReLU, Xavier for tanh and sigmoid",
                    "ten 256-unit layers of each: saturation, zero derivatives and float32 overflow at layer 19"),
    "corr-ch02-1": ("$\\partial J/\\partial a = a - y$ at the probabilities $a$",
                    "$a - y$ is the gradient at the logits; at the probabilities it is $-y_c/a_c$",
                    "autograd's two derivatives of one example's loss"),
    "corr-ch02-2": ("a multi-class image classifier trained with MSE and SGD, no word on the learning rate",
                    "cross-entropy on the logits; MSE through a squashing output needs a far larger rate",
                    "both losses on two models over five splits, with their learning-rate searches"),
    "corr-ch02-3": ("softmax of sigmoid outputs at inference",
                    "softmax on the logits, or one sigmoid per output left alone (multi-label)",
                    "the double squashing on a confident network and on a multi-label one"),
    "corr-ch03-1": ("the backward pass started from $\\partial J/\\partial a = a - y$",
                    "$\\Delta^{(L)} = a - y$ at the logits, for softmax with cross-entropy",
                    "the three candidate gradients for one digit against autograd"),
    "corr-ch03-2": ("a garbled backward pass without the loss, the incoming error or $f'(z)$",
                    "the error recursion {eq}`eq-ch3-delta-recursion` and the outer-product weight gradient "
                    "{eq}`eq-ch3-grad-w`",
                    "the runnable relative of the error: a factor $f'(z)$ left out, caught by the gradient check"),
    "corr-ch04-1": ("momentum as $\\theta \\leftarrow \\theta - \\eta\\nabla L + \\beta v$ with $v$ never defined",
                    "$v$ is the running velocity of the classic or PyTorch form of momentum",
                    "both readings on the quadratic: plain gradient descent, or a drift to the wrong point"),
    "corr-ch04-2": ("Adam's moments with $(g_t - m_{t-1})$, and an 'adaptive learning rate' ratio of means",
                    "$m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g_t$, the same for $v_t$ with $g_t^2$, bias correction, "
                    "and a step $\\eta\\,\\hat m/(\\sqrt{\\hat v} + \\epsilon)$",
                    "both wrong versions against Adam on the same problem"),
    "corr-ch05-1": ("random continuous 'labels' with binary cross-entropy and accuracy",
                    "real classes, a baseline, and metrics that fit the labels",
                    "the pattern itself: accuracy 0 in every epoch and a loss that cannot fall below the "
                    "targets' entropy"),
    "corr-ch07-1": ("a whitespace tokenizer on Chinese text",
                    "characters or jieba words",
                    "the pipeline on real reviews: one 'word' per review, almost every validation id unknown"),
    "corr-ch07-2": ("the embedding lookup written $E \\cdot x$ with $x \\in \\mathbb{R}^{n \\times d}$",
                    "ids select rows: $E[x]$, the one-hot matrix times $E \\in \\mathbb{R}^{V \\times d}$",
                    "the product with this chapter's vocabulary, which fails on its shapes"),
    "corr-ch08-1": ("a training log of 1,875 steps per epoch for 20,000 samples at batch 64",
                    "$\\lceil 20000/64 \\rceil = 313$ steps; the log came from another run",
                    "nothing (the data of that log is not offline); the chapter's own logs are its evidence"),
    "corr-ch08-2": ("a ten-unit softmax head for a two-class problem",
                    "two logits with a softmax, or one sigmoid unit with binary cross-entropy",
                    "`build_keras_classifier(..., n_classes=2)` and the one-unit equivalence of exercise 8.5"),
    "corr-ch09-1": ("self-attention weights $\\mathrm{softmax}(hW_Q/\\sqrt d)$, with no keys",
                    "$\\mathrm{softmax}(QK^\\top/\\sqrt{d_k})$, the softmax over the keys",
                    "the wrong form: a softmax over each token's features, comparing no positions"),
    "corr-ch09-2": ("cross-attention weights from the decoder states and $W_K$ only",
                    "queries from the decoder, keys and values from the encoder",
                    "the wrong weights with the source sentence replaced: they do not change"),
    "corr-ch10-1": ("an FFN whose two weight matrices are both $d' \\times d$",
                    "$W_1 \\in \\mathbb{R}^{d \\times d_{\\mathrm{ff}}}$, $W_2 \\in \\mathbb{R}^{d_{\\mathrm{ff}} "
                    "\\times d}$, biases of sizes $d_{\\mathrm{ff}}$ and $d$",
                    "the three readings of the wrong shapes, each failing"),
    "corr-ch11-1": ("a second cross-entropy added to `outputs.loss`",
                    "one loss: `outputs.loss` with the labels passed, or `F.cross_entropy` without",
                    "the doubled loss and gradients, under SGD and under Adam"),
    "corr-ch12-1": ("perplexity as $2^{\\mathcal{L}}$ for a loss in nats",
                    "$e^{\\mathcal{L}}$: the exponential in the base of the loss",
                    "both for the unigram model"),
    "corr-ch12-2": ("temperature applied by dividing the probabilities by $\\tau$",
                    "divide the logits by $\\tau$ (or raise the probabilities to $1/\\tau$)",
                    "all three on the same distribution: the wrong one changes nothing"),
    "corr-ch12-3": ("a text model such as GPT-3 'creates artworks' or 'designs clothes'",
                    "a language model outputs tokens of its vocabulary; images come from other model families",
                    "nothing to run: the chapter's model outputs character ids and nothing else"),
    "corr-ch13-1": ("training memory as parameters times 4 bytes",
                    "16 bytes per parameter for Adam (fp32 or mixed precision) before any activation",
                    "the rule against the measured training state and two published sizes"),
    "corr-ch13-2": ("a language model's activations counted from its layers only",
                    "layers plus the logits and their log-softmax, which recomputation keeps",
                    "both counts for GPT-2 XL: recomputation gains 6.8-fold, not 12.6"),
    "corr-ch14-1": ("'dynamic load balancing': faster workers get more examples, results averaged",
                    "equal shards, or a size-weighted sum of the shard gradients",
                    "shards of 40 and 8 texts: each small-shard text gets three times its weight"),
    "corr-ch17-1": ("a sentiment model 'understands consumer sentiment' in any text",
                    "validation on labelled texts of the domain of use, read against its majority rate",
                    "film-trained TF-IDF on tweets: 0.57 against 0.68 for always saying positive"),
    "corr-ch17-2": ("'BERT-like' models serve every language",
                    "a model reads only the languages of its vocabulary and pretraining",
                    "MiniLM maps 64 % of Chinese WordPiece pieces to [UNK]; fine-tuned, it scores near chance"),
    "corr-ch19-1": ("a diagnostic model judged by its accuracy",
                    "sensitivity and specificity with intervals, predictive values at the prevalence of use, "
                    "calibration; outcomes only from a trial",
                    "PPV of one test at prevalences 37 %, 5 % and 0.5 %: 0.79, 0.25, 0.03"),
    "corr-ch19-2": ("'large amounts of medical data' make a prediction credible",
                    "validation that keeps every use of the labels inside the folds, then a test set",
                    "genes chosen outside the folds score about 0.5 on random labels; inside, chance"),
    "corr-ch20-1": ("'predict the stock market' for 'high-return trading'",
                    "no measured skill on daily returns; costs and leak-free (walk-forward) evaluation decide",
                    "R^2 below zero walking forward, 0.6 with a shuffled split; 0.1 % costs turn a gain into a loss"),
    "corr-ch20-2": ("recommendations 'increase sales' because they rank buyers high",
                    "lift on past data is association; the sales caused (uplift) need a randomised test",
                    "lift of 3-4 at the top of the Caravan list, and why it says nothing about sales caused"),
}


def callouts() -> list[tuple[str, Path, str, str]]:
    """(label or "", notebook, first sentence or bold title, body) for every warning callout, in book order."""
    found = []
    for path in sorted((ROOT / "book").glob("part*/ch*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for match in CALLOUT.finditer("".join(cell["source"])):
                name = re.search(r"^:name:\s*(\S+)", match.group(2), re.M)
                found.append((name.group(1) if name else "", path, match.group(3)))
    return [(label, path, _title(body), body) for label, path, body in found]


def _title(body: str) -> str:
    bold = re.match(r"\s*\*\*(.+?)\*\*", body, re.S)
    if bold:
        return bold.group(1).replace("\n", " ").rstrip(".")
    sentence = re.match(r"\s*(.+?[.:])(\s|$)", body, re.S)
    return (sentence.group(1) if sentence else body.strip()).replace("\n", " ").rstrip(".:")


def render() -> str:
    lines = [
        "# Appendix: corrected derivations",
        "",
        "<!-- Written by tools/corrections_appendix.py from the chapters' warning callouts; edit the",
        "     callouts or that script, not this page. -->",
        "",
        "Much of what circulates about neural networks is subtly wrong. Each chapter corrects the wrong",
        "forms it meets in a warning callout beside the correct derivation, and, wherever the wrong form",
        "can run, a cell next to the callout runs both. This appendix lists every such correction, in the",
        "order of the book. The link goes to the callout; the cell that runs both is next to it.",
        "",
    ]
    chapter = None
    for label, path, title, _ in callouts():
        wrong, right, runs = CORRECTIONS[label]
        number = int(label.split("-")[1][2:])
        if number != chapter:
            chapter = number
            lines += [f"## Chapter {number}: {{doc}}`../{path.parent.name}/{path.stem}`", ""]
        lines += [f"**{title}** ({{ref}}`the callout <{label}>`)", "",
                  f"- Wrong: {wrong}.", f"- Correct: {right}.", f"- Run in the chapter: {runs}.", ""]
    return "\n".join(lines)


def main() -> int:
    unnamed = [f"{path.name}: {title}" for label, path, title, _ in callouts() if not label]
    if unnamed:
        sys.exit("every warning callout needs :name: corr-chNN-K; these have none:\n" + "\n".join(unnamed))
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
