"""How legalqa installs: one top-level name, no experiment code, a fast command line.

The repository keeps its pipeline folders at the top (ingest/ index/ qa/ eval/ ui/), and they
install as legalqa.ingest, legalqa.index … so a user's own eval/ or index/ never shadows them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("legalqa", "ingest", "index", "qa", "eval", "ui")


def test_the_wheel_installs_under_one_name_and_a_users_own_eval_and_index_do_not_shadow_it(tmp_path):
    # Build from a copy: setuptools writes build/ and *.egg-info beside the sources it builds.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".legalqa", "build", "*.egg-info", "__pycache__", ".pytest_cache", "eval/out", "experiments"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"),
         str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("legalqa-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"legalqa", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1]
                                               + ".dist-info"}
    assert "legalqa/index/data/default-model/modules.json" in names and "legalqa/eval/questions.jsonl" in names
    assert not any(n.startswith("legalqa/experiments") or "e5file" in n for n in names)

    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                                str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    project = tmp_path / "someone-elses-project"
    for own in ("eval", "index"):
        (project / own).mkdir(parents=True)
        (project / own / "__init__.py").write_text(f"MINE = {own!r}\n")
    probe = (
        "import eval, index, legalqa.eval.gate, legalqa.index.config, legalqa.qa.config;"
        "print(eval.MINE, index.MINE, legalqa.eval.gate.__file__, legalqa.index.config.__file__)"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert run.returncode == 0, run.stderr
    mine_eval, mine_index, gate, config = run.stdout.split()
    assert (mine_eval, mine_index) == ("eval", "index")
    assert gate.startswith(str(target)) and config.startswith(str(target))


def test_no_installed_module_imports_the_experiments():
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"^\s*(from|import)\s+experiments\b", text, re.M), path


def test_stages_never_import_a_face():
    """Data moves one way: ingest/, index/ and qa/ never import legalqa's faces or eval/."""
    faces = r"legalqa\.(engine|cli|http|mcp|langchain|uploads|config|ui|eval)\b|from legalqa import"
    for package in ("ingest", "index", "qa"):
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            bad = [m.group(0) for m in re.finditer(rf"^\s*(?:from|import)\s+({faces}).*$", text, re.M)]
            assert not bad, f"{path.relative_to(REPO)} imports a face: {bad}"


def test_help_imports_no_heavy_library():
    probe = (
        "import sys; from legalqa.cli import build_parser; build_parser();"
        "heavy = [m for m in ('torch', 'faiss', 'sentence_transformers', 'bm25s', 'jieba', 'numpy', 'streamlit', 'mcp')"
        " if m in sys.modules]; print(heavy)"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_every_search_json_field_is_documented():
    from legalqa.index.search import Expansion, Hit, SearchResult
    from legalqa.ingest.models import Chunk

    chunk = Chunk("id", "statute", "中华人民共和国民法典", "正文", "民法典.md", 0, 2, law="中华人民共和国民法典",
                  article=1, label="第一条", citation="《中华人民共和国民法典》第一条")
    result = SearchResult("问", [Hit(chunk, 1, 0.1)], Expansion((), ()))
    data = result.to_dict()
    doc = (REPO / "docs" / "search-json.md").read_text(encoding="utf-8")
    keys = set(data) | set(data["hits"][0]) | set(data["hits"][0]["scores"])
    # A field is documented as `name`, `parent.name` or `name.child`.
    missing = sorted(k for k in keys if not re.search(rf"`(?:[\w.]+\.)?{k}[`.]", doc))
    assert not missing, f"docs/search-json.md does not describe {missing}"
