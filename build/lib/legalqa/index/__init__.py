"""Index stage: chunks → faiss + BM25 folder; queries → hits."""

import os

# The default model's C engine and torch use OpenMP; busy-waiting threads make every query
# embedding ~10x slower when another process shares the two cores. Must be set before either
# library loads, hence here. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
