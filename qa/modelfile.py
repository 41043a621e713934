"""The JSON files that hold the answer's small trained models (qa/data/*.json): read with errors that name
the file and the fix, written whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def load_model(path: str | Path, what: str, script: str, error: type[ValueError], make: Callable[[dict], T]) -> T:
    """``make(raw)`` of the JSON object in ``path``; any problem raises ``error`` naming ``what`` and the fix.

    Args:
        what: the model's name for messages, e.g. 引用选择模型.
        script: the script that writes the file, e.g. scripts/train_selector.py.
        make: builds the model from the parsed object; its KeyError/TypeError/ValueError mean a bad field.
    """
    path = Path(path)
    fix = f"请运行 python {script}"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"找不到{what} {path}：{fix}") from exc
    except (OSError, ValueError) as exc:
        raise error(f"{what} {path} 无法读取（{exc}）：{fix}") from exc
    if not isinstance(raw, dict):
        raise error(f"{what} {path} 应是一个 JSON 对象：{fix}")
    try:
        return make(raw)
    except error:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise error(f"{what} {path} 缺少或写错了字段（{exc}）：{fix}") from exc


def save_model(path: str | Path, model: Any) -> None:
    """Write a model dataclass as JSON (its ``features`` as a list), through a temporary file."""
    path = Path(path)
    data = asdict(model)
    data["features"] = list(model.features)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
