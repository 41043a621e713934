"""split_front_matter: the YAML block at the top of a corpus file."""

from __future__ import annotations

import pytest
from legalqa.ingest.frontmatter import split_front_matter

DOC = """---
title: 中华人民共和国民法典
aliases: [民法典]
kind: statute
version: 2020-05-28
excerpt: true
---

# 中华人民共和国民法典
"""


def test_meta_and_body_offset():
    meta, offset = split_front_matter(DOC)
    assert meta == {
        "title": "中华人民共和国民法典",
        "aliases": ["民法典"],
        "kind": "statute",
        "version": "2020-05-28",
        "excerpt": True,
    }
    assert DOC[offset:] == "\n# 中华人民共和国民法典\n"


def test_dates_stay_strings():
    meta, _ = split_front_matter("---\nversion: 2020-05-28\neffective: 2021-01-01 10:00:00\n---\n")
    assert meta == {"version": "2020-05-28", "effective": "2021-01-01 10:00:00"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# 标题\n\n第一条 正文。\n",
        "\n---\ntitle: x\n---\n",  # not on the first line
        "----\ntitle: x\n----\n",  # a longer rule is not a fence
        "--- title: x\n",
    ],
)
def test_no_front_matter(text):
    assert split_front_matter(text) == ({}, 0)


def test_empty_block():
    text = "---\n---\n正文"
    assert split_front_matter(text) == ({}, 8)
    assert text[8:] == "正文"


def test_dots_close_the_block_and_eof_without_newline():
    assert split_front_matter("---\na: 1\n...\nbody") == ({"a": 1}, 13)
    text = "---\na: 1\n---"
    assert split_front_matter(text) == ({"a": 1}, len(text))


def test_bom_and_crlf():
    text = "\ufeff---\r\ntitle: 刑法\r\n---\r\n正文\r\n"
    meta, offset = split_front_matter(text)
    assert meta == {"title": "刑法"}
    assert text[offset:] == "正文\r\n"


def test_shared_book_hidden_block():
    meta, offset = split_front_matter("---\nbookHidden: true\n---\n\n# 标题\n")
    assert meta == {"bookHidden": True}
    assert offset == 25


def test_unclosed_block_is_an_error():
    with pytest.raises(ValueError, match="no closing '---'"):
        split_front_matter("---\ntitle: x\n\n# 标题\n")


def test_malformed_yaml_names_the_line():
    with pytest.raises(ValueError, match=r"malformed YAML front matter at line 3: mapping values"):
        split_front_matter("---\ntitle: x\nsource_note: 见: 第一条\n---\n")
    with pytest.raises(ValueError, match="malformed YAML front matter"):
        split_front_matter("---\ntitle: x\naliases: [民法典\n---\n")


@pytest.mark.parametrize("block", ["- a\n- b\n", "just text\n", "42\n"])
def test_non_mapping_is_an_error(block):
    with pytest.raises(ValueError, match="must be a YAML mapping"):
        split_front_matter(f"---\n{block}---\n")
