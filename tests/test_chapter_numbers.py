"""The book's Sphinx extension: a chapter keeps the number in its file name when earlier ones are missing."""

import sys
from pathlib import Path
from types import SimpleNamespace

from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import chapter_numbers  # noqa: E402


def _env(docname, counted):
    toc = nodes.bullet_list()
    reference = nodes.reference(secnumber=[counted])
    section = nodes.reference(secnumber=[counted, 2])
    toc += [reference, section]
    title = nodes.title(secnumber=[counted])
    return SimpleNamespace(
        toc_secnumbers={docname: {"": (counted,), "#queues": (counted, 2)}},
        tocs={docname: toc},
        titles={docname: title},
    ), reference, section, title


def test_a_chapter_counted_as_17_becomes_18():
    env, reference, section, title = _env("book/part4/ch18_vision_and_speech", 17)
    assert chapter_numbers._CHAPTER_FILE.search("book/part4/ch18_vision_and_speech").group(1) == "18"
    assert chapter_numbers._fix_document(env, "book/part4/ch18_vision_and_speech", 18)
    assert env.toc_secnumbers["book/part4/ch18_vision_and_speech"] == {"": (18,), "#queues": (18, 2)}
    assert reference["secnumber"] == [18] and section["secnumber"] == [18, 2] and title["secnumber"] == [18]


def test_a_chapter_already_right_is_not_rewritten():
    env, *_ = _env("book/part3/ch16_serving", 16)
    assert not chapter_numbers._fix_document(env, "book/part3/ch16_serving", 16)
    assert chapter_numbers._CHAPTER_FILE.search("book/front/preface") is None


def test_the_wrapper_renumbers_after_whatever_numbered_before_it():
    docname = "book/part4/ch18_vision_and_speech"
    env, reference, *_ = _env(docname, 17)

    def counting(self, env):  # stands for the multitoc or external-toc numbering
        env.toc_secnumbers[docname] = {"": (17,), "#queues": (17, 2)}
        return []

    wrapped = chapter_numbers._numbers_from_file_names(counting)
    assert wrapped(None, env) == [docname]
    assert env.toc_secnumbers[docname]["#queues"] == (18, 2) and reference["secnumber"] == [18]


def test_every_collector_that_numbers_is_found():
    import pytest

    collectors = pytest.importorskip("sphinx_external_toc.collectors")
    from sphinx.environment.collectors.toctree import TocTreeCollector

    found = chapter_numbers._collector_classes()
    assert TocTreeCollector in found and collectors.TocTreeCollectorWithStyles in found
