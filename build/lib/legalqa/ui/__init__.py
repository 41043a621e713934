"""The Streamlit page's parts: one module per page, plus shared resources and safe rendering.

`app.py` only wires these into a multipage app; the logic stays in ingest/, index/, qa/ and legalqa/.
"""
