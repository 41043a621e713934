"""The CI gate: thresholds from eval/thresholds.toml checked against a report's metrics."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THRESHOLDS = Path(__file__).with_name("thresholds.toml")


@dataclass(frozen=True)
class Threshold:
    name: str
    metric: str
    split: str
    min: float | None = None
    max: float | None = None

    def check(self, metrics: dict[str, dict[str, Any]]) -> str | None:
        """A failure message, or None when the threshold holds."""
        if self.split not in metrics:
            return f"{self.name}: the report has no {self.split} split (run with --split all)"
        if self.metric not in metrics[self.split]:
            return f"{self.name}: the report has no metric {self.metric!r} (a typo in eval/thresholds.toml?)"
        value = metrics[self.split][self.metric]
        bound = f">= {self.min}" if self.min is not None else f"<= {self.max}"
        if value is None:
            return f"{self.name}: {self.metric} on {self.split} is undefined (n/a), needs {bound}"
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            shown = f"{value:.4f}" if isinstance(value, float) else str(value)
            return f"{self.name}: {self.metric} on {self.split} is {shown}, needs {bound}"
        return None


SPLITS = ("all", "tune", "heldout")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def load_thresholds(path: Path = THRESHOLDS) -> tuple[list[Threshold], float | None]:
    """The gate's thresholds and the eval time limit in seconds (None when the file sets none).

    Raises ValueError naming the file, the table and the fix when the file cannot be used.
    """
    fix = "the comment at the top of eval/thresholds.toml shows the format"
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such thresholds file; it ships with the code as eval/thresholds.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc}); {fix}") from None
    gates = raw.get("gate", {})
    out = []
    for name, spec in gates.items():
        if not isinstance(spec, dict):
            raise ValueError(f"{path}: gate.{name} must be a table [gate.{name}], not {spec!r}; {fix}")
        unknown = set(spec) - {"metric", "split", "min", "max"}
        if unknown or not isinstance(spec.get("metric"), str) or ("min" in spec) == ("max" in spec):
            raise ValueError(
                f"{path}: [gate.{name}] needs metric, split and exactly one of min / max; got {sorted(spec)}"
            )
        bound = spec.get("min", spec.get("max"))
        if not _number(bound):
            raise ValueError(f"{path}: [gate.{name}] bound must be a number. Currently, it is {bound!r}")
        split = spec.get("split", "all")
        if split not in SPLITS:
            raise ValueError(f"{path}: [gate.{name}] split must be one of {SPLITS}. Currently, it is {split!r}")
        out.append(Threshold(name, spec["metric"], split, spec.get("min"), spec.get("max")))
    max_seconds = raw.get("runtime", {}).get("max_seconds")
    if max_seconds is not None and not _number(max_seconds):
        raise ValueError(f"{path}: [runtime] max_seconds must be a number. Currently, it is {max_seconds!r}")
    return out, max_seconds


def check(report: dict[str, Any], path: Path = THRESHOLDS) -> list[str]:
    """Every threshold the report crosses, including the eval time limit (empty when the gate passes)."""
    thresholds, max_seconds = load_thresholds(path)
    failures = [msg for t in thresholds if (msg := t.check(report["metrics"])) is not None]
    meta = report.get("meta", {})
    if max_seconds is not None and "runtime_s" in meta:
        seconds = meta["runtime_s"] + meta.get("load_s", 0.0)
        if seconds > max_seconds:
            failures.append(f"runtime: loading and evaluating took {seconds:.1f} s, needs <= {max_seconds} s")
    return failures
