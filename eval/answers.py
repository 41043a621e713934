"""Citation accuracy of any system's answers: `legalqa eval --answers FILE`.

FILE is JSONL or CSV with ``id``, ``answer`` (free text, Markdown allowed), and optionally
``question``, ``expected`` and ``accept`` citations (a list in JSONL, ``;``-separated in CSV).
Every citation in an answer goes through the one citation checker (qa/verify.py), and each
problem becomes a finding in one category:

- ``nonexistent``: the article does not exist (past the law's last article);
- ``not_in_index``: the index cannot check it (law not held, or an excerpt without it);
- ``misquote``: words given as the article's text are not the law's words (with the diff);
- ``repealed``: the law is repealed or a superseded version (with the successor);
- ``wrong_paragraph``: the 款/项 named does not exist, or the quote is another 款;
- ``missed_expected``: an expected article the answer never cites;
- ``extra``: a cited article that is neither expected nor accepted (and has no other finding).

``load_answers`` validates the whole file and names every bad line with its fix;
``score_answers`` returns the report dict that eval/answers_report.py writes.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from legalqa.eval.data import EvalDataError, Key, jsonl_lines
from legalqa.eval.data import _citations as gold_citations
from legalqa.eval.metrics import answer_citation_scores, article_level, bootstrap_interval, citation_metrics
from legalqa.ingest.aliases import AliasTable
from legalqa.qa.lawinfo import StatuteSource
from legalqa.qa.verify import MAX_VERIFY_CHARS, CitationCheck, check_citations

FIELDS = ("id", "question", "answer", "expected", "accept")
CATEGORIES = ("nonexistent", "not_in_index", "misquote", "repealed", "wrong_paragraph", "missed_expected", "extra")
CATEGORY_LABELS = {
    "nonexistent": "不存在的条文",
    "not_in_index": "索引中无法核对",
    "misquote": "引文不是法条原文",
    "repealed": "引用已废止/非现行的法律",
    "wrong_paragraph": "款/项不对",
    "missed_expected": "漏引应引的条文",
    "extra": "多引了不在标准答案中的条文",
}
# The checker's status -> the finding's category; the other statuses (exact, no_quote) are fine.
CATEGORY_OF_STATUS = {
    "nonexistent": "nonexistent",
    "not_found": "not_in_index",
    "unknown_law": "not_in_index",
    "differs": "misquote",
    "not_a_quote": "misquote",
    "repealed": "repealed",
    "wrong_paragraph": "wrong_paragraph",
}
CONVENTIONS = [
    "Each citation is checked by qa.verify (the same checker as `legalqa verify`); no model judges anything.",
    "Words in quotation marks, or set out on the lines under a citation, claim to be the article's text: "
    "anything but the law's words there is a misquote. Words in the running sentence are compared only "
    "when they are a near-quote; a summary is no finding.",
    "not_in_index is never called nonexistent: an article is nonexistent only when the law is held in full "
    "or its last article is known (its commencement article, 本法自……起施行, is held).",
    "extra and missed_expected are judged at article level, and only for answers that give `expected`; "
    "a citation with another finding is not also extra.",
    "Rates are shares of answers with at least one finding of the category; ci95 is a 95% percentile "
    "bootstrap interval over answers (2,000 resamples, fixed seed).",
    "Citation recall / precision follow eval.metrics (per answer, then averaged), at article and 款 level, "
    "over the answers that give `expected`.",
]
_SHOWN_ERRORS = 20
_DETAILS = {
    "missed_expected": "标准答案要求引用这一条，回答没有引用",
    "extra": "这一条不在标准答案（expected / accept）中",
}


class AnswersDataError(EvalDataError):
    """An answers file that cannot be scored; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class AnswerItem:
    """One answer to score, as read from the file."""

    id: str
    answer: str
    question: str = ""
    expected: tuple[str, ...] | None = None  # canonical citations; None when the file gives none
    accept: tuple[str, ...] = ()
    expected_keys: tuple[Key, ...] = ()
    accept_keys: tuple[Key, ...] = ()
    line: int = 0


