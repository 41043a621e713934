"""What the homophone speller (index/spelling.py) changes in real questions, and what two rules tried in
session 9 (not adopted) would change: a typo differs from the word it is taken for in one character, and
a hint gives only words of the dictionary.

    [LEGALQA_HOME=<library home>] python experiments/measure_speller.py [--split tune]

Runs over the STARD questions of the split (real questions from non-lawyers) and the question file's
questions of the split, and prints every correction each speller makes, with counts. Which are right is
for a reader to judge: the script does not know.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO))


def main() -> int:
    from legalqa.eval.run import load_searcher
    from legalqa.index.search import normalize_query
    from legalqa.index.sparse import tokenize
    from legalqa.index.spelling import Speller, dictionary_words, domain_words

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", default="tune", choices=("tune", "heldout", "all"))
    args = p.parse_args()
    s = load_searcher()
    tok = s.data.tokenizer

    freq = tok.FREQ
    words = domain_words(s.rules, s.data.article_hints, s.data.terms, tok)
    hint_words = set()
    for hint in s.data.article_hints.values():
        hint_words.update(tokenize(hint, tok))
    legal = {line.split()[0] for line in s.data.terms.splitlines() if line.strip()}
    rule_words = {w for rule in s.rules for w in (*rule.triggers, *rule.terms)}
    pieces = {w for w in hint_words - legal - rule_words if freq.get(w, 0) == 0}  # 前能, 业由 …

    class OneCharacter(Speller):
        """A correction may change one character only (the corrections of the shipped loop, filtered)."""

        def corrections(self, text, inside_words=None):
            return [c for c in super().corrections(text, inside_words)
                    if sum(a != b for a, b in zip(c.written, c.meant, strict=True)) == 1]

    spellers = {
        "shipped": Speller(words, known=dictionary_words(tok), tokenizer=tok),
        "one character, hint words from the dictionary only": OneCharacter(words - pieces, known=dictionary_words(tok),
                                                                           tokenizer=tok),
    }
    split = json.loads((REPO / "eval" / "stard_split.json").read_text(encoding="utf-8"))
    tune = set(split["tune"])
    questions = []
    for line in (SHARED / "stard" / "train.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        if args.split == "all" or (r["id"] in tune) == (args.split == "tune"):
            questions.append(("STARD", r["question"]))
    for line in (REPO / "eval" / "questions.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        if args.split in ("all", r["split"]):
            questions.append(("question file", r["question"]))
    for name, speller in spellers.items():
        seen: dict[str, Counter] = {"STARD": Counter(), "question file": Counter()}
        for source, q in questions:
            for c in speller.correct(normalize_query(q))[1]:
                seen[source][(c.written, c.meant)] += 1
        print(f"{name}:")
        for source, counts in seen.items():
            n = sum(1 for src, _ in questions if src == source)
            print(f"  {source} ({n} questions), {sum(counts.values())} corrections: "
                  + ", ".join(f"{w}→{m}×{k}" if k > 1 else f"{w}→{m}" for (w, m), k in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
