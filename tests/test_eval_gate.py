"""The CI gate: the whole eval on the default corpus against eval/thresholds.toml.

The gate itself (marked ``model``) builds a fresh index of the default corpus in a temporary
folder with the real default model and runs ``legalqa eval --gate`` there, as a user would, once
on each retrieval backend (faiss, and Qdrant's embedded store), and checks that they agree.
The other tests check the thresholds file, the gate logic, and the whole eval pipeline with
the fake embedder (fast, no model).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from legalqa.eval import gate, report
from legalqa.eval.gate import THRESHOLDS, Threshold, load_thresholds

REPO = Path(__file__).resolve().parents[1]
GATES, MAX_SECONDS = load_thresholds()


def n_questions() -> int:
    """The gold file's question count (one JSON object a line), so adding questions breaks no test."""
    path = REPO / "eval" / "questions.jsonl"
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())

# The thresholds issues 6 and 14 set. A weaker value in eval/thresholds.toml needs a reason beside it.
ISSUE_THRESHOLDS = {
    "citation_recall": ("heldout", "min", 0.90),
    "citation_precision": ("heldout", "min", 0.85),
    "quote_fidelity": ("all", "min", 1.0),
    "hallucinated_citations": ("all", "max", 0),
    "abstention_recall": ("heldout", "min", 0.90),
    "self_check_failures": ("all", "max", 0),
    "para_hit": ("heldout", "min", 0.90),
    "para_first": ("heldout", "min", 0.80),
    "lead_relevance": ("heldout", "min", 0.85),
}


# --- the thresholds file and the gate logic (fast) ----------------------------------------------


def test_every_issue_threshold_is_gated_and_lowering_one_has_a_reason():
    text = THRESHOLDS.read_text(encoding="utf-8")
    by_metric = {g.metric: g for g in GATES}
    assert set(ISSUE_THRESHOLDS) <= set(by_metric), "a threshold from issue 6 or 14 is missing from thresholds.toml"
    for metric, (split, kind, bound) in ISSUE_THRESHOLDS.items():
        g = by_metric[metric]
        value = g.min if kind == "min" else g.max
        assert value is not None, f"{metric}: expected a {kind} bound"
        weaker = value < bound if kind == "min" else value > bound
        if weaker or g.split != split:
            section = text.split(f"[gate.{g.name}]", 1)[1].split("\n[", 1)[0]
            line = next(ln for ln in section.splitlines() if ln.strip().startswith(kind))
            assert re.search(r"#\s*\S.{20,}", line), (  # a written reason, not a bare mark
                f"{g.name}: {kind} = {value} on {g.split} is weaker than the issue's {bound} on {split}; "
                "write the reason beside it in eval/thresholds.toml"
            )
    assert MAX_SECONDS == 60


def test_threshold_check_messages():
    t = Threshold("recall", "citation_recall", "heldout", min=0.9)
    assert t.check({"heldout": {"citation_recall": 0.95}}) is None
    assert t.check({"heldout": {"citation_recall": 0.5}}) == "recall: citation_recall on heldout is 0.5000, needs >= 0.9"
    assert "undefined" in t.check({"heldout": {"citation_recall": None}})
    assert "no heldout split" in t.check({"all": {}})
    h = Threshold("hall", "hallucinated_citations", "all", max=0)
    assert h.check({"all": {"hallucinated_citations": 0}}) is None
    assert h.check({"all": {"hallucinated_citations": 2}}) == "hall: hallucinated_citations on all is 2, needs <= 0"


def test_gate_check_includes_runtime(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[gate.r]\nmetric = "citation_recall"\nsplit = "all"\nmin = 0.5\n[runtime]\nmax_seconds = 10\n',
                    encoding="utf-8")
    ok = {"metrics": {"all": {"citation_recall": 0.6}}, "meta": {"runtime_s": 4.0, "load_s": 5.0}}
    assert gate.check(ok, path) == []
    slow = {"metrics": {"all": {"citation_recall": 0.4}}, "meta": {"runtime_s": 8.0, "load_s": 5.0}}
    assert gate.check(slow, path) == [
        "r: citation_recall on all is 0.4000, needs >= 0.5",
        "runtime: loading and evaluating took 13.0 s, needs <= 10 s",
    ]


