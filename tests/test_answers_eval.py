"""`legalqa eval --answers`: the sample file's planted errors, the seed article, bad files, compare, scale.

Everything runs on an index of the default corpus built with FakeEmbedder (``fake_searcher``):
the citation checker never searches, so the real model would add nothing but time.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from legalqa.eval import answers_report
from legalqa.eval.answers import (
    CATEGORIES,
    AnswerItem,
    AnswersDataError,
    load_answers,
    score_answer,
    score_answers,
)
from legalqa.qa.lawinfo import statute_source

from tests.conftest import CORPUS, REPO

EXAMPLES = REPO / "eval" / "examples"
PLANTED = json.loads((EXAMPLES / "answers.expected.json").read_text(encoding="utf-8"))["answers"]
SEED_NAME = "有一方逾期网贷怎么办理"
CIVIL = "中华人民共和国民法典"


def found(report: dict) -> dict[str, list[tuple[str, str]]]:
    return {r["id"]: sorted((f["category"], f["citation"]) for f in r["findings"]) for r in report["answers"]}


# --- the sample file ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["answers.jsonl", "answers.csv"])
def test_sample_file_flags_exactly_the_planted_errors(fake_searcher, name):
    items = load_answers(EXAMPLES / name, fake_searcher.aliases)
    report = answers_report.build(items, fake_searcher, answers_path=name)
    planted = {aid: sorted((f["category"], f["citation"]) for f in fs) for aid, fs in PLANTED.items()}
    assert found(report) == planted


@pytest.mark.model
def test_sample_file_on_the_real_index(real_searcher):
    """The engine's own searcher (real model) gives the same findings: the checker never searches."""
    items = load_answers(EXAMPLES / "answers.jsonl", real_searcher.aliases)
    planted = {aid: sorted((f["category"], f["citation"]) for f in fs) for aid, fs in PLANTED.items()}
    assert found(answers_report.build(items, real_searcher)) == planted


def test_sample_file_covers_every_category_and_style(fake_searcher):
    items = load_answers(EXAMPLES / "answers.jsonl", fake_searcher.aliases)
    assert len(items) >= 12
    assert {f["category"] for fs in PLANTED.values() for f in fs} == set(CATEGORIES)
    assert sum(1 for fs in PLANTED.values() if not fs) >= 4  # clean answers pass
    answers = [i.answer for i in items]
    assert any("**" in a or a.lstrip().startswith(("#", ">", "-", "|")) or "\n|" in a for a in answers)  # Markdown
    assert any("《" not in a and "第" in a for a in answers)  # no 《》
    assert any(re.search(r"第\d+条", a) for a in answers)  # Arabic numerals
    assert any(re.search(r"》[一二三四五六七八九十百千]+条", a) for a in answers)  # Chinese, without 第
    assert sum(i.expected is not None for i in items) >= 3


def test_csv_and_jsonl_samples_hold_the_same_answers(fake_searcher):
    jsonl = load_answers(EXAMPLES / "answers.jsonl", fake_searcher.aliases)
    csv = load_answers(EXAMPLES / "answers.csv", fake_searcher.aliases)
    assert [replace(i, line=0) for i in jsonl] == [replace(i, line=0) for i in csv]


def test_findings_carry_their_evidence(fake_searcher):
    items = {i.id: i for i in load_answers(EXAMPLES / "answers.jsonl", fake_searcher.aliases)}
    source = statute_source(fake_searcher)

    def only(aid: str) -> dict:
        (f,) = score_answer(items[aid], source)["findings"]
        return f

    f = only("guarantee-omission")
    assert [(d["op"], d["official"]) for d in f["evidence"]["differences"]] == [("missing", "或者发生当事人约定的情形")]
    assert f["raw"] == "《民法典》六百八十一条" and items["guarantee-omission"].answer[f["start"] : f["end"]] == f["raw"]
    f = only("repealed-contract-law")
    assert f["evidence"]["successor"] == CIVIL
    assert f["evidence"]["repealed_by"] == f"《{CIVIL}》第一千二百六十条"
    assert only("invented-article")["evidence"]["last_article"] == "第一千二百六十条"
    assert only("paragraph-swapped")["evidence"]["matched_paragraph"] == 2
    assert only("paragraph-past-count")["evidence"]["paragraphs"] == 2
    assert only("item-past-count")["evidence"]["items"] == 7


