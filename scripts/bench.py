"""Speed and memory figures for the default corpus, printed as medians (not a timed test).

    python scripts/bench.py [--runs 3]

Reports: ingest without embedding; index build cold (empty embedding cache) and incremental
(no changes); warm search and ask latency p50/p95 over eval/questions.jsonl; scoring 1,000
answers with `legalqa eval --answers` (eval/answers.py), warm; a warm `search_law` round trip to
`legalqa mcp` over stdio; cold start to first answer in a new process; cold CLI commands
(`--help`, an argument error, search, ask); the page's cold and warm answers; a bounded loopback
load test of `legalqa serve`; peak RSS. Then each retrieval backend beside faiss (``backends``): build
time, warm search p50/p95 and peak RSS, each in its own process.

    python scripts/bench.py --backends-only     # just the backend comparison
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from legalqa.eval.answers import AnswerItem, load_answers, score_answers  # noqa: E402
from legalqa.eval.metrics import latency_metrics  # noqa: E402
from legalqa.ingest.pipeline import ingest  # noqa: E402
from legalqa.qa.lawinfo import statute_source  # noqa: E402

from legalqa.config import load_settings  # noqa: E402
from legalqa.engine import Engine  # noqa: E402


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_test(s, questions: list[str], clients: int = 8, requests: int = 200) -> list[tuple[str, float]]:
    """A bounded load test of `legalqa serve` on loopback: ``clients`` threads send ``requests`` /ask
    calls in all; every answer must equal the sequential answer to the same question."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(__import__("os").environ, LEGALQA_HOME=str(s.home), LEGALQA_INDEX=str(s.index_dir))
    env.pop("LEGALQA_API_KEY", None)
    server = subprocess.Popen([str(Path(sys.executable).with_name("legalqa")), "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("legalqa serve did not come up in 120 s")

        def answer(q: str) -> dict:
            r = httpx.post(base + "/ask", json={"question": q}, timeout=120)
            data = r.json()
            data.pop("timings", None)
            return {"status": r.status_code, **data}

        qs = questions[:20]
        expected = {q: answer(q) for q in qs}  # sequential, and warm
        rss_before = _rss_mib(server.pid)
        work = [qs[i % len(qs)] for i in range(requests)]

        def one(q: str) -> tuple[float, bool]:
            t0 = time.perf_counter()
            try:
                same = answer(q) == expected[q]
            except httpx.HTTPError:
                same = False
            return (time.perf_counter() - t0) * 1000, same

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(one, work))
        wall = time.perf_counter() - t0
        rss_after = _rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lat = latency_metrics([ms for ms, _ in results])
    return [
        (f"load: {clients} clients x {requests} /ask, p50 (ms)", lat["latency_p50_ms"]),
        ("load: p95 (ms)", lat["latency_p95_ms"]),
        ("load: requests per second", requests / wall),
        ("load: errors or answers unlike the sequential ones", float(sum(not same for _, same in results))),
        ("load: server RSS before (MiB)", rss_before),
        ("load: server RSS after (MiB)", rss_after),
    ]
def mcp_round_trip(settings, questions: list[str], calls: int = 50) -> list[tuple[str, float]]:
    """Warm `search_law` round trips to a `legalqa mcp` subprocess over stdio, timed at the SDK client."""
    import anyio
    from mcp import Client, StdioServerParameters

    env = {"LEGALQA_HOME": str(settings.home), "LEGALQA_INDEX": str(settings.index_dir), "LEGALQA_MODEL": settings.model}
    params = StdioServerParameters(command=sys.executable, args=["-m", "legalqa.cli", "mcp"], env=env, cwd=str(ROOT))

    async def run() -> list[float]:
        async with Client(params, read_timeout_seconds=600) as client:
            for q in questions[:5]:  # loads the model and index, builds the typo lexicon
                await client.call_tool("search_law", {"query": q, "k": 5})
            ms = []
            for q in questions[5 : 5 + calls]:
                t0 = time.perf_counter()
                result = await client.call_tool("search_law", {"query": q, "k": 5})
                ms.append((time.perf_counter() - t0) * 1000)
                assert not result.is_error, result.content[0].text
            return ms

    latency = latency_metrics(anyio.run(run))
    return [(f"mcp search_law round trip p50, warm, stdio (ms, {calls} calls)", latency["latency_p50_ms"]),
            ("mcp search_law round trip p95, warm, stdio (ms)", latency["latency_p95_ms"])]


# The retrieval backends compared: (label, [index] backend, fusion).
BACKENDS = (("faiss", "faiss", "engine"), ("qdrant (embedded), engine fusion", "qdrant", "engine"),
            ("qdrant (embedded), local fusion", "qdrant", "local"))


def one_backend(name: str, fusion: str, home: Path, runs: int) -> dict:
    """In this process: build the default corpus on one backend (embeddings cached), then search warm."""
    from legalqa.index.config import BackendConfig

    base = load_settings()
    s = base.with_(home=home, index_dir=home / "index", backend=BackendConfig(name, fusion=fusion))
    engine = Engine(s)
    engine.build()  # embeds into the shared cache (the first backend) and writes a fresh index
    # A new engine and index folder, as a rebuild from scratch; the embedding cache is warm, so this
    # times the index write (faiss files, or upserting every point into a new Qdrant store).
    cold = []
    for i in range(runs):
        e = Engine(s.with_(index_dir=home / f"index-{i}"), embedder=engine.embedder)
        cold.append(timed(lambda e=e: e.build()))
        e.close()
    again = timed(lambda: engine.build())  # nothing changed: the engine keeps every point
    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "questions.jsonl", encoding="utf-8")]
    for q in questions[:5]:
        engine.search(q, 5)
    ms, retrieve_ms = [], []
    for q in questions:
        t0 = time.perf_counter()
        result = engine.search(q, 5)
        ms.append((time.perf_counter() - t0) * 1000)
        retrieve_ms.append(result.timings["retrieve"] * 1000)  # the backend's part, without the query embedding
    lat, ret = latency_metrics(ms), latency_metrics(retrieve_ms)
    engine.close()
    return {"build_s": statistics.median(cold), "rebuild_unchanged_s": again, "p50_ms": lat["latency_p50_ms"],
            "p95_ms": lat["latency_p95_ms"], "retrieve_p50_ms": ret["latency_p50_ms"],
            "retrieve_p95_ms": ret["latency_p95_ms"],
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def backends(runs: int, cache: Path | None = None) -> list[tuple[str, float]]:
    """Each backend in its own process (so RSS is its own), on the same embedding cache (``cache``, or a new one)."""
    rows = []
    cache = cache or Path(tempfile.mkdtemp(prefix="legalqa-bench-cache-"))
    for label, name, fusion in BACKENDS:
        home = Path(tempfile.mkdtemp(prefix=f"legalqa-bench-{name}-"))
        (home / "embedding-cache").symlink_to(cache, target_is_directory=True)
        out = subprocess.run([sys.executable, __file__, "--one-backend", name, fusion, str(home), str(runs)],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        rows += [(f"{label}: build, embeddings cached (s)", got["build_s"]),
                 (f"{label}: rebuild, nothing changed (s)", got["rebuild_unchanged_s"]),
                 (f"{label}: search p50, warm (ms)", got["p50_ms"]),
                 (f"{label}: search p95, warm (ms)", got["p95_ms"]),
                 (f"{label}: its retrieval alone p50 (ms)", got["retrieve_p50_ms"]),
                 (f"{label}: its retrieval alone p95 (ms)", got["retrieve_p95_ms"]),
                 (f"{label}: peak RSS of its process (MiB)", got["rss_mib"])]
    return rows


def show(rows: list[tuple[str, float]], title: str) -> None:
    width = max(len(r[0]) for r in rows)
    print(title)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:10.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backends-only", action="store_true", help="only the retrieval backends, side by side")
    ap.add_argument("--cache", type=Path, help="an embedding cache to share (default: a new, empty one)")
    ap.add_argument("--one-backend", nargs=4, metavar=("NAME", "FUSION", "HOME", "RUNS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_backend:
        name, fusion, home, runs = args.one_backend
        print(json.dumps(one_backend(name, fusion, Path(home), int(runs))))
        return
    if args.backends_only:
        show(backends(args.runs, args.cache), f"legalqa retrieval backends: {args.runs} runs, medians")
        return
    base = load_settings()
    rows = []

    t = [timed(lambda: ingest(list(base.corpus))) for _ in range(args.runs)]
    rows.append(("ingest, no embedding (s)", statistics.median(t)))

    cold, incr = [], []
    for _ in range(max(1, args.runs - 1)):
        home = Path(tempfile.mkdtemp(prefix="legalqa-bench-"))
        s = base.with_(home=home, index_dir=home / "index")
        cold.append(timed(lambda s=s: Engine(s).build()))
    for _ in range(args.runs):
        incr.append(timed(lambda s=s: Engine(s).build()))
    rows.append(("index build, cold (s)", statistics.median(cold)))
    rows.append(("index build, incremental, no changes (s)", statistics.median(incr)))

    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "questions.jsonl", encoding="utf-8")]
    engine = Engine(s)
    for q in questions[:5]:
        engine.ask(q)  # warm up
    search_ms = [timed(lambda q=q: engine.search(q, 5)) * 1000 for q in questions]
    ask_ms = [timed(lambda q=q: engine.ask(q)) * 1000 for q in questions]
    search, ask = latency_metrics(search_ms), latency_metrics(ask_ms)  # the eval's percentiles
    rows += [
        ("search p50, warm (ms)", search["latency_p50_ms"]),
        ("search p95, warm (ms)", search["latency_p95_ms"]),
        ("ask p50, warm (ms)", ask["latency_p50_ms"]),
        ("ask p95, warm (ms)", ask["latency_p95_ms"]),
    ]

    # legalqa eval --answers: 1,000 answers (the sample file, repeated; and the seed article, a long one).
    searcher = engine.searcher
    source = statute_source(searcher)
    samples = load_answers(ROOT / "eval" / "examples" / "answers.jsonl", searcher.aliases)
    seed = AnswerItem("seed", (ROOT / "corpus" / "articles" / "有一方逾期网贷怎么办理.md").read_text(encoding="utf-8"))
    for label, base in (("sample answers", samples), ("seed-article-size answers", [seed])):
        many = [replace(base[i % len(base)], id=str(i)) for i in range(1000)]
        score_answers(base, source)  # warm
        t = [timed(lambda many=many: score_answers(many, source)) for _ in range(args.runs)]
        rows.append((f"score 1,000 {label}, warm (s)", statistics.median(t)))
    rows += mcp_round_trip(s, questions)

    code = (
        "import time; t=time.perf_counter(); from legalqa.engine import Engine; from legalqa.config import load_settings; "
        f"s=load_settings().with_(home=__import__('pathlib').Path({str(s.home)!r}), "
        f"index_dir=__import__('pathlib').Path({str(s.index_dir)!r})); "
        "Engine(s).ask('我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？'); print(time.perf_counter()-t)"
    )
    starts = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                   cwd=ROOT).stdout.strip()) for _ in range(args.runs)]
    rows.append(("cold start to first answer, new process (s)", statistics.median(starts)))

    # The command line, cold: a new process each time, as a user runs it.
    cli = str(Path(sys.executable).with_name("legalqa"))
    env = dict(__import__("os").environ, LEGALQA_HOME=str(s.home), LEGALQA_INDEX=str(s.index_dir))
    for label, argv in (
        ("legalqa --help, cold (s)", [cli, "--help"]),
        ("legalqa ask --bad-flag (argument error), cold (s)", [cli, "ask", "--bad-flag"]),
        ("legalqa search, cold, whole command (s)", [cli, "search", "替朋友还了网贷能要回来吗"]),
        ("legalqa ask, cold, whole command (s)", [cli, "ask", "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？"]),
    ):
        runs = [timed(lambda a=argv: subprocess.run(a, capture_output=True, cwd=ROOT, env=env)) for _ in range(args.runs)]
        rows.append((label, statistics.median(runs)))

    # The page: Streamlit's AppTest runs app.py in a new process, as a first visitor would.
    page = (
        "import os, time, json; t=time.perf_counter(); from streamlit.testing.v1 import AppTest; "
        "at=AppTest.from_file('app.py', default_timeout=120).run(); "
        "at.chat_input[0].set_value('我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？').run(); "
        "first=time.perf_counter()-t; later=[]; "
        "qs=['我老公背着我借了网贷，离婚后我要还吗？','替朋友还了网贷能要回来吗','征信上有不是我借的贷款怎么办']; "
        "[(lambda t0: (at.chat_input[0].set_value(q).run(), later.append(time.perf_counter()-t0)))(time.perf_counter()) for q in qs]; "
        "print(json.dumps([first, later]))"
    )
    firsts, laters = [], []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", page], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
        first, later = json.loads(out.stdout.strip().splitlines()[-1])
        firsts.append(first)
        laters += later
    rows.append(("page: cold start to first answer (s)", statistics.median(firsts)))
    rows.append(("page: later answer, median (s)", statistics.median(laters)))
    rows.append(("page: later answer, max (s)", max(laters)))
    rows.append(("peak RSS of this process (MiB)", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    rows += load_test(s, questions)

    rows += backends(args.runs, s.cache_dir)  # the vectors the cold builds above already computed
    show(rows, f"legalqa benchmark: {len(questions)} questions, {args.runs} runs, medians")


if __name__ == "__main__":
    main()
