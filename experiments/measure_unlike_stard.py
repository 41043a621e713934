"""Retrieval over the library for questions written like the question file's, not like STARD's (issue 13, session 10).

The file's library-gold questions (field ``library``: 酒驾, 押金, 抚养权 …) and four questions tried as a
user would, article level, under three searches: the shipped re-ranker, the keys with session 6's
hand-set weights, and hybrid search without keys. A diagnosis: 29 questions decide nothing.

    LEGALQA_HOME=<library home> python experiments/measure_unlike_stard.py
"""

import dataclasses
from pathlib import Path

from legalqa.eval.data import for_index, load_questions
from legalqa.eval.run import load_searcher

REPO = Path(__file__).resolve().parents[1]
PROBES = [("开车撞了人跑了会判几年？", ("中华人民共和国刑法", 133)),
          ("我租的房子房东要卖了，我还能继续住吗？", ("中华人民共和国民法典", 725)),
          ("离婚冷静期是多长时间？", ("中华人民共和国民法典", 1077)),
          ("公司拖欠工资三个月了，我能不能直接辞职还要求经济补偿？", ("中华人民共和国劳动合同法", 38))]


def articles(searcher, text: str, k: int = 10) -> list[tuple]:
    out: list[tuple] = []
    for h in searcher.search(text, k):
        c = h.chunk
        if c.kind == "statute" and (c.law, c.article, c.suffix) not in out:
            out.append((c.law, c.article, c.suffix))
    return out


def main() -> int:
    s = load_searcher()
    raw = load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases)
    lib_ids = {q.id for q in raw if q.in_library}
    qs = [q for q in for_index(raw, True) if q.id in lib_ids]
    variants = {"shipped (re-ranker)": s.config,
                "keys with hand-set weights": dataclasses.replace(s.config, rerank=False),
                "hybrid without keys": dataclasses.replace(s.config, rerank=False, keys_neighbors=0)}
    for name, cfg in variants.items():
        ss = s.with_(config=cfg)
        res = {"tune": [0, 0, 0], "heldout": [0, 0, 0]}
        for q in qs:
            gold = {(k[0], k[1], k[2]) for k in q.expected_keys}
            got = articles(ss, q.question)
            r = res[q.split]
            r[0] += 1
            r[1] += bool(got[:1] and got[0] in gold)
            r[2] += any(k in gold for k in got[:5])
        ranks = []
        for text, (law, art) in PROBES:
            got = [(a, b) for a, b, _ in articles(ss, text)]
            ranks.append(got.index((law, art)) + 1 if (law, art) in got else None)
        print(name, {k: f"n={v[0]} hit@1 {v[1] / v[0]:.3f} hit@5 {v[2] / v[0]:.3f}" for k, v in res.items()},
              "probe ranks (top 10)", ranks, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
