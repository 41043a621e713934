"""Question files for `legalqa eval`: the gold jsonl format and STARD, validated line by line.

``load_questions(path, fmt)`` returns ``Question`` records with their gold citations in
canonical form and as keys ``(law, article, suffix, 款)``. Anything malformed (bad JSON,
a missing field, a bad split, a gold citation that does not parse, such as
民法典第六百八十八十条) raises ``EvalDataError`` naming the file and line; all problems in
a file are listed at once. A gold citation that parses but names an article the index
does not have is not an error: ``gold_not_in_index`` lists it so the report can show it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from legalqa.index.config import MAX_QUERY_CHARS
from legalqa.ingest.aliases import AliasTable, clean_name
from legalqa.ingest.citations import canonical, parse_article_label, parse_citation

FORMATS = ("jsonl", "stard")
SPLITS = ("tune", "heldout")
SPLIT_CHOICES = (*SPLITS, "all")
REQUIRED = ("id", "question", "expected")
_SHOWN_ERRORS = 20

Key = tuple  # (law, article, suffix, paragraph)


class EvalDataError(ValueError):
    """A question file that cannot be evaluated; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expected: tuple[str, ...]  # canonical citations, e.g. 《中华人民共和国民法典》第六百八十八条第二款
    accept: tuple[str, ...] = ()
    answerable: bool = True
    article_section: str | None = None
    topic: str | None = None
    style: str | None = None
    split: str | None = None
    expected_keys: tuple[Key, ...] = ()
    accept_keys: tuple[Key, ...] = ()
    source: str = ""  # the file it came from
    line: int = 0
    expected_items: tuple[int | None, ...] = ()  # the 项 each expected citation names, if any
    # An out-of-scope question that the statute library answers: the same question with the library's
    # gold (field ``library``); ``for_index`` swaps it in when the index holds the library.
    in_library: Question | None = None

    @property
    def expected_refs(self) -> tuple[tuple, ...]:
        """Each expected citation as (law, article, suffix, 款, 项), for the 款-level metrics."""
        items = self.expected_items or (None,) * len(self.expected_keys)
        return tuple((*k, i) for k, i in zip(self.expected_keys, items, strict=True))


@dataclass(frozen=True)
class GoldProblem:
    """A gold citation that parses but that the index cannot match (so it is a guaranteed miss)."""

    id: str
    source: str
    line: int
    field: str  # expected / accept
    citation: str
    problem: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.id} {self.field} {self.citation}：{self.problem}"


def _errors(path: Path, errors: list[str]) -> EvalDataError:
    shown = errors[:_SHOWN_ERRORS]
    more = f"\n……另有 {len(errors) - len(shown)} 处错误" if len(errors) > len(shown) else ""
    return EvalDataError(f"问题文件 {path} 有 {len(errors)} 处错误：\n" + "\n".join(shown) + more)


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSON Lines text: split at \n only (a \r before it dropped). ``str.splitlines`` would
    also split at U+2028, U+0085 or a form feed, which ``json.dumps(ensure_ascii=False)`` writes raw
    inside strings, and so break a valid line in two."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _read_lines(path: str | Path) -> tuple[Path, list[str]]:
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(f"找不到问题文件 {path}：请用 --questions 指定一个存在的 .jsonl 文件")
    try:
        return path, jsonl_lines(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"问题文件 {path} 不是 UTF-8 编码（{exc}）：请另存为 UTF-8") from None


def citation_parts(text: str, aliases: AliasTable) -> tuple[str, Key, int | None]:
    """(canonical, key, 项) of one gold citation; ValueError with the reason when it is not one citation of a named law."""
    ref = parse_citation(text, aliases)
    if ref.law is None:
        raise ValueError("没有写明法律名称，应写成《全名》第X条")
    return ref.canonical(), (ref.law, ref.article, ref.suffix, ref.paragraph), ref.item