# --- reading --------------------------------------------------------------------------------------


def load_answers(path: str | Path, aliases: AliasTable | None = None) -> list[AnswerItem]:
    """Read a .jsonl or .csv answers file; raise AnswersDataError listing every bad line and its fix."""
    path = check_answers_path(path)
    return parse_answers(path.read_bytes(), str(path), aliases)


def check_answers_path(path: str | Path) -> Path:
    """``path`` when it names an existing .jsonl or .csv file; else AnswersDataError with the fix.

    Cheap, so ``legalqa eval --answers`` calls it before loading the index and the model.
    """
    path = Path(path)
    if not path.is_file():
        raise AnswersDataError(f"找不到回答文件 {path}：请给出一个存在的 .jsonl 或 .csv 文件")
    _check_suffix(path.name)
    return path


def _check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise AnswersDataError(f"回答文件 {name} 的扩展名应是 .jsonl 或 .csv，现在是 {suffix or '（无）'}")
    return suffix


def parse_answers(data: bytes | str, name: str, aliases: AliasTable | None = None) -> list[AnswerItem]:
    """The answers in ``data``, a file's content; ``name`` (its file name) gives the format and names it in errors."""
    suffix = _check_suffix(name)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AnswersDataError(f"回答文件 {name} 不是 UTF-8 编码（{exc.reason}）：请另存为 UTF-8") from None
    data = data.removeprefix("\ufeff")
    rows = _jsonl_rows(data) if suffix == ".jsonl" else _csv_rows(data)
    return _validate(name, rows, aliases or AliasTable())


_Row = tuple[int, dict | None, str | None]  # (line, fields, or the reason the line is unreadable)


def _jsonl_rows(text: str) -> list[_Row]:
    rows: list[_Row] = []
    for n, line in enumerate(jsonl_lines(text), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append((n, None, f"不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）：每行写一个 JSON 对象，"
                                  '如 {"id": "a1", "answer": "……"}'))
            continue
        if not isinstance(obj, dict):
            rows.append((n, None, f"每行应是一个 JSON 对象，现在是 {type(obj).__name__}"))
            continue
        rows.append((n, obj, None))
    return rows


def _csv_rows(text: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))  # csv's own line ends, not str.splitlines's
    try:
        header = next(reader)
    except StopIteration:
        return []
    header = [h.strip() for h in header]
    rows: list[_Row] = []
    bad = [h for h in header if h not in FIELDS]
    if bad:
        rows.append((1, None, f"表头有不认识的列 {bad}：可用的列是 {'、'.join(FIELDS)}（id 和 answer 必填）"))
    missing = [f for f in ("id", "answer") if f not in header]
    if missing:
        rows.append((1, None, f"表头缺少 {'、'.join(missing)} 列：第一行应是列名，如 id,question,answer,expected"))
    if bad or missing:
        return rows
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rows.append((start, None, f"有 {len(cells)} 列，表头有 {len(header)} 列：含逗号或换行的格子要用双引号括起来"))
            continue
        obj = {h: c for h, c in zip(header, cells, strict=True)}
        for name in ("expected", "accept"):
            cell = obj.get(name, "").strip()
            if cell:
                obj[name] = [c for c in cell.replace("；", ";").split(";") if c.strip()]
            else:
                obj.pop(name, None)
        if not obj.get("question", "").strip():
            obj.pop("question", None)
        rows.append((start, obj, None))
    return rows


