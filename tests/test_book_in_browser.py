"""The built book, page by page, in a real browser (headless Chromium driven by Playwright).

What a reader sees, checked on every page of ``_build/html`` served on 127.0.0.1:

- no error in the browser console and no uncaught exception;
- no request leaving the machine (everything the book needs is inside it);
- MathJax finished, with no formula left untypeset and no MathJax error;
- at 1280 px, no display equation, code cell or output wider than its column
  (a cut-off equation hid its end behind the equation number);
- at 390 px (a phone), no horizontal scrolling of the page itself;
- every image loaded;
- every solution dropdown closed on load and open after a click;
- search finds an English and a Chinese word.

It needs the built book and Chromium, so it is not part of `make unit`: `make
browser` (part of `make test`, after the book build) runs it with
BOOK_BROWSER_TEST=1. Without Chromium it is skipped with a message, unless
BOOK_BROWSER_REQUIRED=1 (set by .ci/run, which installs Debian's chromium).
BOOK_BROWSER=/path/to/chrome chooses the browser.
"""

from __future__ import annotations

import importlib.util
import os
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
WIDE, PHONE = 1280, 390

if os.environ.get("BOOK_BROWSER_TEST") != "1":
    pytest.skip("the browser test runs after the book build: `make browser` (or `make test`)",
                allow_module_level=True)

# The browser, its offline flags and the local server are shared with `make pdf` (tools/chromium.py).
_spec = importlib.util.spec_from_file_location("tools_chromium", ROOT / "tools" / "chromium.py")
chromium = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(chromium)

BROWSER = chromium.find_browser()
if BROWSER is None:
    message = chromium.NOT_FOUND + ", then `make browser`"
    if os.environ.get("BOOK_BROWSER_REQUIRED") == "1":
        raise RuntimeError(message)
    pytest.skip(message, allow_module_level=True)
if not (HTML / "index.html").exists():
    raise RuntimeError(f"no built book at {HTML}: run `make book` first")

playwright_api = pytest.importorskip("playwright.sync_api")


def _is_redirect(path: Path) -> bool:
    """index.html only sends the browser on to the first page (a meta refresh)."""
    return 'http-equiv="Refresh"' in path.read_text(encoding="utf-8")[:2000]


PAGES = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
               if "_static" not in p.parts and "_sources" not in p.parts and not _is_redirect(p))
CHAPTERS = [p for p in PAGES if p.startswith("book/")]


@pytest.fixture(scope="module")
def base_url():
    with chromium.serve(HTML) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=BROWSER, args=chromium.CHROMIUM_FLAGS)
        yield launched
        launched.close()


class Visit:
    """One page opened at one width, with what it logged and requested."""

    def __init__(self, browser, base_url: str, page_name: str, width: int):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed request: {r.url}"))
        self.page.on("request", lambda r: None if r.url.startswith((base_url, "data:", "blob:", "about:"))
                     else self.outside.append(r.url))
        self.page.goto(base_url + page_name, wait_until="load")
        chromium.wait_for_mathjax(self.page)

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, base_url):
    opened = []

    def open_page(page_name: str, width: int = WIDE) -> Visit:
        opened.append(Visit(browser, base_url, page_name, width))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


# Elements wider than their box at 1280 px: display equations (div.math scrolls
# when its formula is wider), code cells and their printed outputs.
TOO_WIDE = """() => {
  const found = [];
  const describe = (e) => (e.closest('[id]') || {}).id || e.textContent.trim().slice(0, 60);
  for (const e of document.querySelectorAll('div.math')) {
    const m = e.querySelector('mjx-container');
    if (e.scrollWidth > e.clientWidth + 1 || (m && m.scrollWidth > m.clientWidth + 1))
      found.push(`equation ${describe(e)}: ${e.scrollWidth} px in ${e.clientWidth} px`);
  }
  for (const [kind, sel] of [['code', 'div.cell_input pre'], ['output', 'div.cell_output pre']])
    for (const e of document.querySelectorAll(sel))
      if (e.scrollWidth > e.clientWidth + 1)
        found.push(`${kind} "${e.textContent.trim().slice(0, 50)}": ${e.scrollWidth} px in ${e.clientWidth} px`);
  return found;
}"""