def _question_text(value: Any) -> str | None:
    """The reason a question text cannot be asked, or None when it is fine."""
    if not isinstance(value, str) or not value.strip():
        return "question 必须是非空字符串"
    if len(value) > MAX_QUERY_CHARS:
        return f"question 太长（{len(value)} 字，上限 {MAX_QUERY_CHARS}）"
    return None


def _citations(obj: dict, field: str, aliases: AliasTable, where: str, errors: list[str]):
    """(canonical citations, keys, 项) of one field of a question line; problems go to ``errors``."""
    value = obj.get(field, [])
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        errors.append(f"{where}: {field} 必须是字符串列表，现在是 {value!r}")
        return [], [], []
    texts, keys, items = [], [], []
    for i, text in enumerate(value):
        try:
            canon, key, item = citation_parts(text, aliases)
        except ValueError as exc:
            errors.append(f"{where}: {field}[{i}] “{text}” 不是合法的法条引用（{exc}）；应写成如 《中华人民共和国民法典》第六百八十八条第二款")
            continue
        if canon in texts:
            errors.append(f"{where}: {field} 重复列出 {canon}")
            continue
        texts.append(canon)
        keys.append(key)
        items.append(item)
    return texts, keys, items


_BAD = object()
LIBRARY_FIELDS = ("expected", "accept")


def _library_gold(obj: dict, answerable: Any, aliases: AliasTable, where: str, errors: list[str]):
    """The ``library`` field of a line: (expected, accept) as ``_citations`` gives them, or None when absent.

    Only an out-of-scope question (``answerable`` false) may have one: it is a question of Chinese law that
    the default corpus cannot answer and the statute library can, with these gold articles.
    """
    value = obj.get("library")
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - set(LIBRARY_FIELDS):
        errors.append(f"{where}: library 必须是只含 expected、accept 的对象，现在是 {value!r}")
        return None
    if answerable is not False:
        errors.append(f"{where}: 只有超出范围的问题（\"answerable\": false）才能写 library；能回答的问题把引用写在 expected")
        return None
    expected = _citations(value, "expected", aliases, f"{where}: library", errors)
    if not value.get("expected"):
        errors.append(f"{where}: library.expected 为空：写出法规库中回答这个问题的法条，或删掉 library")
    accept = _citations(value, "accept", aliases, f"{where}: library", errors)
    both = sorted(set(expected[0]) & set(accept[0]))
    if both:
        errors.append(f"{where}: library 的 {'、'.join(both)} 同时出现在 expected 和 accept 中，只保留在 expected")
    return expected, accept


