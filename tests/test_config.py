"""Settings: a misspelt or invalid setting is named, never silently replaced by its default."""

import pytest

from legalqa.config import DEFAULTS, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "settings.toml"
    path.write_text(DEFAULTS.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path


def test_the_shipped_defaults_load():
    s = load_settings(env={})
    assert s.search.rrf_k == 10 and s.answer.selector == "model" and s.dense_kind == "flat"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\n[retrieval2]\nrrf_k = 5\n", r"不认识的部分 \[retrieval2\]"),
        ('\n[ranking]\nx = 1\n', r"不认识的部分 \[ranking\]"),
    ],
)
def test_unknown_sections_are_named(tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        load_settings(write(tmp_path, extra), env={})


def test_unknown_keys_are_named(tmp_path):
    text = DEFAULTS.read_text(encoding="utf-8").replace("rrf_k = 10", "rrf-k = 10")
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[retrieval\] 里有不认识的设置 \['rrf-k'\]"):
        load_settings(path, env={})
    text = DEFAULTS.read_text(encoding="utf-8").replace("min_evidence =", "min_evidense =")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[answer\] 里有不认识的设置 \['min_evidense'\]"):
        load_settings(path, env={})


def test_a_bad_dense_kind_is_refused_before_anything_is_embedded(tmp_path):
    text = DEFAULTS.read_text(encoding="utf-8").replace('dense_kind = "flat"', 'dense_kind = "annoy"')
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="dense_kind 只能是 flat、hnsw、ivf"):
        load_settings(path, env={})


def test_a_missing_library_path_from_the_environment_names_the_variable():
    import pytest

    from legalqa.config import load_settings

    with pytest.raises(ValueError, match="环境变量 LEGALQA_LIBRARY.*/nonexistent-laws 不存在"):
        load_settings(env={"LEGALQA_LIBRARY": "/nonexistent-laws"})
