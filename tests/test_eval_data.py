"""eval.data: the gold jsonl and STARD loaders, their errors (file and line), and gold-vs-index reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from legalqa.eval.data import (
    EvalDataError,
    for_index,
    gold_not_in_index,
    load_jsonl,
    load_questions,
    load_stard,
    restrict_to_index,
    select_split,
)

REPO = Path(__file__).resolve().parents[1]
MFD = "中华人民共和国民法典"
GOOD = {"id": "guar-001", "question": "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？",
        "expected": ["《中华人民共和国民法典》第六百八十八条第二款"],
        "accept": ["《中华人民共和国民法典》第六百八十六条"], "article_section": "如果你只是知情者或担保人",
        "answerable": True, "topic": "guarantee", "style": "colloquial", "split": "tune"}
OOS = {"id": "oos-001", "question": "怎么注册商标？", "expected": [], "answerable": False, "split": "heldout"}


def write(tmp_path: Path, *lines: object, name: str = "q.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


def test_loads_valid_file_with_defaults_and_canonical_gold(tmp_path):
    short = {"id": "x-1", "question": "民法典第688条怎么规定？", "expected": ["民法典第688条第2款"]}
    qs = load_jsonl(write(tmp_path, GOOD, OOS, short))
    assert [q.id for q in qs] == ["guar-001", "oos-001", "x-1"]
    g = qs[0]
    assert g.expected == ("《中华人民共和国民法典》第六百八十八条第二款",)
    assert g.expected_keys == ((MFD, 688, 0, 2),) and g.accept_keys == ((MFD, 686, 0, None),)
    assert (g.split, g.topic, g.line) == ("tune", "guarantee", 1)
    assert qs[1].answerable is False and qs[1].expected == () and qs[1].accept == ()
    # Short forms are normalised; answerable defaults to "expected is non-empty"; split may be left out.
    assert qs[2].expected == ("《中华人民共和国民法典》第六百八十八条第二款",)
    assert qs[2].answerable is True and qs[2].split is None and qs[2].line == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "question": "问", "expected": [', "不是合法的 JSON"),
        ('["not", "an", "object"]', "JSON 对象"),
        ({"id": "a", "question": "问题"}, "缺少必填字段 expected"),
        (GOOD | {"split": "test"}, "split 只能是 tune 或 heldout"),
        (GOOD | {"expected": ["民法典第六百八十八十条"]}, "“民法典第六百八十八十条” 不是合法的法条引用"),
        (GOOD | {"expected": ["第六百八十八条"]}, "没有写明法律名称"),
        (GOOD | {"expected": ["民法典第一条、第二条"]}, "不是合法的法条引用"),
        (GOOD | {"expected": "《中华人民共和国民法典》第六百八十八条"}, "expected 必须是字符串列表"),
        (GOOD | {"answerable": False}, "answerable 为 false"),
        (GOOD | {"expected": []}, "answerable 为 true 但 expected 为空"),
        (GOOD | {"answerable": "yes"}, "answerable 必须是 true 或 false"),
        (GOOD | {"accept": GOOD["expected"]}, "同时出现在 expected 和 accept 中"),
        (GOOD | {"question": "  "}, "question 必须是非空字符串"),
        (GOOD | {"question": "问" * 2001}, "question 太长"),
        (GOOD | {"topic": 3}, "topic 必须是字符串"),
        (GOOD | {"library": {"expected": ["《中华人民共和国商标法》第五条"]}}, "只有超出范围的问题"),
        (OOS | {"id": "o2", "library": {"expected": []}}, "library.expected 为空"),
        (OOS | {"id": "o2", "library": ["《中华人民共和国商标法》第五条"]}, "library 必须是只含 expected、accept 的对象"),
        (OOS | {"id": "o2", "library": {"expected": ["商标法第五条"], "gold": []}}, "只含 expected、accept"),
        (OOS | {"id": "o2", "library": {"expected": ["商标法第五十五十条"]}}, "library: expected[0] “商标法第五十五十条” 不是合法的法条引用"),
        (OOS | {"id": "o2", "library": {"expected": ["商标法第五条"], "accept": ["商标法第五条"]}},
         "同时出现在 expected 和 accept 中"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, line, message):
    path = write(tmp_path, OOS, line)
    with pytest.raises(EvalDataError) as err:
        load_jsonl(path)
    assert f"{path}:2:" in str(err.value)
    assert message in str(err.value)


def test_blank_line_duplicate_id_and_all_errors_listed(tmp_path):
    path = write(tmp_path, GOOD, "", GOOD, OOS | {"split": "dev"})
    with pytest.raises(EvalDataError) as err:
        load_jsonl(path)
    text = str(err.value)
    assert "有 3 处错误" in text
    assert f"{path}:2: 空行" in text
    assert f"{path}:3: id guar-001 与第 1 行重复" in text
    assert f"{path}:4: split" in text


def test_missing_empty_and_unknown_format(tmp_path):
    with pytest.raises(EvalDataError, match="找不到问题文件"):
        load_jsonl(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(EvalDataError, match="是空的"):
        load_jsonl(tmp_path / "empty.jsonl")
    with pytest.raises(EvalDataError, match="--format"):
        load_questions(tmp_path / "empty.jsonl", "csv")
    (tmp_path / "gbk.jsonl").write_bytes(json.dumps(GOOD, ensure_ascii=False).encode("gbk"))
    with pytest.raises(EvalDataError, match="UTF-8"):
        load_jsonl(tmp_path / "gbk.jsonl")


def test_gold_not_in_index_is_reported_not_dropped(tmp_path):
    typo_law = GOOD | {"id": "x-2", "expected": ["《某某条例》第一条"], "accept": []}
    missing_article = GOOD | {"id": "x-3", "expected": ["《中华人民共和国民法典》第一条"], "accept": []}
    too_many_paragraphs = GOOD | {"id": "x-4", "expected": ["《中华人民共和国民法典》第六百八十八条第五款"], "accept": []}
    qs = load_jsonl(write(tmp_path, GOOD, typo_law, missing_article, too_many_paragraphs))
    known = {(MFD, 688, 0): 2, (MFD, 686, 0): 2}
    problems = gold_not_in_index(qs, known)
    assert len(qs) == 4  # every question is kept
    assert [(p.id, p.line, p.field, p.problem) for p in problems] == [
        ("x-2", 2, "expected", "索引中没有这部法律"),
        ("x-3", 3, "expected", "索引中没有这一条"),
        ("x-4", 4, "expected", "这一条只有 2 款"),
    ]
    assert str(problems[0]).startswith(f"{tmp_path / 'q.jsonl'}:2: x-2 expected 《某某条例》第一条")


def test_select_split(tmp_path):
    qs = load_jsonl(write(tmp_path, GOOD, OOS))
    assert [q.id for q in select_split(qs, "tune")] == ["guar-001"]
    assert [q.id for q in select_split(qs, "heldout")] == ["oos-001"]
    assert len(select_split(qs, "all")) == 2
    with pytest.raises(EvalDataError, match="--split all"):
        select_split([q for q in qs if q.split == "tune"], "heldout")
    with pytest.raises(EvalDataError, match="--split 只能是"):
        select_split(qs, "dev")


# --- STARD ------------------------------------------------------------------------------------


def test_stard_resolves_law_aliases_and_restricts_to_index(tmp_path):
    path = write(
        tmp_path,
        {"id": 1, "question": "保证人能直接被要求还钱吗？", "gold": [{"law": "民法典", "article": "第六百八十八条"}]},
        {"id": 2, "question": "担保合同无效怎么办？", "gold": [
            {"law": "中华人民共和国民法典", "article": "第六百八十二条"},
            {"law": "最高人民法院关于适用《民法典》有关担保制度的解释", "article": "第十七条"}]},
        {"id": 3, "question": "个人信息是什么？", "gold": [{"law": "个保法", "article": "第4条"}]},
        name="stard.jsonl",
    )
    qs = load_stard(path)
    assert [q.id for q in qs] == ["stard-1", "stard-2", "stard-3"]
    from legalqa.eval.data import stard_splits

    assert all(q.answerable and q.accept == () for q in qs)
    assert [q.split for q in qs] == [stard_splits().get(i) for i in (1, 2, 3)]  # the frozen part of each id, if any
    assert qs[0].expected == ("《中华人民共和国民法典》第六百八十八条",)
    assert qs[1].expected_keys[1][0] == "最高人民法院关于适用《中华人民共和国民法典》有关担保制度的解释"
    assert qs[2].expected == ("《中华人民共和国个人信息保护法》第四条",)
    known = {(MFD, 688, 0): 2, (MFD, 682, 0): 2, ("中华人民共和国个人信息保护法", 4, 0): 2}
    kept, dropped = restrict_to_index(qs, known)
    assert [q.id for q in kept] == ["stard-1", "stard-3"] and [q.id for q in dropped] == ["stard-2"]


def test_stard_errors_name_the_line(tmp_path):
    path = write(tmp_path, {"id": 1, "question": "问题", "gold": [{"law": "民法典", "article": "第六百八十八十条"}]},
                 {"id": 2, "question": "问题"}, name="stard.jsonl")
    with pytest.raises(EvalDataError) as err:
        load_questions(path, "stard")
    assert f"{path}:1: gold[0] 的条号 “第六百八十八十条” 不合法" in str(err.value)
    assert f"{path}:2: STARD 格式每行应有 question 和 gold 字段" in str(err.value)


def test_library_gold_makes_an_out_of_scope_question_answerable_only_over_the_library(tmp_path):
    lib = OOS | {"library": {"expected": ["《中华人民共和国商标法》第五条第二款"], "accept": ["商标法第二十六条"]}}
    qs = load_jsonl(write(tmp_path, GOOD, lib, OOS | {"id": "oos-002"}))
    assert qs[1].answerable is False and qs[1].expected == ()  # the default corpus cannot answer it
    assert for_index(qs, has_library=False) == qs
    judged = for_index(qs, has_library=True)
    assert judged[0] == qs[0] and judged[2] == qs[2]  # the rest as they are
    q = judged[1]
    assert (q.id, q.question, q.split, q.answerable, q.topic) == ("oos-001", OOS["question"], "heldout", True, "library")
    assert q.expected == ("《中华人民共和国商标法》第五条第二款",)
    assert q.expected_keys == (("中华人民共和国商标法", 5, 0, 2),)
    assert q.accept == ("《中华人民共和国商标法》第二十六条",) and q.accept_keys == (("中华人民共和国商标法", 26, 0, None),)


# --- the real files ---------------------------------------------------------------------------


def test_project_question_file_loads():
    qs = load_jsonl(REPO / "eval" / "questions.jsonl")
    assert len(qs) == 296
    assert {q.split for q in qs} == {"tune", "heldout"}
    assert sum(not q.answerable for q in qs) == 38
    # 29 of them are questions of Chinese law whose answer the statute library holds (field ``library``).
    assert sum(q.in_library is not None for q in qs) == 29
    assert all(not q.answerable for q in qs if q.in_library)


@pytest.mark.shared
def test_shared_stard_file_loads(shared_dir):
    qs = load_stard(shared_dir / "stard" / "train.jsonl")
    assert len(qs) == 1235
    assert all(q.expected for q in qs)


def test_the_stard_split_is_frozen_by_id_and_follows_its_recorded_rule():
    import hashlib

    from legalqa.eval.data import STARD_SPLIT, stard_splits

    splits = stard_splits()
    recorded = json.loads(STARD_SPLIT.read_text(encoding="utf-8"))
    assert len(splits) == len(recorded["tune"]) + len(recorded["heldout"]) == 1235  # no id in both parts
    for qid, part in splits.items():
        drawn = "heldout" if int(hashlib.sha256(f"stard:{qid}".encode()).hexdigest(), 16) % 5 < 2 else "tune"
        assert part == drawn, qid
    assert (len(recorded["tune"]), len(recorded["heldout"])) == (735, 500)


@pytest.mark.shared
def test_every_stard_question_has_a_part(shared_dir):
    from legalqa.eval.data import load_stard, select_split

    questions = load_stard(shared_dir / "stard" / "train.jsonl")
    assert {q.split for q in questions} == {"tune", "heldout"}
    assert len(select_split(questions, "heldout")) == 500 and len(select_split(questions, "tune")) == 735