def test_recall_and_precision_at_article_and_paragraph_level(fake_searcher):
    items = load_answers(EXAMPLES / "answers.jsonl", fake_searcher.aliases)
    rows = {r["id"]: r for r in score_answers(items, statute_source(fake_searcher))["answers"]}
    assert rows["missed-and-extra"]["scores"]["article"] == {"recall": 0.0, "precision": 0.0, "f1": 0.0}
    # 第六百八十六条第二款 is accepted at article level, so the answer's precision is whole.
    assert rows["guarantee-md"]["scores"]["paragraph"] == {"recall": 1.0, "precision": 1.0, "f1": 1.0}
    assert "scores" not in rows["no-citation"]  # no expected: no recall or precision
    summary = score_answers(items, statute_source(fake_searcher))["summary"]
    assert summary["n_with_expected"] == 5
    assert summary["citation_recall"] == pytest.approx(0.8) and summary["citation_recall_ci95"] is not None
    assert summary["categories"]["misquote"]["answers"] == 3
    assert summary["clean"]["answers"] == sum(1 for fs in PLANTED.values() if not fs)


# --- the seed article, scored as an answer ------------------------------------------------------------


@pytest.mark.parametrize("where", ["corpus copy", "shared seed"])
def test_seed_article_reports_its_misquote_and_paraphrase_and_nothing_else(fake_searcher, where, request):
    if where == "shared seed":
        path = request.getfixturevalue("shared_dir") / "seed" / f"{SEED_NAME}.txt"
        if not path.is_file():
            pytest.skip(f"seed text not found: {path}")
    else:
        path = CORPUS / "articles" / f"{SEED_NAME}.md"
    row = score_answer(AnswerItem("seed", path.read_text(encoding="utf-8")), statute_source(fake_searcher))
    assert [(f["category"], f["citation"], f["status"]) for f in row["findings"]] == [
        ("misquote", f"《{CIVIL}》第六百八十一条", "differs"),
        ("misquote", "《中华人民共和国刑法》第二百八十条之一", "not_a_quote"),
    ]
    c681 = next(f for f in row["findings"] if "六百八十一" in f["citation"])
    assert [d["text"] for d in c681["evidence"]["differences"]] == ["漏掉了「或者发生当事人约定的情形」"]


# --- bad files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("a.jsonl", '{"id": "a", "answer": "x"}\n{"answer": "民法典第一条"}\n', r"a\.jsonl:2: 缺少 id.*唯一的 id"),
        ("a.jsonl", '{"id": "a", "answer": "x"}\n{"id": "a", "answer": "y"}\n', r"a\.jsonl:2: id “a” 与第 1 行重复"),
        ("a.jsonl", '{"id": "a", "answer": "x"}\n{"id": "b", answer: 1}\n', r"a\.jsonl:2: 不是合法的 JSON.*每行写一个 JSON 对象"),
        ("a.jsonl", '{"id": "a", "answer": "  "}\n', r"a\.jsonl:1: answer 是空的.*回答全文"),
        ("a.jsonl", '{"id": "a", "answer": "x", "model": "gpt"}\n', r"a\.jsonl:1: 有不认识的字段 \['model'\].*可用的字段是"),
        ("a.jsonl", '["a", "x"]\n', r"a\.jsonl:1: 每行应是一个 JSON 对象"),
        ("a.jsonl", '{"id": "a", "answer": "x", "expected": ["民法典第六百八十八十条"]}\n',
         r"a\.jsonl:1: expected\[0\] “民法典第六百八十八十条” 不是合法的法条引用.*应写成如"),
        ("a.jsonl", '{"id": "a", "answer": "x", "expected": 3}\n', r"expected 必须是字符串列表"),
        ("a.jsonl", "\n\n", r"里没有回答"),
        ("a.csv", "id,answer,model\na,x,gpt\n", r"a\.csv:1: 表头有不认识的列 \['model'\]"),
        ("a.csv", "id,question\na,x\n", r"a\.csv:1: 表头缺少 answer 列"),
        ("a.csv", 'id,answer\na,x\nb,"y",z\n', r"a\.csv:3: 有 3 列，表头有 2 列.*双引号"),
        ("a.csv", "id,answer\na,x\n,y\n", r"a\.csv:3: 缺少 id"),
        ("a.txt", "whatever", r"扩展名应是 \.jsonl 或 \.csv"),
    ],
)
def test_bad_answer_files_name_the_line_and_the_fix(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AnswersDataError, match=message):
        load_answers(path)