MATH_STATE = """() => ({
  untypeset: [...document.querySelectorAll('span.math, div.math')]
      .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60)),
  errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 60)),
  formulas: document.querySelectorAll('mjx-container').length,
})"""

# Chinese text whose element is not marked as Chinese (book/_ext/chinese_lang.py), outside math.
UNMARKED_CHINESE = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!/[\u4e00-\u9fff]/.test(node.data)) continue;
    const parent = node.parentElement;
    if (parent.closest('script, style, mjx-container, .math')) continue;
    const lang = (parent.closest('[lang]') || {}).lang || '';
    if (!lang.startsWith('zh')) found.push(node.data.trim().slice(0, 30));
  }
  return found;
}"""

IMAGES = """() => [...document.querySelectorAll('img')]
  .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))"""


def test_the_book_has_its_pages():
    assert "book/intro.html" in PAGES and "search.html" in PAGES
    assert len(CHAPTERS) >= 17, CHAPTERS


def _check_solutions(v: Visit, page_name: str) -> None:
    """Every solution dropdown is closed on load and opens on a click."""
    dropdowns = v.page.locator("div.admonition.dropdown")
    if "/part" in page_name:
        assert dropdowns.count() >= 1, f"{page_name}: no solution dropdown"
    for i in range(dropdowns.count()):
        dropdown = dropdowns.nth(i)
        body = dropdown.locator(":scope > :not(.admonition-title)").first
        assert not body.is_visible(), f"{page_name}: dropdown {i} is open on load"
        dropdown.locator("button.toggle-button").click()
        body.wait_for(state="visible")


@pytest.mark.parametrize("page_name", PAGES)
def test_page(visit, page_name):
    """Every check of the module docstring on one page: at 1280 px, then at phone width."""
    v = visit(page_name)
    assert v.errors == [], f"{page_name}: console errors {v.errors}"
    assert v.outside == [], f"{page_name}: requests leaving the machine {v.outside}"
    math = v.page.evaluate(MATH_STATE)
    assert math["untypeset"] == [], f"{page_name}: formulas MathJax left untypeset {math['untypeset']}"
    assert math["errors"] == [], f"{page_name}: MathJax errors {math['errors']}"
    assert v.page.evaluate(TOO_WIDE) == [], f"{page_name}: wider than the column at {WIDE} px"
    assert v.page.evaluate(IMAGES) == [], f"{page_name}: images that did not load"
    unmarked = v.page.evaluate(UNMARKED_CHINESE)
    assert unmarked == [], f"{page_name}: Chinese text in an element that is not lang=zh: {unmarked[:5]}"
    v.page.set_viewport_size({"width": PHONE, "height": 800})
    v.page.wait_for_timeout(300)  # the theme re-lays the page out on resize
    width = v.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE, f"{page_name}: the page scrolls sideways at {PHONE} px ({width} px wide)"
    v.page.set_viewport_size({"width": WIDE, "height": 900})
    _check_solutions(v, page_name)
    assert v.errors == [], f"{page_name}: console errors after resizing and clicking {v.errors}"


def test_chapters_typeset_their_formulas(visit):
    v = visit("book/part1/ch04_optimizers.html")
    assert v.page.evaluate(MATH_STATE)["formulas"] > 50


SEARCHES = [("gradient", "ch03_backpropagation"), ("手机", "ch07_text_as_tensors")]


@pytest.mark.parametrize("term, expected_page", SEARCHES)
def test_search_finds_english_and_chinese(visit, term, expected_page):
    v = visit("search.html?q=" + urllib.parse.quote(term))
    v.page.wait_for_function("() => (document.querySelector('#search-results .search-summary') || {})"
                             ".textContent")
    links = v.page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    assert any(expected_page in link for link in links), f"search for {term!r} found {links}"


def test_chinese_characters_have_a_font(visit):
    """Without a font for Chinese the glossary and chapters 7-8 show empty boxes (tofu)."""
    v = visit("book/appendix/glossary.html")
    assert v.page.evaluate(chromium.CHINESE_GLYPHS_DRAWN), chromium.NO_CHINESE_FONT
