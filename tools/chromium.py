"""The system Chromium, offline, for the browser test and the PDF of the book.

Both open the built book in the same browser the same way: a local HTTP server on
127.0.0.1 (search and MathJax's font loading need http://, not file://) and
Chromium started with its background connections switched off, so that nothing
tries to leave the machine.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

# Without these flags Chromium tries to reach Google's servers at every start (and
# fails offline); --no-sandbox lets it run as root in a container.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic"]

NOT_FOUND = ("no Chromium or Chrome found: install one (Debian/Ubuntu: `apt-get install chromium`; "
             "macOS: Google Chrome) or set BOOK_BROWSER=/path/to/the/browser")


def find_browser() -> str | None:
    """BOOK_BROWSER if set, else the first Chromium or Chrome found; None when there is none."""
    candidates = [os.environ.get("BOOK_BROWSER"), shutil.which("chromium"), shutil.which("chromium-browser"),
                  shutil.which("google-chrome"), "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                  "/Applications/Chromium.app/Contents/MacOS/Chromium"]
    return next((c for c in candidates if c and Path(c).exists()), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # callers report what matters; no access log
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 at a free port; yields the base URL (ending in /)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def wait_for_mathjax(page, timeout_ms: float = 30_000) -> None:
    """Return once MathJax (when the page loads it) has typeset every formula."""
    if page.evaluate("() => Boolean(document.querySelector('script[src*=\"mathjax\"]'))"):
        page.wait_for_function("() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise",
                               timeout=timeout_ms)
        page.evaluate("() => window.MathJax.startup.promise")


# Whether the browser has a font for Chinese: the same characters drawn on a canvas in the
# page's own font, against a code point no font has (drawn as the empty "tofu" box). Where
# no installed font covers Chinese the two images are the same.
CHINESE_GLYPHS_DRAWN = """() => {
  const draw = (text) => {
    const canvas = document.createElement('canvas');
    canvas.width = 120; canvas.height = 40;
    const ctx = canvas.getContext('2d');
    ctx.font = '28px ' + getComputedStyle(document.body).fontFamily;
    ctx.fillText(text, 4, 30);
    return Array.from(ctx.getImageData(0, 0, 120, 40).data).join(',');
  };
  return draw('\\u68c0\\u67e5\\u70b9') !== draw('\\u{10fffd}\\u{10fffd}\\u{10fffd}');
}"""

NO_CHINESE_FONT = ("the browser has no font for Chinese characters, which would print as empty boxes: "
                   "install one (Debian/Ubuntu: `apt-get install fonts-noto-cjk`)")
