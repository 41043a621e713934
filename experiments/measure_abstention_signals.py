"""Abstention signals over an index: what separates questions to answer from non-legal ones.

    LEGALQA_HOME=/work/libhome python experiments/measure_abstention_signals.py --out /tmp/signals.jsonl

For every question of STARD (gold in the index), eval/questions.jsonl and eval/offtopic.jsonl it
records the composer's evidence (best cosine, fired rules, named articles), the best known-question
key similarity (index/keys.py), and whether the answer abstained, one JSON line per question.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    args = p.parse_args()
    from legalqa.eval.data import load_questions, load_stard, restrict_to_index
    from legalqa.eval.run import known_articles, load_engine
    from legalqa.index.keys import QuestionKeys

    engine = load_engine()
    s, composer = engine.searcher, engine.composer
    keys = QuestionKeys.load()
    known = known_articles(s.chunks)
    stard, _ = restrict_to_index(load_stard(SHARED / "stard" / "train.jsonl", aliases=s.aliases), known)
    sets = [("stard", q) for q in stard]
    sets += [("eval", q) for q in load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases)]
    sets += [("offtopic", q) for q in load_questions(REPO / "eval" / "offtopic.jsonl", aliases=s.aliases)]
    tune_ids = [q.id for q in load_stard(SHARED / "stard" / "train.jsonl") if q.split == "tune"]
    key_of = {qid: i for i, qid in enumerate(tune_ids)}
    with open(args.out, "w", encoding="utf-8") as f:
        for source, q in sets:
            a = composer.ask(q.question)
            v = s.embedder.embed_query(q.question)
            sims = keys.vectors @ v
            if q.id in key_of:
                sims[key_of[q.id]] = -1  # a known question never finds itself
            f.write(json.dumps({
                "source": source, "id": q.id, "split": q.split, "answerable": q.answerable, "topic": q.topic,
                "abstained": a.abstained, "evidence": a.evidence, "top_key": float(np.max(sims)),
                "cited": [c.citation for c in a.citations if c.kind == "statute"],
            }, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
