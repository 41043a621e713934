"""Prose chunking by headings, and file loading for every supported format."""

import pytest
from legalqa.ingest.loaders import LoadError, load_text
from legalqa.ingest.prose import chunk_prose

DOC = "---\ntitle: x\n---\n# 标题\n\n引言。\n\n## 一、甲\n\n第一段。\n第二行。\n\n### 小节\n\n- 条目一\n- 条目二\n\n---\n\n结语。\n"


def test_chunks_follow_headings_and_are_exact_slices():
    body = DOC.index("# 标题")
    passages = chunk_prose(DOC, body)
    assert [(p.text, p.heading_path) for p in passages] == [
        ("# 标题\n\n引言。"[len("# 标题\n\n"):], ()),
        ("第一段。\n第二行。", ("一、甲",)),
        ("- 条目一\n- 条目二", ("一、甲", "小节")),
        ("结语。", ()),
    ]
    for p in passages:
        assert DOC[p.start : p.end] == p.text


def test_long_sections_split_between_paragraphs_only():
    text = "## 节\n\n" + "\n\n".join("句子" * 50 + "。" for _ in range(4))
    passages = chunk_prose(text, 0, max_chars=150)
    assert len(passages) == 4
    assert all(p.text.endswith("。") and p.heading_path == ("节",) for p in passages)


def test_load_text_formats(tmp_path):
    import docx

    md = tmp_path / "a.md"
    md.write_text("# 题\n\n正文", encoding="utf-8")
    assert load_text(md).text == "# 题\n\n正文"
    gbk = tmp_path / "b.txt"
    gbk.write_bytes("第一条 中文".encode("gb18030"))
    assert load_text(gbk).text == "第一条 中文"
    d = docx.Document()
    d.add_heading("借款须知", level=1)
    d.add_paragraph("借款要签合同。")
    d.save(tmp_path / "c.docx")
    assert load_text(tmp_path / "c.docx").text == "## 借款须知\n\n借款要签合同。"
    html = tmp_path / "d.html"
    html.write_text("<h2>标题</h2><p>段落<script>alert(1)</script></p>", encoding="utf-8")
    assert load_text(html).text == "## 标题\n\n段落"


def test_load_text_pdf(tmp_path):
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(100, 100)
    path = tmp_path / "blank.pdf"
    with open(path, "wb") as f:
        w.write(f)
    with pytest.raises(LoadError, match="blank.pdf: 没有可读的文字"):
        load_text(path)


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("empty.md", b"  \n", "文件是空的"),
        ("bin.txt", b"\x00\x01\x02abc", "二进制文件"),
        ("bad.docx", b"not a zip", "无法读取 .docx"),
        ("bad.pdf", b"%PDF-garbage", "无法读取 .pdf"),
        ("x.exe", b"MZ", "不支持的文件类型"),
    ],
)
def test_load_text_errors_name_the_file(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError, match=message) as err:
        load_text(path)
    assert name in str(err.value)


def test_a_document_titled_by_a_lower_level_heading_gets_its_words_not_the_marks():
    from legalqa.ingest.prose import title_of

    assert title_of("## 背景介绍\n\n正文。", "default") == "背景介绍"
    assert title_of("# 标题\n\n## 小节", "default") == "标题"
    assert title_of("\n\n普通的第一行\n", "default") == "普通的第一行"
    assert title_of("\n\n", "default") == "default"
