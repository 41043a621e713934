"""Three more features for the 款/项 chooser (qa/paragraphs.py), tried on the tune split (issue 14,
session 8; none adopted, docs/eval.md): the question's kind of ask against what each span states
(how long → 日/年/期限, how much → 元/倍/罚款, to whom → 向…部门/机构, which crime → 有期徒刑/罪, what it
means → 是指/所称, may I → 可以/有权, must they → 应当/不得; counted where this span has it and not
every sibling), the e5 cosine of the question and the span (gap to the best sibling, gap to the
mean), and IDF-weighted shares of the question's words in the span (all, and only this span's).
Question-grouped 5-fold cross-validation on tune, five fold draws, C 3 as the shipped model.

    python experiments/paragraph_features.py
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

ASKS = (  # (what the question asks, what a span that answers it says)
    (r"多久|多长时间|多長時間|几天|幾天|几年|幾年|多少天|什么时候|什麼時候|期限|时效|時效|多少日",
     r"[0-9一二三四五六七八九十百]+(?:日|天|个月|個月|年)|期限|期间|之日起"),
    (r"多少钱|多少錢|罚多少|罰多少|赔多少|賠多少|多少倍|上限|最高|多少", r"元|罚款|罰款|倍|百分之|不超过|不得超过|以下"),
    (r"找谁|找誰|向谁|向誰|去哪|哪里|哪裡|哪个部门|哪個部門|谁来|誰來|投诉|投訴|举报|舉報",
     r"向.{0,12}(?:部门|机构|机关|人民法院|部門|機構|機關)|投诉|举报"),
    (r"坐牢|判刑|判几年|判幾年|犯罪|犯法|罪", r"有期徒刑|拘役|罚金|罪"),
    (r"是什么|是什麼|什么意思|什麼意思|指什么|指什麼|哪些|包括", r"是指|所称|包括"),
    (r"能不能|可以|可不可以|能否|有权|有權|能要|能让|能讓", r"可以|有权|有權"),
    (r"要不要|需不需要|是否需要|必须|必須|应该|應該|需要", r"应当|應當|必须|必須|不得"),
)
EXTRA = ("asks", "cos_gap", "cos_mean", "idf_distinct", "idf_overlap")


def asks(question: str, spans) -> np.ndarray:
    out = np.zeros(len(spans))
    for ask, says in ASKS:
        if re.search(ask, question):
            has = [bool(re.search(says, sp.text)) for sp in spans]
            out += [float(h and not all(has)) for h in has]
    return out


def main() -> int:
    from legalqa.eval.data import load_questions, select_split
    from legalqa.eval.run import load_searcher
    from legalqa.index.sparse import tokenize
    from legalqa.qa.paragraphs import FEATURES, sibling_items
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    s = load_searcher()
    questions = [q for q in select_split(load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases), "tune")
                 if q.answerable]
    statutes = [c for c in s.chunks if c.kind == "statute"]
    df: Counter = Counter()
    for c in statutes:
        df.update(set(tokenize(c.text)))
    idf = {t: math.log((len(statutes) + 1) / (1 + n)) for t, n in df.items()}
    vectors: dict[str, np.ndarray] = {}

    def extra(law: str, searched: str, qv: np.ndarray, spans) -> np.ndarray:
        for sp in spans:
            if sp.text not in vectors:
                vectors[sp.text] = s.embedder.embed_documents([f"{law} {sp.text}"])[0]
        cos = np.array([float(vectors[sp.text] @ qv) for sp in spans])
        words = set(tokenize(searched))
        weight = sum(idf.get(t, 0.0) for t in words) or 1.0
        rows = []
        for k, sp in enumerate(spans):
            others = "".join(o.text for j, o in enumerate(spans) if j != k)
            rows.append([cos[k] - cos.max(), cos[k] - cos.mean(),
                         sum(idf.get(t, 0.0) for t in words if t in sp.text and t not in others) / weight,
                         sum(idf.get(t, 0.0) for t in words if t in sp.text) / weight])
        return np.hstack([asks(searched, spans)[:, None], np.array(rows)])

    from train_paragraphs import groups as span_groups  # the script's own groups: features, labels, places

    groups = span_groups(s, questions)
    by_id = {q.id: q for q in questions}
    for g in groups:
        law, article, suffix, paragraph, item = g["places"][0]
        chunk = s.article(law, article, suffix)
        spans = list(chunk.paragraphs) if item is None else sibling_items(chunk, paragraph)
        searched = s.run(by_id[g["id"]].question, k=5).searched
        g["x"] = np.hstack([g["x"], extra(law, searched, s.embedder.embed_queries([searched])[0], spans)])
    print(f"{len(groups)} tune groups")
    names = [*FEATURES, *EXTRA]
    base = list(range(len(FEATURES)))
    variants = {"shipped": base} | {f"+{e}": base + [names.index(e)] for e in EXTRA}
    variants["+asks+cos_gap"] = base + [names.index("asks"), names.index("cos_gap")]
    variants["+all"] = list(range(len(names)))

    def fit(rows, cols):
        x = np.vstack([r["x"][:, cols] for r in rows])
        y = np.concatenate([r["y"] for r in rows])
        scaler = StandardScaler().fit(x)
        model = LogisticRegression(C=3.0, max_iter=5000).fit(scaler.transform(x), y)
        return lambda z: model.decision_function(scaler.transform(z[:, cols]))

    ids = sorted({g["id"] for g in groups})
    for name, cols in variants.items():
        accuracies = []
        for seed in range(5):
            order = np.random.RandomState(seed).permutation(len(ids))
            right = []
            for part in np.array_split(order, 5):
                held = {ids[i] for i in part}
                score = fit([g for g in groups if g["id"] not in held], cols)
                right += [g["y"][int(np.argmax(score(g["x"])))] for g in groups if g["id"] in held]
            accuracies.append(float(np.mean(right)))
        print(f"{name}: mean {np.mean(accuracies):.3f} (" + ", ".join(f"{a:.3f}" for a in accuracies) + ")", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
