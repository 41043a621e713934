"""Shared fixtures: where the read-only reference data lives, and the repo paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


def shared_path() -> Path:
    """../shared beside the checkout, or $LEGALQA_SHARED."""
    return Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = shared_path()
    if not (path / "laws").is_dir():
        pytest.skip(f"reference data not found at {path} (set LEGALQA_SHARED to its folder)")
    return path
