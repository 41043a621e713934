"""What the training scripts share: the regularization grid and fold count they take on the command line."""

from __future__ import annotations

import argparse


def add_grid_args(ap: argparse.ArgumentParser, default_c: str) -> None:
    """``--C`` (inverse L2 strengths to try) and ``--folds`` (cross-validation folds on the tune split)."""
    ap.add_argument("--C", default=default_c, help="inverse L2 strengths to try, comma-separated")
    ap.add_argument("--folds", type=int, default=5)


def grid(ap: argparse.ArgumentParser, args: argparse.Namespace) -> list[float]:
    """The parsed ``--C`` values; a bad value or a fold count under 2 exits with the fix."""
    try:
        values = [float(c) for c in args.C.split(",")]
    except ValueError:
        ap.error(f"--C must be numbers separated by commas, e.g. 0.3,1,3. Currently, it is {args.C!r}")
    if not values or min(values) <= 0:
        ap.error(f"every --C must be greater than 0. Currently, --C is {args.C!r}")
    if args.folds < 2:
        ap.error(f"--folds must be at least 2. Currently, it is {args.folds}")
    return values
