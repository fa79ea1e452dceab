"""Sphinx extension: a chapter's number is the one in its file name (``ch18_...`` is chapter 18).

Jupyter Book numbers chapters by counting them in the table of contents, so
a chapter not yet written would renumber every chapter after it, and with
them every equation: chapter 18 would be printed as 17 and its equation
(18.1) as (17.1), unlike the companion docstrings that cite them. This
extension runs after the numbering (``sphinx-multitoc-numbering``'s, which
continues across parts, and ``sphinx-external-toc``'s, which renumbers after
it) and replaces the first component of every section number of a ``chNN_``
document with NN. Figure and equation numbers are
assigned from these afterwards, so they follow.
"""

from __future__ import annotations

import re

from docutils import nodes

_CHAPTER_FILE = re.compile(r"(?:^|/)ch(\d+)_[^/]*$")


def _renumber(number, chapter: int):
    return number if not number else (chapter, *tuple(number)[1:])


def _fix_document(env, docname: str, chapter: int) -> bool:
    secnumbers = env.toc_secnumbers.get(docname)
    if not secnumbers:
        return False
    fixed = {anchor: _renumber(number, chapter) for anchor, number in secnumbers.items()}
    changed = fixed != secnumbers
    env.toc_secnumbers[docname] = fixed
    for reference in env.tocs[docname].findall(nodes.reference):
        if reference.get("secnumber"):
            reference["secnumber"] = list(_renumber(reference["secnumber"], chapter))
    title = env.titles.get(docname)
    if title is not None and title.get("secnumber"):
        title["secnumber"] = list(_renumber(title["secnumber"], chapter))
    return changed


def _numbers_from_file_names(numbering):
    """Wrap an ``assign_section_numbers`` so that it ends by applying the file-name numbers."""

    def assign_section_numbers(self, env):
        rewrite_needed = list(numbering(self, env))
        for docname in list(env.toc_secnumbers):
            match = _CHAPTER_FILE.search(docname)
            if match and _fix_document(env, docname, int(match.group(1))) and docname not in rewrite_needed:
                rewrite_needed.append(docname)
        return rewrite_needed

    assign_section_numbers._numbers_from_file_names = True
    return assign_section_numbers


def _collector_classes():
    """Sphinx's toctree collector and every subclass that numbers on its own (sphinx-external-toc's)."""
    from sphinx.environment.collectors.toctree import TocTreeCollector

    pending, found = [TocTreeCollector], []
    while pending:
        cls = pending.pop()
        if "assign_section_numbers" in vars(cls):
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _wrap_numbering(app) -> None:
    # the multitoc extension replaces Sphinx's method, and sphinx-external-toc's collector
    # renumbers after calling it, so every class that defines the method is wrapped
    for cls in _collector_classes():
        numbering = vars(cls)["assign_section_numbers"]
        if not getattr(numbering, "_numbers_from_file_names", False):
            cls.assign_section_numbers = _numbers_from_file_names(numbering)


def setup(app):
    # builder-inited comes after every extension's setup, so the multitoc patch is already in place
    app.connect("builder-inited", _wrap_numbering)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
