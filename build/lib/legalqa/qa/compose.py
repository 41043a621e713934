"""The templated composer: an answer made only of quotes and claim-free template text.

Every sentence of an answer is either template text that makes no legal claim
("根据以下法律规定：", the disclaimer) or a verbatim quote from a source,
followed by its citation and a marker [n]. Statutes are quoted from the
statute, never from an article's paraphrase. Weak evidence → abstain.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from legalqa.index.search import Filters, Hit, Searcher, SearchResult, normalize_query, validate_query
from legalqa.index.sparse import tokenize
from legalqa.ingest.citations import canonical, find_citations
from legalqa.ingest.models import Chunk, Span
from legalqa.ingest.numerals import cn_to_int
from legalqa.qa.config import AnswerConfig
from legalqa.qa.models import Answer, Citation
from legalqa.qa.select import CitationSelector
from legalqa.qa.terms import overlap as _overlap
from legalqa.qa.terms import term_weights as _weights

DISCLAIMER = "以上内容是根据所列来源整理的一般性法律信息，不构成针对个案的法律意见；具体情况请咨询执业律师。"
# A sentence keeps the closing quotation marks after its final punctuation: …关我什么事?”
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?[”’」』\"]*")
_ITEM = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")


def evidence_score(top_dense: float, rules: float, cfg: AnswerConfig) -> float:
    """The evidence a question has: its best cosine similarity plus rule_bonus per fired rule (at most 2)."""
    return round(top_dense + cfg.rule_bonus * min(rules, 2), 4)


def abstains(evidence: dict, cfg: AnswerConfig) -> bool:
    """The abstention rule: no article named and evidence below min_evidence (scripts/calibrate.py uses it too)."""
    return not evidence["named"] and evidence_score(evidence["top_dense"], evidence["rules"], cfg) < cfg.min_evidence


def coverage(query: str, hits: list[Hit], top: int = 5) -> float:
    """Share of the question's content terms (by length) that occur in the best passages."""
    tokens = set(tokenize(query))
    if not tokens:
        return 0.0
    pool = "".join(h.chunk.text + h.chunk.title + "".join(h.chunk.heading_path) for h in hits[:top])
    total = sum(len(t) for t in tokens)
    return sum(len(t) for t in tokens if t in pool) / total


def _sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """(start, end) offsets, relative to the chunk, of its sentences; list markers are left out."""
    out = []
    for m in _SENTENCE.finditer(chunk.text):
        s, e = m.start(), m.end()
        seg = chunk.text[s:e]
        lead = len(seg) - len(seg.lstrip(" -*•\t"))
        if len(seg.strip(" -*•\t")) >= 6:
            out.append((s + lead, e - (len(seg) - len(seg.rstrip()))))
    return out


def pick_lead(
    chunk: Chunk, weights: dict[str, float], n: int, exclude: tuple[tuple[int, int], ...] | list = ()
) -> list[tuple[int, int]]:
    """The n sentences of a prose passage that best match the question, in reading order.

    Sentences overlapping an ``exclude`` span (source offsets of statute quotes) are never chosen.
    """
    sents = [
        (s, e) for s, e in _sentences(chunk)
        if not any(chunk.start + s < xe and xs < chunk.start + e for xs, xe in exclude)
        and not find_citations(chunk.text[s:e])  # a citation line is not advice: quote the law itself
    ]
    if not sents:
        return []
    scored = sorted(
        sents, key=lambda se: -_overlap(weights, chunk.text[se[0] : se[1]]) / (1 + (se[1] - se[0]) / 120)
    )
    best = [se for se in scored[:n] if _overlap(weights, chunk.text[se[0] : se[1]]) > 0] or scored[:1]
    return sorted(best)


def pick_paragraph(chunk: Chunk, weights: dict[str, float]) -> tuple[Span | None, list[Span]]:
    """The 款 that best answers the question and, within it, the best 项 lines if it lists some.

    Returns (款 or None when the article has one 款, [项 spans to quote instead of the whole 款]).
    """
    paras = chunk.paragraphs
    if len(paras) <= 1:
        para = paras[0] if paras else None
    else:
        para = max(paras, key=lambda p: (_overlap(weights, p.text) / (1 + len(p.text) / 200), -p.index))
    if para is None:
        return None, []
    lines = para.text.split("\n")
    items = [ln for ln in lines if _ITEM.match(ln.strip())]
    if len(items) < 2:
        return (para if len(paras) > 1 else None), []
    # A 款 that lists 项: quote its opening line and the best-matching 项.
    spans, offset = [], para.start
    for ln in lines:
        spans.append(Span(len(spans), ln, offset, offset + len(ln)))
        offset += len(ln) + 1
    intro = spans[0]
    scored = sorted(spans[1:], key=lambda s: -_overlap(weights, s.text))
    chosen = [s for s in scored[:1] if _overlap(weights, s.text) > 0]
    return para, [intro] + chosen


def _item_number(line: str) -> int | None:
    m = _ITEM.match(line.strip())
    return cn_to_int(m.group(0).strip("（）()")) if m else None