def test_load_thresholds_rejects_bad_entries(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[gate.r]\nmetric = "citation_recall"\nmin = 0.5\nmax = 0.9\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[gate.r\] needs metric, split and exactly one of min / max"):
        load_thresholds(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[gate\nmetric = 1\n", "not valid TOML"),
        ("[gate]\na = 1\n", "must be a table"),
        ('[gate.r]\nmetric = "citation_recall"\nmin = "0.9"\n', "bound must be a number"),
        ('[gate.r]\nmetric = "citation_recall"\nsplit = "test"\nmin = 0.9\n', "split must be one of"),
        ('[runtime]\nmax_seconds = "60"\n', "max_seconds must be a number"),
    ],
)
def test_a_broken_thresholds_file_is_named_with_the_problem(tmp_path, text, message):
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        load_thresholds(path)
    assert str(path) in str(err.value)


def test_a_misspelt_metric_is_called_unknown_not_undefined():
    t = Threshold("r", "citation_recal", "all", min=0.5)
    assert "no metric 'citation_recal'" in t.check({"all": {"citation_recall": 0.9}})


# --- the whole pipeline with the fake embedder (fast) ------------------------------------------


@pytest.fixture(scope="module")
def fake_settings(tmp_path_factory):
    from legalqa.config import load_settings
    from legalqa.engine import Engine

    home = tmp_path_factory.mktemp("fake-home")
    s = load_settings(env={}).with_(home=home, index_dir=home / "index", model="fake")
    Engine(s).build([REPO / "corpus"])
    return s


def test_eval_pipeline_end_to_end_with_fake_embedder(fake_settings, tmp_path, monkeypatch):
    from legalqa.eval.cli import run_report

    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    said: list[str] = []
    rep = run_report(settings=fake_settings, retrieval=True, echo=said.append)
    paths = report.write(rep, tmp_path / "out")
    assert {p.name for p in paths.values()} == {"report.json", "report.md", "metrics.png"}
    saved = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert len(saved["rows"]) == n_questions() and saved["gold_problems"] == []
    assert set(saved["metrics"]) == {"all", "tune", "heldout"}
    assert "out_of_scope" in saved["by_topic"] and "traditional" in saved["by_style"]
    row = saved["rows"][0]
    assert {"expected", "got", "abstained", "answer", "retrieval", "scores", "latency_ms"} <= set(row)
    assert "_m" not in row
    assert saved["metrics"]["all"]["self_check_failures"] == 0
    assert saved["metrics"]["all"]["hallucinated_citations"] == 0
    assert set(saved["retrieval_ablation"]["variants"]) == {
        f"{v}{e}" for v in ("hybrid", "dense", "bm25") for e in ("", "+expansion")
    }
    md = paths["md"].read_text(encoding="utf-8")
    assert "no model judges" in md and "## Worst questions" in md and "## Retrieval ablation" in md
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Comparing a report with itself finds no per-question difference.
    diff = report.compare_reports(saved, saved)
    assert diff["changed"] == [] and diff["only_old"] == [] and diff["only_new"] == []


def test_compare_lists_per_question_changes():
    def row(qid, got, recall, abstained=False):
        return {"id": qid, "question": "问", "split": "tune", "answerable": True, "abstained": abstained,
                "got": got, "scores": {"recall": recall, "precision": 1.0 if got else None, "f1": recall}}

    old = {"meta": {"finished_at": "t0"}, "metrics": {"all": {"citation_recall": 0.5}},
           "rows": [row("a", ["X"], 1.0), row("b", [], 0.0, True), row("c", ["Y"], 1.0)]}
    new = {"meta": {"finished_at": "t1"}, "metrics": {"all": {"citation_recall": 0.75}},
           "rows": [row("a", [], 0.0, True), row("b", ["Z"], 1.0), row("d", ["Y"], 1.0)]}
    diff = report.compare_reports(old, new)
    assert [(c["id"], c["verdict"]) for c in diff["changed"]] == [("a", "worse"), ("b", "better")]
    assert diff["changed"][1]["diff"]["got"] == {"removed": [], "added": ["Z"]}
    assert diff["metrics"] == {"all": {"citation_recall": [0.5, 0.75]}}
    assert diff["only_old"] == ["c"] and diff["only_new"] == ["d"]
    text = report.render_compare(diff)
    assert "[worse] a 问: now abstains; -X; recall 1.000 → 0.000" in text


def test_cli_eval_with_fake_model(fake_settings, tmp_path, capsys, monkeypatch):
    from legalqa.cli import main

    monkeypatch.setenv("LEGALQA_HOME", str(fake_settings.home))
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    out = tmp_path / "out"
    args = ["eval", "-q", "--index", str(fake_settings.index_dir), "--model", "fake", "--out", str(out)]
    assert main(args + ["--split", "heldout"]) == 0
    printed = capsys.readouterr().out
    assert "citation_recall" in printed and "不由模型评判" in printed and (out / "report.md").is_file()
    first = out / "first.json"
    (out / "report.json").rename(first)
    assert main(args + ["--split", "heldout", "--compare", str(first)]) == 0
    assert "0 questions changed" in (out / "compare.md").read_text(encoding="utf-8")
    assert main(args + ["--questions", str(tmp_path / "missing.jsonl")]) == 2
    assert "找不到问题文件" in capsys.readouterr().err
    assert main(args + ["--split", "tune", "--gate"]) == 2


# --- the gate: the real model on the default corpus --------------------------------------------


BACKENDS = ("faiss", "qdrant")  # the gate runs on each retrieval backend ([index] backend, docs/backends.md)


@pytest.fixture(scope="module")
def gate_runs(tmp_path_factory):
    """backend -> the gate's report, each run at most once per test session."""
    runs: dict[str, dict] = {}

    def run(backend: str) -> dict:
        if backend not in runs:
            runs[backend] = _run_gate(tmp_path_factory.mktemp(f"gate-{backend}"), backend)
        return runs[backend]

    return run


def _run_gate(tmp: Path, backend: str) -> dict:
    """Build the default corpus into a fresh index and run `legalqa eval --gate` on it."""
    env = os.environ | {"LEGALQA_INDEX": str(tmp / "index"), "PYTHONUNBUFFERED": "1", "LEGALQA_BACKEND": backend}
    env.pop("LEGALQA_QDRANT_URL", None)  # the engine's embedded store, beside the fresh index
    cli = [sys.executable, "-m", "legalqa.cli"]
    built = subprocess.run(cli + ["ingest", "-q", "--index", str(tmp / "index"), str(REPO / "corpus")], env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    t0 = time.perf_counter()
    run = subprocess.run(cli + ["eval", "-q", "--gate", "--out", str(tmp / "out")], env=env, capture_output=True,
                         text=True)
    wall = time.perf_counter() - t0
    assert run.returncode in (0, 1), f"legalqa eval failed to run:\n{run.stderr}"
    print(run.stdout)
    rep = json.loads((tmp / "out" / "report.json").read_text(encoding="utf-8"))
    rep["meta"]["wall_s"] = wall
    return rep


@pytest.fixture(scope="module", params=BACKENDS)
def gate_report(request, gate_runs) -> dict:
    return gate_runs(request.param)


@pytest.mark.model
def test_both_backends_give_the_same_figures(gate_runs):
    """The engine backend answers as faiss does: within 0.01 on citations and hit@5, every quote verbatim."""
    faiss, engine = gate_runs("faiss")["metrics"]["all"], gate_runs("qdrant")["metrics"]["all"]
    for metric in ("citation_recall", "citation_precision", "hit@5"):
        assert abs(faiss[metric] - engine[metric]) <= 0.01, (metric, faiss[metric], engine[metric])
    assert faiss["quote_fidelity"] == engine["quote_fidelity"] == 1.0


@pytest.mark.model
@pytest.mark.parametrize("threshold", GATES, ids=[g.name for g in GATES])
def test_gate_threshold(gate_report, threshold):
    failure = threshold.check(gate_report["metrics"])
    assert failure is None, failure


@pytest.mark.model
def test_gate_no_self_check_failures(gate_report):
    bad = {r["id"]: r["self_check"] for r in gate_report["rows"] if r["self_check"]}
    assert not bad, f"answers whose self-check failed: {bad}"
    assert gate_report["metrics"]["all"]["self_check_failures"] == 0


@pytest.mark.model
def test_gate_eval_time(gate_report):
    meta = gate_report["meta"]
    assert meta["n_questions"] == n_questions()
    seconds = meta["load_s"] + meta["runtime_s"]
    assert seconds <= MAX_SECONDS, (
        f"the eval took {seconds:.1f} s (load {meta['load_s']} s, questions {meta['runtime_s']} s; "
        f"whole command {meta['wall_s']:.1f} s), limit {MAX_SECONDS} s"
    )
