"""The PDF of the book (`make pdf`, tools/book_pdf.py), read back with pypdf.

What a reader of the PDF needs, checked on ``_build/pdf/book.pdf``:

- every chapter and appendix, in the table of contents' order, as a bookmark with its
  number and title, and its title in the text;
- typeset formulas: none of the TeX commands the book's formulas use appears as raw text,
  and the typeset symbols do;
- every figure of the single-page build embedded;
- every solution printed open, and the Chinese of the glossary present.

It needs the PDF, so it is not part of `make unit`: `make pdf-test` (part of `make test`)
prints the book and runs it with BOOK_PDF_TEST=1.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "pdf" / "book.pdf"
IMAGES = ROOT / "_build" / "singlehtml" / "_images"

if os.environ.get("BOOK_PDF_TEST") != "1":
    pytest.skip("the PDF test runs after the PDF is printed: `make pdf-test` (or `make test`)",
                allow_module_level=True)
if not PDF.exists():
    raise RuntimeError(f"no PDF at {PDF}: run `make pdf` first")

from pypdf import PdfReader  # noqa: E402

from companion.exercises.student import SOLUTION, chapter_number  # noqa: E402


# Some CJK characters come out of the PDF's text layer as radicals (⽂ for 文, ⻓ for 长): NFKC
# maps the Kangxi radicals back, but not those of the CJK Radicals Supplement, which match any
# character of a term (RADICAL).
RADICAL = "\x00"
SUPPLEMENT = {c: RADICAL for c in range(0x2E80, 0x2F00)}


def _squeeze(text: str) -> str:
    """Text compared without layout: NFKC, typographic apostrophes as typed, no whitespace
    (lines break anywhere), lower case."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").translate(SUPPLEMENT)
    return "".join(text.split()).lower()


def _contains(text: str, phrase: str) -> bool:
    pattern = "".join(f"(?:{re.escape(c)}|{RADICAL})" if ord(c) > 0x2E80 else re.escape(c) for c in phrase)
    return re.search(pattern, text) is not None


@functools.cache
def reader() -> PdfReader:
    return PdfReader(PDF)


@functools.cache
def pdf_text() -> str:
    return "\n".join(page.extract_text() for page in reader().pages)


def bookmarks() -> list[str]:
    def flatten(outline):
        for item in outline:
            yield from flatten(item) if isinstance(item, list) else [item.title]
    return list(flatten(reader().outline))