def _validate(path: str, rows: list[_Row], aliases: AliasTable) -> list[AnswerItem]:
    errors: list[str] = []
    out: list[AnswerItem] = []
    seen: dict[str, int] = {}
    for n, obj, problem in rows:
        where = f"{path}:{n}"
        if obj is None:
            errors.append(f"{where}: {problem}")
            continue
        before = len(errors)
        unknown = sorted(set(obj) - set(FIELDS))
        if unknown:
            errors.append(f"{where}: 有不认识的字段 {unknown}：可用的字段是 {'、'.join(FIELDS)}（id 和 answer 必填）")
        qid = obj.get("id")
        if qid is None or isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
            errors.append(f"{where}: 缺少 id（或 id 为空）：每个回答要有唯一的 id，如 \"id\": \"a1\"")
        else:
            qid = str(qid).strip()
            if qid in seen:
                errors.append(f"{where}: id “{qid}” 与第 {seen[qid]} 行重复：每个回答的 id 必须唯一")
            seen.setdefault(qid, n)
        answer = obj.get("answer")
        if not isinstance(answer, str) or not answer.strip():
            errors.append(f"{where}: answer 是空的或不是文字：请填入被评测系统的回答全文")
        elif len(answer) > MAX_VERIFY_CHARS:
            errors.append(f"{where}: answer 太长（{len(answer)} 字，上限 {MAX_VERIFY_CHARS}）")
        question = obj.get("question", "")
        if not isinstance(question, str):
            errors.append(f"{where}: question 必须是文字，现在是 {question!r}")
        lists = {}
        for name in ("expected", "accept"):
            lists[name] = _citations(obj.get(name), name, aliases, where, errors)
        if len(errors) > before:
            continue
        expected, accept = lists["expected"], lists["accept"]
        out.append(AnswerItem(
            qid, answer, question,
            None if expected is None else tuple(c for c, _ in expected), tuple(c for c, _ in accept or ()),
            tuple(k for _, k in expected or ()), tuple(k for _, k in accept or ()), n,
        ))
    if errors:
        shown = errors[:_SHOWN_ERRORS]
        more = f"\n……另有 {len(errors) - len(shown)} 处错误" if len(errors) > len(shown) else ""
        raise AnswersDataError(f"回答文件 {path} 有 {len(errors)} 处错误：\n" + "\n".join(shown) + more)
    if not out:
        raise AnswersDataError(f"回答文件 {path} 里没有回答：每行一个，至少要有 id 和 answer（见 docs/evaluating-answers.md）")
    return out


