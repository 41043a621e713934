"""Article hints: a data file with clear errors, naming only articles the corpus has."""

import pytest
from legalqa.index.hints import load_hints, parse_hints
from legalqa.index.store import embed_text
from legalqa.ingest.pipeline import ingest

from tests.conftest import CORPUS


def test_parse_and_errors_name_the_line():
    assert parse_hints("# c\n《民法典》第一条\t甲 乙\n") == {"《民法典》第一条": "甲 乙"}
    with pytest.raises(ValueError, match="h.tsv:1: expected"):
        parse_hints("no tab here\n", "h.tsv")
    with pytest.raises(ValueError, match="h.tsv:2: 《a》第一条 appears twice"):
        parse_hints("《a》第一条\tx\n《a》第一条\ty\n", "h.tsv")


def test_every_hint_names_an_article_of_the_default_corpus():
    cites = {c.citation for c in ingest([CORPUS]).chunks if c.kind == "statute"}
    assert set(load_hints()) <= cites


def test_hints_reach_the_indexed_text_not_the_quoted_text():
    chunk = next(c for c in ingest([CORPUS]).chunks if c.citation == "《中华人民共和国民法典》第七百条")
    text = embed_text(chunk, load_hints())
    assert "追偿" in text and text.startswith("民法典 ")
    assert "代偿" not in chunk.text  # the chunk, which answers quote, is the official text only


def test_no_hint_restates_an_eval_question():
    """Hints are written from the articles; one that is nearly an eval question would inflate the eval."""
    import difflib
    import json
    import re

    from tests.conftest import REPO

    def bare(text: str) -> str:
        return re.sub(r"[？?，,。！!\s]", "", text)

    questions = [bare(json.loads(line)["question"])
                 for line in (REPO / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    close = [
        (cite, phrase, q)
        for cite, words in load_hints().items()
        for phrase in words.split(" ") if len(phrase) >= 6
        for q in questions if difflib.SequenceMatcher(None, q, bare(phrase)).ratio() >= 0.7
    ]
    assert close == []