def _source(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def _title(path: Path) -> str:
    line = next(line for line in _source(path).splitlines() if line.startswith("# "))
    return line[2:].replace("`", "").strip()


def book_files() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [next(ROOT.glob(f + ".*")) for f in files]


def expected_bookmark(path: Path) -> str:
    """Chapters are numbered by their file name (book/_ext/chapter_numbers.py); the rest are not."""
    title = _title(path)
    return f"{chapter_number(path)}. {title}" if path.name.startswith("ch") else title


def test_every_chapter_is_a_bookmark_in_order_and_in_the_text():
    marks = bookmarks()
    expected = [expected_bookmark(p) for p in book_files()]
    assert len(expected) >= 20, expected
    missing = [e for e in expected if e not in marks]
    assert missing == [], f"chapters without a bookmark in the PDF: {missing}"
    positions = [marks.index(e) for e in expected]
    assert positions == sorted(positions), "the bookmarks are not in the table of contents' order"
    text = _squeeze(pdf_text())
    assert [e for e in expected if _squeeze(e) not in text] == []


def test_bookmark_titles_are_the_headings_as_written():
    """Chromium's own titles repeat the first line of a heading printed at a page's top and drop
    the space at a line break ("forwardpass"); tools/book_pdf.py replaces them."""
    marks = bookmarks()
    doubled = [m for m in marks if re.search(r"(\b\w[\w ,.:'’-]{5,})\1", m)]
    assert doubled == [], f"bookmarks with a repeated run of text: {doubled}"
    assert "1. Neurons, layers and the forward pass" in marks


def _tex_commands(text: str) -> set[str]:
    return set(re.findall(r"\\([A-Za-z]{2,})", text))


def _raw_tex_candidates() -> set[str]:
    """TeX commands of the book's formulas that never occur in its code, inline code or outputs,
    so that any of them in the PDF's text is a formula MathJax did not typeset."""
    in_math, in_code = set(), set()
    for path in book_files():
        if path.suffix == ".ipynb":
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
                source = "".join(cell["source"])
                if cell["cell_type"] == "code":
                    outputs = json.dumps(cell.get("outputs", [])).replace("\\\\", "\\")
                    in_code |= _tex_commands(source) | _tex_commands(outputs)
                    continue
                code = re.findall(r"`[^`\n]+`|^```(?!\{).*?^```", source, re.M | re.S)
                in_code |= _tex_commands("\n".join(code))
                in_math |= _tex_commands(source)
        else:
            in_math |= _tex_commands(path.read_text(encoding="utf-8"))
    return in_math - in_code


def test_formulas_are_typeset_not_raw():
    candidates = _raw_tex_candidates()
    assert {"begin", "left", "theta", "nabla", "prod"} <= candidates, sorted(candidates)[:20]
    text = pdf_text()
    raw = sorted(c for c in candidates if re.search(rf"\\{c}(?![A-Za-z])", text))
    assert raw == [], f"raw TeX in the PDF (formulas left untypeset): {raw}"
    typeset = {symbol: text.count(symbol) for symbol in "∑√∂θσ"}
    assert min(typeset.values()) >= 20, f"too few typeset symbols: {typeset}"


def _embedded_images() -> int:
    seen, count = set(), 0

    def walk(resources):
        nonlocal count
        xobjects = resources.get_object().get("/XObject") if resources else None
        for ref in (xobjects.get_object().values() if xobjects else []):
            obj = ref.get_object()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.get("/Subtype") == "/Image":
                count += 1
            elif obj.get("/Subtype") == "/Form":
                walk(obj.get("/Resources"))

    for page in reader().pages:
        walk(page.get("/Resources"))
    return count


def test_every_figure_is_embedded():
    figures = len(list(IMAGES.iterdir()))
    assert figures >= 30, f"the single-page build has only {figures} figures"
    assert _embedded_images() >= figures


def _plain_phrase(body: str) -> str:
    """The longest run of plain words (no formula, code or markup) of a solution."""
    body = re.sub(r"^:\w+:.*$", " ", body, flags=re.M)
    body = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\{[a-z]+\}|\[[^\]]*\]\([^)]*\)|[*_]", "|", body, flags=re.S)
    runs = re.findall(r"[A-Za-z][A-Za-z ,'-]*[A-Za-z]", body.replace("\n", " "))
    return max(runs, key=len, default="")


def test_solutions_are_printed_open():
    phrases = []
    for path in book_files():
        if path.suffix == ".ipynb":
            phrases += [_plain_phrase(m["body"]) for m in SOLUTION.finditer(_source(path))]
    phrases = [p for p in phrases if len(p.split()) >= 4]
    assert len(phrases) >= 60, f"only {len(phrases)} solutions with a plain phrase"
    text = _squeeze(pdf_text())
    absent = [p for p in phrases if _squeeze(p) not in text]
    assert absent == [], f"{len(absent)} solutions not in the PDF (dropdowns printed closed?): {absent[:3]}"


def test_the_glossary_prints_its_chinese():
    spec = importlib.util.spec_from_file_location("tools_glossary", ROOT / "tools" / "glossary_appendix.py")
    glossary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(glossary)
    text = _squeeze(pdf_text())
    missing = [chinese for _, chinese, _ in glossary.TERMS if not _contains(text, _squeeze(chinese))]
    assert missing == [], f"glossary terms missing from the PDF: {missing[:10]}"
