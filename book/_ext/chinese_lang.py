"""Sphinx extension: Chinese text marked as Chinese, so that browsers draw Chinese glyphs.

Every page is ``lang="en"``. A browser picks the glyphs of a Han character by
the language of its element, and with ``en`` many systems fall back to a
Japanese font, whose forms of characters such as 说, 这 and 门 differ from the
Chinese ones. This extension wraps each run of Chinese characters in the body
of a page (chapter 7's reviews, the glossary, printed outputs) in
``<span lang="zh-Hans">``, outside scripts, styles and mathematics (MathJax
reads the text of math elements, which a span would break).
tests/test_book_in_browser.py checks that every Chinese text node of the built
book sits inside an element whose language is Chinese.
"""

from __future__ import annotations

import re

# Han ideographs, CJK punctuation and full-width forms; a run may contain spaces between them.
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+(?:\s+[\u3400-\u4dbf\u4e00-\u9fff]+)*")
TAG = re.compile(r"(<[^>]*>)")
NAME = re.compile(r"<\s*(/?)\s*([A-Za-z][\w-]*)")
SKIPPED = {"script", "style", "textarea", "title"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _is_math(tag: str) -> bool:
    classes = re.search(r"""class\s*=\s*["']([^"']*)["']""", tag)
    return classes is not None and "math" in classes.group(1).split()


def mark_chinese(html: str) -> str:
    """``html`` with each run of Chinese text outside scripts, styles and math in a ``lang="zh-Hans"`` span."""
    out, stack = [], []  # stack: (tag name, whether it starts a skipped region)
    for piece in TAG.split(html):
        if piece.startswith("<"):
            out.append(piece)
            match = NAME.match(piece)
            if match is None or piece.startswith("<!") or piece.endswith("/>"):
                continue
            closing, name = match.group(1) == "/", match.group(2).lower()
            if closing:
                for depth in range(len(stack) - 1, -1, -1):  # pop to the matching open tag
                    if stack[depth][0] == name:
                        del stack[depth:]
                        break
            elif name not in VOID:
                stack.append((name, name in SKIPPED or _is_math(piece)))
        elif piece and not any(skipped for _, skipped in stack):
            out.append(CHINESE.sub(lambda m: f'<span lang="zh-Hans">{m.group(0)}</span>', piece))
        else:
            out.append(piece)
    return "".join(out)


def mark_page(app, pagename, templatename, context, doctree) -> None:
    """Mark the Chinese text of a page's body (html-page-context)."""
    if isinstance(context.get("body"), str):
        context["body"] = mark_chinese(context["body"])


def setup(app):
    app.connect("html-page-context", mark_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