def test_every_bad_line_is_listed_at_once(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"answer": "x"}\n{"id": "b", "answer": ""}\n{"id": "c"', encoding="utf-8")
    with pytest.raises(AnswersDataError, match="3 处错误") as err:
        load_answers(path)
    assert all(f"a.jsonl:{n}:" in str(err.value) for n in (1, 2, 3))


def test_line_separators_inside_an_answer_do_not_split_its_line(tmp_path):
    import json

    text = "第一段\u2028第二段\x0c第三段\u0085完"
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(json.dumps({"id": "a", "answer": text}, ensure_ascii=False) + "\r\n"
                     + json.dumps({"id": "b", "answer": "x"}) + "\n", encoding="utf-8")
    assert [(i.id, i.answer) for i in load_answers(jsonl)] == [("a", text), ("b", "x")]
    csv_file = tmp_path / "a.csv"
    csv_file.write_text(f'id,answer\r\na,"{text}"\r\nb,"两行\n回答"\r\n', encoding="utf-8")
    assert [(i.id, i.answer) for i in load_answers(csv_file)] == [("a", text), ("b", "两行\n回答")]


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(AnswersDataError, match="找不到回答文件"):
        load_answers(tmp_path / "none.jsonl")
    path = tmp_path / "gbk.csv"
    path.write_bytes("id,answer\na,民法典第一条\n".encode("gbk"))
    with pytest.raises(AnswersDataError, match="不是 UTF-8 编码"):
        load_answers(path)


def test_csv_expected_is_semicolon_separated(tmp_path, fake_searcher):
    path = tmp_path / "a.csv"
    path.write_text("id,answer,expected\na,民法典第681条,民法典第681条；民法典第688条第2款\nb,无,\n", encoding="utf-8")
    a, b = load_answers(path, fake_searcher.aliases)
    assert a.expected == (f"《{CIVIL}》第六百八十一条", f"《{CIVIL}》第六百八十八条第二款")
    assert b.expected is None  # an empty cell gives no expected list, so no recall or extra


# --- report files and comparison ----------------------------------------------------------------------


def test_report_files_and_compare(tmp_path, fake_searcher):
    items = load_answers(EXAMPLES / "answers.jsonl", fake_searcher.aliases)
    old = answers_report.build(items, fake_searcher, answers_path="answers.jsonl")
    paths = answers_report.write(old, tmp_path / "old")
    assert {p.name for p in paths.values()} == {"report.json", "report.md", "categories.png"}
    saved = answers_report.load_report(paths["json"])
    assert saved["answers"][0]["findings"] == [] and saved["meta"]["kind"] == "answers"
    md = paths["md"].read_text(encoding="utf-8")
    assert "| misquote | 引文不是法条原文 | 3 |" in md and "漏掉了「或者发生当事人约定的情形」" in md

    fixed = [replace(i, answer="《民法典》第六百八十一条规定：“保证合同是为保障债权的实现，保证人和债权人约定，当债务人不履行"
                             "到期债务或者发生当事人约定的情形时，保证人履行债务或者承担责任的合同。”")
             if i.id == "guarantee-omission" else i for i in items if i.id != "no-citation"]
    new = answers_report.build(fixed, fake_searcher, compare=saved)
    diff = new["compare"]
    assert diff["changed"] == [{"id": "guarantee-omission", "verdict": "better", "added": [],
                                "removed": [["misquote", f"《{CIVIL}》第六百八十一条"]]}]
    assert diff["only_old"] == ["no-citation"] and diff["only_new"] == []
    assert diff["summary"]["misquote_rate"] == [pytest.approx(3 / 18), pytest.approx(2 / 17)]
    paths = answers_report.write(new, tmp_path / "new")
    assert "[better] guarantee-omission: -misquote" in paths["compare"].read_text(encoding="utf-8")


def test_compare_refuses_a_question_eval_report(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"meta": {"command": "legalqa eval"}, "rows": []}), encoding="utf-8")
    with pytest.raises(AnswersDataError, match="不是 `legalqa eval --answers` 写出的报告"):
        answers_report.load_report(path)


