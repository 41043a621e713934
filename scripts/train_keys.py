"""Embed the tune part of STARD as question keys and write index/data/question_keys.npz (index/keys.py).

    python scripts/train_keys.py [--questions ../shared/stard/train.jsonl] [--out index/data/question_keys.npz]

Only the questions of the frozen split's tune part (eval/stard_split.json) become keys; the
held-out part is never read into the file. Each key keeps its question's query vector (the
default model, float16) and its gold articles (law resolved through the alias table, 第X条之Y
parsed), never the question's text. Re-run after changing the model or the split; the index pins
the file, so a changed file makes the next build rebuild.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from legalqa.eval.data import STARD_SPLIT, load_stard  # noqa: E402
from legalqa.index.embedder import DEFAULT_MODEL, get_embedder  # noqa: E402
from legalqa.index.keys import DEFAULT_KEYS, QuestionKeys  # noqa: E402
from legalqa.ingest.aliases import AliasTable  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", default=str(SHARED / "stard" / "train.jsonl"))
    ap.add_argument("--out", default=str(DEFAULT_KEYS))
    args = ap.parse_args()
    source = Path(args.questions)
    if not source.is_file():
        print(f"找不到 STARD 文件 {source}：用 --questions 指定，或设置 LEGALQA_SHARED", file=sys.stderr)
        return 2
    tune = [q for q in load_stard(source, aliases=AliasTable()) if q.split == "tune"]
    embedder = get_embedder(DEFAULT_MODEL)
    vectors = embedder.embed_queries([q.question for q in tune])
    keys = QuestionKeys(
        vectors, tuple(tuple((law, art, suf) for law, art, suf, _ in q.expected_keys) for q in tune), embedder.name,
        {"source": source.name, "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
         "split": STARD_SPLIT.name, "split_sha256": hashlib.sha256(STARD_SPLIT.read_bytes()).hexdigest(),
         "part": "tune", "questions": len(tune)},
    )
    keys.save(args.out)
    print(f"{len(tune)} 个 tune 问题 → {args.out}（{sum(map(len, keys.targets))} 个目标条文，"
          f"{len({a for t in keys.targets for a in t})} 条不同）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