def _json_line(line: str, where: str, errors: list[str]) -> object:
    """One line's JSON value, or _BAD after recording why it is not JSON."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        errors.append(f"{where}: 不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）")
        return _BAD


def load_jsonl(path: str | Path, aliases: AliasTable | None = None) -> list[Question]:
    """Read the gold format of eval/README.md; raise EvalDataError listing every bad line."""
    aliases = aliases or AliasTable()
    path, lines = _read_lines(path)
    errors: list[str] = []
    out: list[Question] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        where = f"{path}:{n}"
        if not line.strip():
            errors.append(f"{where}: 空行（格式不允许空行，请删除）")
            continue
        obj = _json_line(line, where, errors)
        if obj is _BAD:
            continue
        if not isinstance(obj, dict):
            errors.append(f"{where}: 每行应是一个 JSON 对象，现在是 {type(obj).__name__}")
            continue
        missing = [f for f in REQUIRED if f not in obj]
        if missing:
            errors.append(f"{where}: 缺少必填字段 {', '.join(missing)}")
            continue
        before = len(errors)
        qid = obj["id"]
        if not isinstance(qid, (str, int)) or isinstance(qid, bool) or not str(qid).strip():
            errors.append(f"{where}: id 必须是非空字符串，现在是 {qid!r}")
        qid = str(qid)
        if qid in seen:
            errors.append(f"{where}: id {qid} 与第 {seen[qid]} 行重复")
        seen.setdefault(qid, n)
        bad_text = _question_text(obj["question"])
        if bad_text:
            errors.append(f"{where}: {bad_text}")
        expected, expected_keys, expected_items = _citations(obj, "expected", aliases, where, errors)
        accept, accept_keys, _ = _citations(obj, "accept", aliases, where, errors)
        both = sorted(set(expected) & set(accept))
        if both:
            errors.append(f"{where}: {'、'.join(both)} 同时出现在 expected 和 accept 中，只保留在 expected")
        answerable = obj.get("answerable", bool(obj["expected"]))
        if not isinstance(answerable, bool):
            errors.append(f"{where}: answerable 必须是 true 或 false，现在是 {answerable!r}")
        elif answerable and not obj["expected"]:
            errors.append(f"{where}: answerable 为 true 但 expected 为空；超出范围的问题请写 \"answerable\": false")
        elif not answerable and obj["expected"]:
            errors.append(f"{where}: answerable 为 false（应拒答）却列出了 expected 引用")
        split = obj.get("split")
        if split is not None and split not in SPLITS:
            errors.append(f"{where}: split 只能是 tune 或 heldout（或省略），现在是 {split!r}")
        for name in ("article_section", "topic", "style"):
            if obj.get(name) is not None and not isinstance(obj[name], str):
                errors.append(f"{where}: {name} 必须是字符串或 null，现在是 {obj[name]!r}")
        library = _library_gold(obj, answerable, aliases, where, errors)
        if len(errors) > before:
            continue
        q = Question(
            qid, obj["question"], tuple(expected), tuple(accept), answerable, obj.get("article_section"),
            obj.get("topic"), obj.get("style"), split, tuple(expected_keys), tuple(accept_keys), str(path), n,
            tuple(expected_items),
        )
        if library is not None:
            (lib_expected, lib_keys, lib_items), (lib_accept, lib_accept_keys, _) = library
            q = replace(q, in_library=replace(
                q, expected=tuple(lib_expected), accept=tuple(lib_accept), answerable=True, expected_keys=tuple(lib_keys),
                accept_keys=tuple(lib_accept_keys), expected_items=tuple(lib_items), topic="library"))
        out.append(q)
    if errors:
        raise _errors(path, errors)
    if not out:
        raise EvalDataError(f"问题文件 {path} 是空的：每行写一个 JSON 问题（格式见 eval/README.md）")
    return out


STARD_SPLIT = Path(__file__).with_name("stard_split.json")


def stard_splits(path: Path = STARD_SPLIT) -> dict[int, str]:
    """The frozen STARD split: question id -> "tune" | "heldout" (eval/stard_split.json, drawn once by id)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {i: "tune" for i in data["tune"]}
    out.update({i: "heldout" for i in data["heldout"]})
    return out