def test_compare_names_a_damaged_report_and_reads_an_older_one(tmp_path, fake_searcher):
    items = load_answers(EXAMPLES / "answers.jsonl", fake_searcher.aliases)
    old = answers_report.build(items, fake_searcher)
    broken = json.loads(json.dumps(old))
    del broken["answers"][0]["findings"]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(AnswersDataError, match="缺少比较所需的字段"):
        answers_report.load_report(path)
    older = json.loads(json.dumps(old))
    del older["summary"]["categories"]["misquote"]  # a report written before a category existed
    diff = answers_report.build(items, fake_searcher, compare=older)["compare"]
    assert diff["summary"]["misquote_rate"] == [None, pytest.approx(3 / 18)] and diff["changed"] == []


def test_cli_writes_the_report(tmp_path, capsys):
    from legalqa.cli import main
    from legalqa.config import load_settings
    from legalqa.engine import Engine

    home = tmp_path / "home"
    Engine(load_settings(env={}).with_(home=home, index_dir=home / "index", model="fake")).build([CORPUS])
    out = tmp_path / "out"
    argv = ["eval", "--answers", str(EXAMPLES / "answers.jsonl"), "--out", str(out), "-q",
            "--index", str(home / "index"), "--model", "fake"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert re.search(r"misquote\s+3\s+0\.167", printed)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert found(report)["paraphrase-block"] == [("misquote", "《中华人民共和国刑法》第二百六十六条")]
    assert report["meta"]["command"].startswith("legalqa eval --answers")


@pytest.mark.parametrize("extra", [["--gate"], ["--split", "tune"], ["--questions", "q.jsonl"]])
def test_cli_refuses_options_of_the_question_eval(extra, capsys):
    from legalqa.cli import main

    assert main(["eval", "--answers", str(EXAMPLES / "answers.jsonl"), *extra]) == 2
    assert "--answers 评测的是回答文件，不能与" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["none.jsonl", "answers.txt"])
def test_cli_names_a_bad_answers_file_before_loading_the_index(tmp_path, monkeypatch, capsys, name):
    from legalqa.cli import main
    from legalqa.engine import Engine

    (tmp_path / "answers.txt").write_text("id,answer\n", encoding="utf-8")
    monkeypatch.setattr(Engine, "__init__", lambda *a, **k: pytest.fail("the engine was built before the file was checked"))
    assert main(["eval", "--answers", str(tmp_path / name)]) == 2
    assert ("找不到回答文件" if name == "none.jsonl" else "扩展名应是 .jsonl 或 .csv") in capsys.readouterr().err


# --- at scale (the speed is bench.py's figure, not a test's) -------------------------------------------


def test_1000_repeated_answers_score_as_each_one_does_alone(fake_searcher):
    """Each of 1,000 copies of the sample answers gets its original's row, and the summary counts add up."""
    items = load_answers(EXAMPLES / "answers.jsonl", fake_searcher.aliases)
    source = statute_source(fake_searcher)
    alone = {row["id"]: row for row in score_answers(items, source)["answers"]}
    many = [replace(items[i % len(items)], id=str(i)) for i in range(1000)]
    result = score_answers(many, source)
    originals = [alone[items[i % len(items)].id] for i in range(1000)]
    assert [{**row, "id": original["id"]} for row, original in zip(result["answers"], originals, strict=True)] == originals
    summary = result["summary"]
    assert summary["n_answers"] == 1000
    assert summary["n_citations"] == sum(len(row["citations"]) for row in originals)
    assert summary["clean"]["answers"] == sum(not row["findings"] for row in originals)
    assert any(row["findings"] for row in originals) and any(not row["findings"] for row in originals)
    for cat in CATEGORIES:
        assert summary["categories"][cat]["findings"] == sum(
            f["category"] == cat for row in originals for f in row["findings"]), cat
