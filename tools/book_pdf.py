"""Print the whole book to one PDF with the system Chromium (`make pdf`).

Input: the single-page build, ``jupyter-book build --builder singlehtml .``, in
``_build/singlehtml`` (`make pdf` runs it). The page is served on 127.0.0.1,
MathJax typesets every formula exactly as in the HTML book, every solution
dropdown is opened (a printed book has no buttons to click; sphinx-togglebutton's
print style shows them too, but the PDF should not hang on that), and Chromium's own
PDF printer writes ``_build/pdf/book.pdf`` on A4 with a bookmark outline from the
headings. Nothing leaves the machine; the browser is the one the browser test
uses (tools/chromium.py).

    python tools/book_pdf.py [--out PATH]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import chromium
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject

ROOT = Path(__file__).resolve().parents[1]
SINGLE = ROOT / "_build" / "singlehtml"
PAGE = "book/intro.html"
# Sphinx writes the single page under its document name (book/intro.html) but makes its
# links relative to the build root, so it is printed from a copy at the root.
AT_ROOT = "whole_book.html"
PDF = ROOT / "_build" / "pdf" / "book.pdf"

# A printed page cannot scroll: code and outputs wrap instead of scrolling sideways,
# every chapter starts on a new page, and the single page's navigation (sidebars, header buttons) is left out.
PRINT_CSS = """
@media print {
  div.cell_input pre, div.cell_output pre, div.highlight pre { white-space: pre-wrap !important;
    overflow-wrap: anywhere; overflow: visible !important; }
  div.math { overflow: visible !important; }
  .bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article, .header-article-items,
  .prev-next-area, .bd-footer-content, .toggle-button { display: none !important; }
  .bd-main .bd-content .bd-article-container { max-width: 100% !important; }
  span[id^="document-book/"] + section { break-before: page; }
  figure, img, div.math { break-inside: avoid; }
  h1, h2, h3, h4 { break-inside: avoid; }
}
"""

# The headings Chromium turns into the PDF's bookmarks, in document order, as a reader
# reads them (a formula as its characters, a square root as the root sign). Chromium's own bookmark titles drop the
# space at a line break and repeat the first line of a heading printed at the top of a page,
# so the titles are replaced by these.
HEADINGS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role="heading"]')]
  .filter(h => h.getClientRects().length > 0)
  .map(h => {
    const copy = h.cloneNode(true);
    copy.querySelectorAll('a.headerlink').forEach(e => e.remove());
    // CHTML draws glyphs with CSS; the characters are in the hidden MathML copy.
    copy.querySelectorAll('mjx-container').forEach(m => {
      const mml = m.querySelector('mjx-assistive-mml') || m;
      mml.querySelectorAll('msqrt').forEach(s => s.prepend('\u221a'));
      m.replaceWith(mml.textContent.replace(/\\s+/g, ''));
    });
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  })"""

OPEN_DROPDOWNS = """() => {
  const buttons = [...document.querySelectorAll('div.admonition.dropdown button.toggle-button')];
  buttons.forEach(b => b.click());
  return buttons.length;
}"""


def print_book(out: Path = PDF, single: Path = SINGLE) -> dict:
    """Write the PDF; return what was printed (formulas, dropdowns opened, bytes, seconds)."""
    from playwright.sync_api import sync_playwright

    if not (single / PAGE).exists():
        raise FileNotFoundError(f"no single-page build at {single / PAGE}: run "
                                "`jupyter-book build --builder singlehtml .` (or `make pdf`) first")
    browser_path = chromium.find_browser()
    if browser_path is None:
        raise RuntimeError(chromium.NOT_FOUND + ", then `make pdf`")
    out.parent.mkdir(parents=True, exist_ok=True)
    (single / AT_ROOT).write_bytes((single / PAGE).read_bytes())
    start = time.perf_counter()
    with chromium.serve(single) as base_url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=chromium.CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith((base_url, "data:", "blob:", "about:"))
                else outside.append(r.url))
        page.goto(base_url + AT_ROOT, wait_until="load", timeout=300_000)
        chromium.wait_for_mathjax(page, timeout_ms=300_000)
        if not page.evaluate(chromium.CHINESE_GLYPHS_DRAWN):
            raise RuntimeError(chromium.NO_CHINESE_FONT)
        opened = page.evaluate(OPEN_DROPDOWNS)
        page.add_style_tag(content=PRINT_CSS)
        page.emulate_media(media="print")
        headings = page.evaluate(HEADINGS)
        formulas = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        untypeset = page.evaluate("() => [...document.querySelectorAll('span.math, div.math')]"
                                  ".filter(e => !e.querySelector('mjx-container')).length")
        if untypeset:
            raise RuntimeError(f"MathJax left {untypeset} formulas untypeset; the PDF would show raw TeX")
        if outside:
            raise RuntimeError(f"the page asked for something outside the machine: {outside[:3]}")
        page.pdf(path=str(out), format="A4", print_background=True, outline=True, tagged=True,
                 margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"})
        browser.close()
    retitle_bookmarks(out, headings)
    return {"formulas": formulas, "dropdowns opened": opened, "bookmarks": len(headings),
            "pages": len(PdfReader(out).pages), "bytes": out.stat().st_size,
            "seconds": round(time.perf_counter() - start, 1)}


def _flatten(outline: list) -> list:
    items = []
    for item in outline:
        items.extend(_flatten(item) if isinstance(item, list) else [item])
    return items


def retitle_bookmarks(pdf: Path, headings: list[str]) -> None:
    """Give each of Chromium's bookmarks (same order, same pages) its heading's text."""
    # Chromium's cross-reference table is one entry short; pypdf repairs it and says so.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    writer = PdfWriter(clone_from=pdf)
    bookmarks = _flatten(writer.outline)
    if len(bookmarks) != len(headings):
        raise RuntimeError(f"Chromium made {len(bookmarks)} bookmarks for {len(headings)} headings; "
                           "cannot tell which title belongs to which")
    for bookmark, title in zip(bookmarks, headings):
        bookmark.indirect_reference.get_object()[NameObject("/Title")] = TextStringObject(title)
    with open(pdf, "wb") as f:
        writer.write(f)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PDF, help=f"the PDF to write (default {PDF.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    facts = print_book(args.out)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
