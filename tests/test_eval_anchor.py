"""`legalqa eval --anchor`: another system's search on the same questions, scored the same way."""

from __future__ import annotations

import pytest
from legalqa.eval.anchor import ranked_keys, run_anchor
from legalqa.eval.data import EvalDataError, Question
from legalqa.ingest.aliases import AliasTable

CIVIL = "中华人民共和国民法典"
LABOR = "中华人民共和国劳动合同法"


def q(qid: str, text: str, keys, split: str) -> Question:
    return Question(qid, text, tuple(f"{k}" for k in keys), split=split,
                    expected_keys=tuple((law, art, suf, None) for law, art, suf in keys))


def test_records_become_article_keys_with_short_law_names_resolved():
    aliases = AliasTable().with_laws({LABOR: []})
    got = ranked_keys([{"law_name": LABOR, "article_no": "第三十八条"},
                       {"law_name": "劳动合同法", "article_no": "第八十二条之一"},
                       {"law_name": CIVIL, "article_no": "附则"}], aliases)
    assert got == [(LABOR, 38, 0, None), (LABOR, 82, 1, None), None]


def test_anchor_metrics_per_split_from_its_own_ranking():
    answers = {
        "欠薪": [{"law_name": LABOR, "article_no": "第三十条"}, {"law_name": LABOR, "article_no": "第三十八条"}],
        "担保": [{"law_name": CIVIL, "article_no": "第一条"}] * 6 + [{"law_name": CIVIL, "article_no": "第六百八十八条"}],
    }
    asked = []

    def search(question: str, top_k: int) -> list[dict]:
        asked.append((question, top_k))
        return answers[question]

    questions = [q("a", "欠薪", [(LABOR, 38, 0)], "tune"), q("b", "担保", [(CIVIL, 688, 0)], "heldout")]
    out = run_anchor("china-law-mcp", questions, AliasTable().with_laws({LABOR: [], CIVIL: []}), search)
    assert asked == [("欠薪", 10), ("担保", 10)]
    tune, held = out["metrics"]["tune"], out["metrics"]["heldout"]
    assert (tune["hit@1"], tune["hit@5"], tune["mrr@10"]) == (0.0, 1.0, 0.5)
    assert (held["hit@5"], held["hit@10"], held["mrr@10"]) == (0.0, 1.0, pytest.approx(1 / 7))
    assert out["metrics"]["all"]["n_retrieval"] == 2


def test_an_unknown_anchor_is_named():
    with pytest.raises(EvalDataError, match="--anchor 只能是 china-law-mcp"):
        run_anchor("bing", [], AliasTable(), lambda text, k: [])
