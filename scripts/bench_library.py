"""Speed and memory of an index with the statute library, already built (not a timed test).

    legalqa ingest --library                     # once: the cold build (docs/library.md, "Build time")
    python scripts/bench_library.py [--index .legalqa/index] [--questions 200] [--rebuild] [--page]

Reports, each in a new process where it matters: loading the index (searcher and composer) and its
peak RSS; warm search and ask latency p50/p95 over real questions (the STARD questions in
$LEGALQA_SHARED/stard/train.jsonl when present, else eval/questions.jsonl); with ``--rebuild``, a
rebuild with nothing new to embed (as after an upload); with ``--page``, the Streamlit page's
cold start to a first answer and its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOAD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from legalqa.config import load_settings
from legalqa.engine import Engine
from pathlib import Path
e = Engine(load_settings().with_(index_dir=Path(sys.argv[1])))
e.searcher
loaded = time.perf_counter() - t0
e.composer
e.ask("借款到期不还，出借人可以要求支付利息吗？")
first = time.perf_counter() - t0
print(json.dumps({"load_s": loaded, "first_answer_s": first, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "chunks": len(e.searcher.chunks)}))
"""

LATENCY = r"""
import json, sys, time
from legalqa.config import load_settings
from legalqa.engine import Engine
from pathlib import Path
e = Engine(load_settings().with_(index_dir=Path(sys.argv[1])))
qs = json.loads(sys.argv[2])
for q in qs[:5]:
    e.ask(q)
def timed(fn):
    t = time.perf_counter(); fn(); return (time.perf_counter() - t) * 1000
search = [timed(lambda q=q: e.search(q, 5)) for q in qs]
ask = [timed(lambda q=q: e.ask(q)) for q in qs]
print(json.dumps({"search": search, "ask": ask}))
"""

PAGE = r"""
import json, resource, time
from streamlit.testing.v1 import AppTest
t = time.perf_counter()
at = AppTest.from_file("app.py", default_timeout=300).run()
at.chat_input[0].set_value("借款到期不还，出借人可以要求支付利息吗？").run()
first = time.perf_counter() - t
print(json.dumps({"page_first_answer_s": first, "page_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def questions(limit: int) -> list[str]:
    shared = Path(os.environ.get("LEGALQA_SHARED", ROOT.parent / "shared"))
    path = shared / "stard" / "train.jsonl"
    path = path if path.is_file() else ROOT / "eval" / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows][:limit]


def child(code: str, *args: str, env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, env=env)
    if out.returncode != 0:
        sys.exit(f"a measuring process failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None, help="the index folder (default: the configured one)")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--rebuild", action="store_true", help="also time a rebuild with nothing new to embed")
    ap.add_argument("--page", action="store_true", help="also start the page (Streamlit AppTest) and answer once")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from legalqa.config import load_settings

    settings = load_settings()
    index = (args.index or settings.index_dir).resolve()
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    rows: list[tuple[str, float | str]] = [
        ("index", str(index)),
        ("chunks", manifest["chunks"]),
        ("library", json.dumps(manifest.get("library", {}).get("statuses", {}), ensure_ascii=False)),
        ("index size on disk (MB)", sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 1e6),
        ("load average at start", os.getloadavg()[0]),
    ]
    loaded = child(LOAD, str(index))
    rows += [("load searcher, new process (s)", loaded["load_s"]),
             ("to first answer, new process (s)", loaded["first_answer_s"]),
             ("peak RSS, loaded and answered once (MiB)", loaded["rss_mib"])]
    qs = questions(args.questions)
    lat = child(LATENCY, str(index), json.dumps(qs, ensure_ascii=False))
    rows += [(f"search p50 / p95, warm, {len(qs)} questions (ms)", f"{pct(lat['search'], 50):.1f} / {pct(lat['search'], 95):.1f}"),
             (f"ask p50 / p95, warm, {len(qs)} questions (ms)", f"{pct(lat['ask'], 50):.1f} / {pct(lat['ask'], 95):.1f}")]
    if args.rebuild:
        from legalqa.engine import Engine

        t0 = time.perf_counter()
        built, _ = Engine(settings.with_(index_dir=index)).build()
        rows.append((f"rebuild, {built['embedded']} new embeddings (s)", time.perf_counter() - t0))
    if args.page:
        env = dict(os.environ, LEGALQA_INDEX=str(index))
        page = child(PAGE, env=env)
        rows += [("page: cold start to first answer (s)", page["page_first_answer_s"]),
                 ("page: peak RSS (MiB)", page["page_rss_mib"])]
    rows.append(("load average at end", os.getloadavg()[0]))
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:.3f}" if isinstance(value, float) else f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
