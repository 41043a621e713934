"""The Streamlit page: `streamlit run app.py`. Each page lives in ui/; this file only wires them."""

from __future__ import annotations

import streamlit as st
from legalqa.ui import ask, browse, documents, evaluation, verify
from legalqa.ui.resources import guarded

st.set_page_config(page_title="legalqa · 法律问答", page_icon="⚖️", layout="wide")
st.navigation(
    [
        st.Page(guarded(ask.page), title="提问", icon="💬", default=True),
        st.Page(guarded(browse.page), title="浏览语料", icon="📖", url_path="browse"),
        st.Page(guarded(verify.page), title="核验引用", icon="🔎", url_path="verify"),
        st.Page(guarded(documents.page), title="添加文档", icon="📎", url_path="documents"),
        st.Page(guarded(evaluation.page), title="评测", icon="📊", url_path="eval"),
    ]
).run()