class Composer:
    def __init__(self, searcher: Searcher, config: AnswerConfig | None = None):
        self.searcher = searcher
        self.config = config or AnswerConfig()
        # Loaded here, not on the first question, so a missing or stale model file fails early.
        self.selector: CitationSelector | None = None
        if self.config.selector == "model":
            # The selector the index was built with (pinned in it), unless the settings name another.
            path = self.config.selector_model or searcher.data.selector_path
            self.selector = CitationSelector.load(Path(path))
        self._notes = self._misquote_notes(searcher.data.report)
        laws = "、".join(f"《{law}》" for law in searcher.laws)
        articles = sorted({c.title for c in searcher.chunks if c.kind == "article"})
        self._searched = laws + ("，以及文章" + "、".join(f"《{t}》" for t in articles) if articles else "")
        # Where prose quotes or paraphrases a statute: never lead with those words, quote the law instead.
        self._quoted: dict[str, list[tuple[int, int]]] = {}
        for f in searcher.data.report.get("findings", []):
            self._quoted.setdefault(f["source"], []).append((f["start"], f["end"]))

    @staticmethod
    def _misquote_notes(report: dict) -> dict[str, list[str]]:
        """Article-level citation → notes on where a prose source departs from the statute."""
        notes: dict[str, list[str]] = {}
        for f in report.get("mismatches", []):
            check = f["check"]
            source = f["source"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
            if check["status"] == "paraphrase":
                text = f"文章《{source}》对本条的表述是概括性的说法，并非法条原文；以上以法条原文为准。"
            else:
                parts = []
                for d in check["differences"]:
                    if d["op"] == "missing":
                        parts.append(f"漏掉了「{d['official']}」")
                    elif d["op"] == "added":
                        parts.append(f"多出了「{d['quoted']}」")
                    else:
                        parts.append(f"把「{d['official']}」写成了「{d['quoted']}」")
                text = f"文章《{source}》引用本条时与法条原文不一致：{'，'.join(parts)}；以上以法条原文为准。"
            notes.setdefault(f["citation"], []).append(text)
        return notes

    def ask(self, question: str, filters: dict | Filters | None = None) -> Answer:
        """Answer from the corpus (or the part ``filters`` admits: law, kind, status, collection)."""
        validate_query(question)
        t0 = time.perf_counter()
        cfg = self.config
        depth = max(cfg.k, self.selector.hits) if self.selector else cfg.k
        found = self.searcher.run(question, k=depth, filters=filters)
        # What the answer shows and leads from; the selector may look deeper (its hits are `found`).
        result = replace(found, hits=found.hits[: cfg.k], more=found.more[: cfg.k])
        t1 = time.perf_counter()
        q = result.searched or normalize_query(question)
        tokens = tokenize(q)
        weights = _weights(tokens + list(result.expansion.terms))
        exact = [h for h in result.hits if h.exact]
        top_dense = max((h.dense_score or 0.0 for h in result.hits), default=0.0)
        cov = coverage(q, result.hits)
        top_bm25 = max((h.bm25_score or 0.0 for h in result.hits), default=0.0)
        evidence = {
            "top_dense": round(top_dense, 4),
            "coverage": round(cov, 4),
            "top_bm25": round(top_bm25, 3),
            "rules": float(len(result.expansion.rules)),
            "named": float(len(exact)),
        }
        evidence["score"] = evidence_score(evidence["top_dense"], evidence["rules"], cfg)
        if abstains(evidence, cfg):
            answer = self._abstain(question, result, evidence)
        else:
            terms = {t for t in weights if len(t) >= 2}  # the question's words and its expansion terms
            statutes = self._choose_statutes(found, _weights(tokens))
            answer = self._answer(question, result, weights, terms, evidence, statutes)
        if result.corrections:
            fixed = "，".join(f"“{c.written}”理解为“{c.meant}”" for c in result.corrections)
            note = f"（按读音把{fixed}。）"
            answer.markdown, answer.text = f"*{note}*\n\n{answer.markdown}", f"{note}\n\n{answer.text}"
            answer.corrections = [f"{c.written}→{c.meant}" for c in result.corrections]
        answer.timings = {
            "search_ms": round((t1 - t0) * 1000, 2),
            "compose_ms": round((time.perf_counter() - t1) * 1000, 2),
            "total_ms": round((time.perf_counter() - t0) * 1000, 2),
        }
        return answer

    def _abstain(self, question: str, result: SearchResult, evidence: dict) -> Answer:
        lines = [
            "抱歉，现有资料不足以回答这个问题，我不做猜测。",
            f"我检索了：{self._searched}。",
            "这些资料里没有与你的问题足够相关的内容，它可能超出了本系统语料的范围"
            "（网贷逾期、借款、担保、共同借款、夫妻债务、征信、个人信息、催收等）。",
            "建议换个说法再问，或咨询执业律师。",
            DISCLAIMER,
        ]
        text = "\n\n".join(lines)
        return Answer(
            question, text, text, [], True, reason="证据不足：没有足够相关的法条或文章段落",
            hits=[h.to_dict() for h in result.hits], expansions=list(result.expansion.rules), evidence=evidence,
        )

    def _choose_statutes(self, found: SearchResult, question_weights: dict[str, float]) -> list[Hit]:
        """The statute hits to quote, in order: by the citation selector, or by the relative rule."""
        cfg = self.config
        if self.selector:
            return [h for h, _ in self.selector.select(found, question_weights, self.searcher.data.hints)]
        statutes = [h for h in found.hits[: cfg.k] if h.chunk.kind == "statute"]
        chosen = [h for h in statutes if h.exact]
        rest = [h for h in statutes if not h.exact]
        if rest and not chosen:
            best = rest[0].score
            chosen = [h for h in rest if h.score >= cfg.relative * best][: cfg.max_statutes]
        return chosen[: max(cfg.max_statutes, len([h for h in statutes if h.exact]))]

    def _answer(
        self, question: str, result: SearchResult, weights: dict[str, float], terms: set[str], evidence: dict,
        statutes: list[Hit],
    ) -> Answer:
        cfg = self.config
        cites: list[Citation] = []
        md: list[str] = []
        txt: list[str] = []

        passages = [h for h in result.hits + result.more if h.chunk.kind == "article" and not result.named]
        lead_hit, lead = None, []
        best = 0.0
        for h in passages:
            if sum(t in h.chunk.text for t in terms) < cfg.lead_min_terms:
                continue  # a passage that shares only a heading word with the question is no lead
            chosen = pick_lead(h.chunk, weights, cfg.lead_sentences, self._quoted.get(h.chunk.source, ()))
            # The passage whose section heading and chosen sentences share most of the question's terms leads.
            score = _overlap(weights, "".join(h.chunk.heading_path[-1:])) + sum(
                _overlap(weights, h.chunk.text[a:b]) for a, b in chosen
            )
            if score > best:
                best, lead_hit, lead = score, h, chosen
        if lead:
            c = lead_hit.chunk
            label = f"《{c.title}》" + ("·" + c.heading_path[-1] if c.heading_path else "")
            quotes = []
            for s, e in lead:
                n = len(cites) + 1
                cites.append(Citation(n, label, "article", c.text[s:e], c.id, c.source, c.start + s, c.start + e,
                                      title=c.title, heading_path=c.heading_path))
                quotes.append(f"「{c.text[s:e]}」[{n}]")
            md += ["**你的情况可能涉及：**", "", f"{label}提到：" + "".join(quotes), ""]
            txt += ["你的情况可能涉及：", f"{label}提到：" + "".join(quotes), ""]

        if statutes:
            md += ["**法律依据：**", ""]
            txt += ["法律依据："]
        for h in statutes:
            c = h.chunk
            para, lines = pick_paragraph(c, weights)
            spans = lines or ([para] if para is not None else [Span(1, c.text, c.start, c.end)])
            item = _item_number(lines[1].text) if len(lines) > 1 else None
            cite = canonical(c.law, c.article, c.suffix, para.index if para is not None else None, item)
            notes = tuple(self._notes.get(c.citation or "", ()))
            quotes = []
            for sp in spans:
                n = len(cites) + 1
                cites.append(Citation(
                    n, cite, "statute", sp.text, c.id, c.source, sp.start, sp.end, law=c.law, article=c.label,
                    paragraph=para.index if para is not None else None, item=item, title=c.title,
                    heading_path=c.heading_path, notes=notes,
                ))
                quotes.append(f"「{sp.text}」[{n}]")
            body = "……".join(quotes) if len(quotes) > 1 else quotes[0]
            md.append(f"- {cite}：{body}")
            txt.append(f"{cite}：{body}")
            for note in notes:
                md.append(f"  - 注意：{note}")
                txt.append(f"注意：{note}")
        md.append("")
        txt.append("")

        md += ["**来源：**", ""]
        txt += ["来源："]
        # Quotes from one source under one citation share a line: [3][4] 《…》第二百九十三条之一…
        groups: list[list[Citation]] = []
        for ci in cites:
            if groups and groups[-1][0].citation == ci.citation and groups[-1][0].source_id == ci.source_id:
                groups[-1].append(ci)
            else:
                groups.append([ci])
        for group in groups:
            ci, marks = group[0], "".join(f"[{g.n}]" for g in group)
            where = " › ".join(ci.heading_path)
            md.append(f"{marks} {ci.citation}" + (f"（{where}）" if where and ci.kind == "statute" else ""))
            txt.append(f"{marks} {ci.citation}")
        md += ["", f"*{DISCLAIMER}*"]
        txt += ["", DISCLAIMER]
        # The hits used: the ones shown, plus any cited passage held back by the one-per-source rule
        # and any cited statute the selector found deeper down.
        cited = {c.source_id for c in cites}
        used = list(result.hits)
        for h in [*result.more, *statutes]:
            if h.chunk.id in cited and all(h.chunk.id != u.chunk.id for u in used):
                used.append(h)
        return Answer(
            question, "\n".join(md), "\n".join(txt), cites, False,
            hits=[h.to_dict() for h in used], expansions=list(result.expansion.rules), evidence=evidence,
        )
