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
        value = metrics[self.split].get(self.metric)
        bound = f">= {self.min}" if self.min is not None else f"<= {self.max}"
        if value is None:
            return f"{self.name}: {self.metric} on {self.split} is undefined (n/a), needs {bound}"
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            shown = f"{value:.4f}" if isinstance(value, float) else str(value)
            return f"{self.name}: {self.metric} on {self.split} is {shown}, needs {bound}"
        return None


def load_thresholds(path: Path = THRESHOLDS) -> tuple[list[Threshold], float | None]:
    """The gate's thresholds and the eval time limit in seconds (None when the file sets none)."""
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    out = []
    for name, spec in raw.get("gate", {}).items():
        unknown = set(spec) - {"metric", "split", "min", "max"}
        if unknown or "metric" not in spec or ("min" in spec) == ("max" in spec):
            raise ValueError(
                f"{path}: [gate.{name}] needs metric, split and exactly one of min / max; got {sorted(spec)}"
            )
        out.append(Threshold(name, spec["metric"], spec.get("split", "all"), spec.get("min"), spec.get("max")))
    return out, raw.get("runtime", {}).get("max_seconds")


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