def load_stard(path: str | Path, aliases: AliasTable | None = None) -> list[Question]:
    """Read a STARD file (question + gold [{law, article}]); short law names resolve through ``aliases``.

    Every STARD question is answerable and has no topic or accept list. Its split comes from the
    frozen split by id (``stard_splits``); a question whose id the split does not list has none.
    """
    splits = stard_splits()
    aliases = aliases or AliasTable()
    path, lines = _read_lines(path)
    errors: list[str] = []
    out: list[Question] = []
    for n, line in enumerate(lines, 1):
        where = f"{path}:{n}"
        if not line.strip():
            continue
        obj = _json_line(line, where, errors)
        if obj is _BAD:
            continue
        if not isinstance(obj, dict) or "question" not in obj or "gold" not in obj:
            errors.append(f"{where}: STARD 格式每行应有 question 和 gold 字段")
            continue
        bad_text = _question_text(obj["question"])
        if bad_text:
            errors.append(f"{where}: {bad_text}")
            continue
        gold = obj["gold"]
        if not isinstance(gold, list) or not gold:
            errors.append(f"{where}: gold 应是非空列表 [{{\"law\": …, \"article\": …}}]")
            continue
        expected: list[str] = []
        keys: list[Key] = []
        for i, g in enumerate(gold):
            if not isinstance(g, dict) or not isinstance(g.get("law"), str) or not isinstance(g.get("article"), str):
                errors.append(f"{where}: gold[{i}] 应是 {{\"law\": 字符串, \"article\": 字符串}}，现在是 {g!r}")
                continue
            law = aliases.resolve(g["law"]) or clean_name(g["law"])
            try:
                number, suffix = parse_article_label(g["article"])
            except ValueError:
                errors.append(f"{where}: gold[{i}] 的条号 “{g['article']}” 不合法；应写成如 第五百零二条")
                continue
            canon = canonical(law, number, suffix)
            if canon not in expected:
                expected.append(canon)
                keys.append((law, number, suffix, None))
        qid = f"stard-{obj['id']}" if "id" in obj else f"stard-line{n}"
        split = splits.get(obj["id"]) if isinstance(obj.get("id"), int) else None
        out.append(Question(qid, obj["question"], tuple(expected), split=split, expected_keys=tuple(keys),
                            source=str(path), line=n))
    if errors:
        raise _errors(path, errors)
    if not out:
        raise EvalDataError(f"问题文件 {path} 里没有问题")
    return out


def load_questions(path: str | Path, fmt: str = "jsonl", aliases: AliasTable | None = None) -> list[Question]:
    """Load a question file in ``fmt`` ("jsonl" or "stard")."""
    if fmt not in FORMATS:
        raise EvalDataError(f"--format 只能是 {' 或 '.join(FORMATS)}，现在是 {fmt!r}")
    return load_jsonl(path, aliases) if fmt == "jsonl" else load_stard(path, aliases)


def for_index(questions: Sequence[Question], has_library: bool) -> list[Question]:
    """The questions as an index is judged on them: over the statute library, an out-of-scope question
    that the library answers (field ``library``) is answerable, with the library's gold."""
    if not has_library:
        return list(questions)
    return [q.in_library or q for q in questions]


def select_split(questions: Sequence[Question], split: str) -> list[Question]:
    """The questions of one split ("tune", "heldout"), or all of them ("all")."""
    if split not in SPLIT_CHOICES:
        raise EvalDataError(f"--split 只能是 tune、heldout 或 all，现在是 {split!r}")
    if split == "all":
        return list(questions)
    chosen = [q for q in questions if q.split == split]
    if not chosen:
        raise EvalDataError(f"没有属于 {split} 的问题（文件里的问题没有写 split 吗？）：请用 --split all")
    return chosen


def _key_problem(key: Key, known: Mapping[tuple, int]) -> str | None:
    law, article, suffix, paragraph = key
    if key[:3] not in known:
        laws = {k[0] for k in known}
        return "索引中没有这部法律" if law not in laws else "索引中没有这一条"
    if paragraph is not None and paragraph > max(1, known[key[:3]]):
        return f"这一条只有 {max(1, known[key[:3]])} 款"
    return None


def gold_not_in_index(questions: Sequence[Question], known: Mapping[tuple, int]) -> list[GoldProblem]:
    """Gold citations naming an article (or 款) the index lacks, with the reason; they are never dropped."""
    out = []
    for q in questions:
        for field, texts, keys in (("expected", q.expected, q.expected_keys), ("accept", q.accept, q.accept_keys)):
            for text, key in zip(texts, keys, strict=True):
                problem = _key_problem(key, known)
                if problem:
                    out.append(GoldProblem(q.id, q.source, q.line, field, text, problem))
    return out


def restrict_to_index(
    questions: Sequence[Question], known: Mapping[tuple, int]
) -> tuple[list[Question], list[Question]]:
    """(questions whose expected articles are all in the index, the rest), for STARD on a small corpus."""
    kept, dropped = [], []
    for q in questions:
        (kept if all(_key_problem(k, known) is None for k in q.expected_keys) else dropped).append(q)
    return kept, dropped
