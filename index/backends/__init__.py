"""Where retrieval runs: faiss + bm25s in the index folder (faiss.py) or a Qdrant engine (qdrant.py)."""