def _citations(value: Any, name: str, aliases: AliasTable, where: str, errors: list[str]):
    """[(canonical, key)] of an expected/accept value (a list, or one ;-separated string); None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [c for c in value.replace("；", ";").split(";") if c.strip()]
    texts, keys, _ = gold_citations({name: value}, name, aliases, where, errors)
    return list(zip(texts, keys, strict=True))


# --- scoring --------------------------------------------------------------------------------------


def finding(category: str, c: CitationCheck | None = None, citation: str = "", **evidence: Any) -> dict[str, Any]:
    """One finding: its category, the citation as canonical and as written, where, and the evidence."""
    if c is None:
        return {"category": category, "citation": citation, "raw": None, "start": None, "end": None,
                "status": None, "detail": _DETAILS.get(category, ""), "evidence": evidence}
    ev: dict[str, Any] = {}
    if c.check is not None:
        ev |= {"quote": c.quote, "quote_start": c.quote_start, "quote_end": c.quote_end, "presented": c.presented,
               "similarity": c.check.similarity, "official": c.check.matched_official,
               "differences": [{"op": d.op, "official": d.official, "quoted": d.quoted, "text": d.describe()}
                               for d in c.check.differences]}
    for name in ("law_status", "successor", "repealed_by", "last_article", "paragraphs", "items",
                 "matched_paragraph"):
        value = getattr(c, name)
        if value not in (None, ""):
            ev[name] = value
    if c.law_inferred:
        ev["law_inferred"] = True
    return {"category": category, "citation": c.citation, "raw": c.raw, "start": c.start, "end": c.end,
            "status": c.status, "detail": c.detail() or _DETAILS.get(category, ""), "evidence": ev | evidence}


def score_answer(item: AnswerItem, source: StatuteSource) -> dict[str, Any]:
    """The findings, citations and (with ``expected``) recall/precision of one answer."""
    checks = check_citations(item.answer, source)
    findings = [finding(CATEGORY_OF_STATUS[c.status], c) for c in checks if c.status in CATEGORY_OF_STATUS]
    row: dict[str, Any] = {
        "id": item.id, "question": item.question, "line": item.line,
        "citations": [{"citation": c.citation, "raw": c.raw, "start": c.start, "end": c.end, "status": c.status}
                      for c in checks],
        "expected": None if item.expected is None else list(item.expected),
        "got": [c.key() for c in checks],
    }
    if item.expected is not None:
        cited = {article_level(c.key()) for c in checks}
        for text, key in zip(item.expected, item.expected_keys, strict=True):
            if article_level(key) not in cited:
                findings.append(finding("missed_expected", citation=text, expected=text))
        allowed = {article_level(k) for k in (*item.expected_keys, *item.accept_keys)}
        flagged = {(f["start"], f["citation"]) for f in findings}
        reported: set[Key] = set()
        for c in checks:
            key = article_level(c.key())
            if key not in allowed and key not in reported and (c.start, c.citation) not in flagged:
                reported.add(key)
                findings.append(finding("extra", c))
        row["scores"] = {
            level: answer_citation_scores(
                [k if level == "paragraph" else article_level(k) for k in row["got"]],
                [k if level == "paragraph" else article_level(k) for k in item.expected_keys],
                [k if level == "paragraph" else article_level(k) for k in item.accept_keys],
            )
            for level in ("article", "paragraph")
        }
    row["findings"] = findings
    return row


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per-category rates with 95% intervals, citation statuses, and recall/precision where expected is given."""
    n = len(rows)
    out: dict[str, Any] = {"n_answers": n, "n_citations": sum(len(r["citations"]) for r in rows)}
    clean = [float(not r["findings"]) for r in rows]
    out["clean"] = {"answers": int(sum(clean)), "rate": sum(clean) / n if n else None,
                    "ci95": bootstrap_interval(clean)}
    categories = {}
    for cat in CATEGORIES:
        flags = [float(any(f["category"] == cat for f in r["findings"])) for r in rows]
        categories[cat] = {
            "answers": int(sum(flags)),
            "findings": sum(1 for r in rows for f in r["findings"] if f["category"] == cat),
            "rate": sum(flags) / n if n else None,
            "ci95": bootstrap_interval(flags),
        }
    out["categories"] = categories
    statuses: dict[str, int] = {}
    for r in rows:
        for c in r["citations"]:
            statuses[c["status"]] = statuses.get(c["status"], 0) + 1
    out["citation_statuses"] = statuses
    gold = {r["id"]: {"got": [tuple(k) for k in r["got"]], "expected": _keys(r, "expected_keys"),
                      "accept": _keys(r, "accept_keys")} for r in rows if r["expected"] is not None}
    out["n_with_expected"] = len(gold)
    if gold:
        out |= citation_metrics(gold, "article", intervals=True)
        out |= citation_metrics(gold, "paragraph", intervals=True)
    return out


def _keys(row: dict[str, Any], name: str) -> list[tuple]:
    return [tuple(k) for k in row.get(name, [])]


def score_answers(
    items: Sequence[AnswerItem],
    source: StatuteSource,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Score every answer; returns {"summary", "answers", "runtime_s"} (the caller adds meta).

    ``on_progress(done, total)`` is called as answers are scored, for a progress bar.
    """
    t0 = time.perf_counter()
    rows = []
    step = max(1, len(items) // 100)
    for i, item in enumerate(items, 1):
        row = score_answer(item, source)
        row["expected_keys"] = [list(k) for k in item.expected_keys]
        row["accept_keys"] = [list(k) for k in item.accept_keys]
        rows.append(row)
        if on_progress is not None and (i % step == 0 or i == len(items)):
            on_progress(i, len(items))
    summary = summarize(rows)
    for row in rows:  # the keys were for the metrics; the report lists citations as written and canonical
        for name in ("got", "expected_keys", "accept_keys"):
            del row[name]
    return {"summary": summary, "answers": rows, "runtime_s": round(time.perf_counter() - t0, 3)}
