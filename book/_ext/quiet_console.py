"""Sphinx extension: pages whose browser console shows no error.

Three errors were logged by every page of the book in Chromium
(tests/test_book_in_browser.py finds them):

- An inline script added while documents are read
  (``app.add_js_file(None, body=...)``) appears twice in every page under
  Sphinx 7.4: once as registered (file name ``None``) and once copied from the
  registry when the pages are written (file name ``""``), which Sphinx does not
  see as the same script. sphinx-thebe's ``const THEBE_JS_URL = ...`` declared
  twice is a JavaScript error ("Identifier 'THEBE_JS_URL' has already been
  declared"). The repeats are dropped from each page's script list, keeping the
  first of each, in order.
- On a reader's first visit the theme reads an empty colour mode and logs
  "Got invalid theme mode: ." (pydata-sphinx-theme's layout reads the template
  variable ``default_mode``, which sphinx-book-theme never sets). It is set to
  ``auto`` (follow the system), what the theme falls back to anyway.
- Without an icon the browser asks for /favicon.ico and logs a 404; the book
  has its own (book/_static/favicon.svg, set in _config.yml).
"""

from __future__ import annotations


def _key(script) -> tuple:
    return (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))


def drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of each script in the page's list (html-page-context)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _key(script) if hasattr(script, "attributes") else (str(script),)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def default_colour_mode(app, config) -> None:
    """Give the theme a colour mode for a first visit (config-inited)."""
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


def setup(app):
    app.connect("config-inited", default_colour_mode)
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
