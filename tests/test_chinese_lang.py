"""book/_ext/chinese_lang.py marks Chinese text as Chinese, and leaves scripts, math and tags alone."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

from chinese_lang import mark_chinese  # noqa: E402


def test_runs_of_chinese_are_wrapped():
    assert mark_chinese("<p>a review: 这本书很好。 end</p>") == (
        '<p>a review: <span lang="zh-Hans">这本书很好。</span> end</p>')
    assert mark_chinese("<td>损失函数</td><td>loss</td>") == (
        '<td><span lang="zh-Hans">损失函数</span></td><td>loss</td>')


def test_two_words_separated_by_a_space_are_one_run():
    assert mark_chinese("<p>建议 很好</p>") == '<p><span lang="zh-Hans">建议 很好</span></p>'


def test_scripts_math_attributes_and_english_are_left_alone():
    untouched = ['<script>var s = "中文";</script>', '<span class="math notranslate">\\(\\text{中}\\)</span>',
                 '<a title="中文" href="x">link</a>', "<p>only English</p>", "<!-- 注释 -->"]
    for html in untouched:
        assert mark_chinese(html) == html, html


def test_text_after_a_closed_script_or_math_element_is_marked_again():
    html = '<p><span class="math">x</span> 好 <script>1</script>坏<br>中</p>'
    assert mark_chinese(html) == ('<p><span class="math">x</span> <span lang="zh-Hans">好</span> <script>1</script>'
                                  '<span lang="zh-Hans">坏</span><br><span lang="zh-Hans">中</span></p>')
