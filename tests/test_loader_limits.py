"""Hostile and foreign-encoded files: each hostile one is refused fast, small and with a message that names
the problem; every encoding a Chinese user's file comes in decodes to its exact text.

The hostile files are built here. Each is loaded in a child process, which measures its own time and peak
memory and is killed if it is still parsing after CHILD_TIMEOUT seconds. Memory is the kernel's peak
resident size (VmHWM), reset after the imports: it counts libxml2's memory, which tracemalloc does not
see, and unlike ru_maxrss it does not inherit the parent's peak across fork and exec.
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from legalqa.ingest import loaders
from legalqa.ingest.loaders import LoadError, load_text
from legalqa.ingest.pipeline import ingest

SECONDS = 5.0  # every hostile file is refused within this
EXTRA_MB = 300  # and with at most this much more peak memory than the loader's imports
CHILD_TIMEOUT = 30

CHILD = """
import json, sys, time
import bs4, charset_normalizer, docx, lxml.etree, pypdf  # imported before the baseline is taken
from legalqa.ingest.loaders import LoadError, load_text

def status_mb(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024

with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # peak resident size := resident size now
base = status_mb("VmRSS")
t0 = time.perf_counter()
try:
    load_text(sys.argv[1])
    message = None
except LoadError as exc:
    message = str(exc)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "extra_mb": status_mb("VmHWM") - base, "message": message}))
"""


def refuse(path: Path) -> str:
    """Load ``path`` in a child process; assert it is refused in time and memory; return the message."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("the child measures its memory through Linux /proc")
    try:
        run = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=CHILD_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.name}: still loading after {CHILD_TIMEOUT} s")
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    print(f"{path.name} ({path.stat().st_size:,} bytes): {got['seconds']:.2f} s, +{got['extra_mb']:.0f} MB")
    assert got["message"] is not None, f"{path.name} was loaded, not refused"
    assert got["message"].startswith(path.name + ": "), got["message"]
    assert got["seconds"] < SECONDS, got
    assert got["extra_mb"] < EXTRA_MB, got
    return got["message"]


def test_the_child_measures_memory(tmp_path):
    """The measurement itself: a 2,000,000-character file takes more than its 6 MB of bytes."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("the child measures its memory through Linux /proc")
    path = tmp_path / "two-million.txt"
    path.write_text("借" * 2_000_000, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=CHILD_TIMEOUT
    )
    got = json.loads(run.stdout)
    assert got["message"] is None and 8 < got["extra_mb"] < 100, got


# --- .docx ---------------------------------------------------------------------------------------

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_bytes(body: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A real python-docx package whose word/document.xml body is ``body`` (plus ``extra`` members)."""
    import docx

    blank = io.BytesIO()
    docx.Document().save(blank)
    source = zipfile.ZipFile(blank)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = f'<?xml version="1.0" encoding="UTF-8"?><w:document {W_NS}><w:body>'.encode()
                data += body.encode() + b"</w:body></w:document>"
            package.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            package.writestr(name, data)
    return out.getvalue()


def paragraphs(n: int, text: str = "借款合同") -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" * n


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """The package with ``member``'s uncompressed size set to ``size`` in its local and central headers."""
    buf = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    struct.pack_into("<I", buf, info.header_offset + 22, size)
    name = member.encode()
    at = buf.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", buf, at + 28)[0]
        if buf[at + 46 : at + 46 + name_len] == name:
            struct.pack_into("<I", buf, at + 24, size)
            return bytes(buf)
        at = buf.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"no central directory entry for {member}")


def test_docx_with_77_mb_of_xml_is_refused_from_its_declared_size(tmp_path):
    path = tmp_path / "big-xml.docx"
    path.write_bytes(docx_bytes(paragraphs(1_750_000)))  # ~77 MB of XML
    assert zipfile.ZipFile(path).getinfo("word/document.xml").file_size > 75 * 2**20
    assert path.stat().st_size < 600_000
    message = refuse(path)
    assert "解压后太大" in message and "word/document.xml" in message and "上限 16 MB" in message
    assert "拆成几个较小的文件" in message


def test_zip_bomb_whose_declared_size_lies_is_stopped_at_the_declared_size(tmp_path):
    real = docx_bytes(paragraphs(1_750_000))  # 77 MB of XML, declared as 4 KB
    path = tmp_path / "liar.docx"
    path.write_bytes(lie_about_size(real, "word/document.xml", 4096))
    assert zipfile.ZipFile(path).getinfo("word/document.xml").file_size == 4096
    message = refuse(path)
    assert "word/document.xml 的内容与声明的大小或校验值不符" in message and "重新保存" in message


def test_docx_with_80000_paragraphs_is_refused_by_count(tmp_path):
    path = tmp_path / "many-paragraphs.docx"
    path.write_bytes(docx_bytes(paragraphs(80_000)))
    assert path.stat().st_size < 100_000
    assert "段落太多（超过 20,000 段）" in refuse(path)


def test_docx_with_one_paragraph_of_300000_runs_is_refused_by_elements(tmp_path):
    path = tmp_path / "many-runs.docx"
    path.write_bytes(docx_bytes("<w:p>" + "<w:r><w:t>字</w:t></w:r>" * 300_000 + "</w:p>"))
    assert "超过 500,000 个 XML 元素" in refuse(path)


def test_docx_with_too_many_members_is_refused_before_decompressing(tmp_path):
    path = tmp_path / "members.docx"
    path.write_bytes(docx_bytes(paragraphs(1), {f"word/media/x{i}.bin": b"x" for i in range(2_100)}))
    assert "压缩包里的文件太多（2,1" in refuse(path)


def test_a_long_but_legal_docx_reads_fast_with_exact_text(tmp_path):
    """10,000 paragraphs: python-docx's per-paragraph style lookup took ~12 s; the cached one well under 4 s."""
    heading = '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>借款须知</w:t></w:r></w:p>'
    path = tmp_path / "long.docx"
    path.write_bytes(docx_bytes(heading + "".join(paragraphs(1, f"第{i}段。") for i in range(10_000))))
    t0 = time.perf_counter()
    text = load_text(path).text
    seconds = time.perf_counter() - t0
    print(f"long.docx: {seconds:.2f} s")
    assert text == "\n\n".join(["## 借款须知"] + [f"第{i}段。" for i in range(10_000)])
    assert seconds < 4


# --- .pdf ----------------------------------------------------------------------------------------


def pdf_bytes(pages: int, content: bytes) -> bytes:
    """A PDF of ``pages`` pages, each drawing ``content`` (compressed) with Helvetica as /F1."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        stream = DecodedStreamObject()
        stream.set_data(content)
        page.replace_contents(stream.flate_encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


TEXT_OP = b"BT /F1 12 Tf 72 720 Td (Loan contract) Tj ET\n"


def test_pdf_with_too_many_pages_is_refused_before_extraction(tmp_path):
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf_bytes(1_500, TEXT_OP))
    assert "PDF 页数太多（1,500 页，最多 1,000 页）" in refuse(path)


def test_pdf_page_of_200000_text_operations_is_refused(tmp_path):
    path = tmp_path / "operations.pdf"
    path.write_bytes(pdf_bytes(1, TEXT_OP * 200_000))  # 9 MB, 1.4 million tokens; 27 KB on disk
    assert "PDF 中有超出处理上限的内容" in refuse(path)


def test_pdf_stream_that_decompresses_to_40_mb_is_refused(tmp_path):
    path = tmp_path / "stream-bomb.pdf"
    path.write_bytes(pdf_bytes(1, TEXT_OP + b" " * 40_000_000))
    assert path.stat().st_size < 200_000
    assert "PDF 中有超出处理上限的内容" in refuse(path)


def test_pdf_extraction_stops_at_the_time_limit(tmp_path, monkeypatch):
    path = tmp_path / "slow.pdf"
    path.write_bytes(pdf_bytes(20, TEXT_OP * 2_000))
    monkeypatch.setattr(loaders, "MAX_PDF_SECONDS", 0.05)
    t0 = time.perf_counter()
    with pytest.raises(
        LoadError, match=r"slow.pdf: PDF 文字提取超过 0.05 秒仍未完成（读完 \d+/20 页）"
    ) as info:
        load_text(path)
    assert time.perf_counter() - t0 < 1.0
    assert "拆成几个较小的文件" in str(info.value)


def test_pdf_text_within_the_limits_is_read(tmp_path):
    path = tmp_path / "ok.pdf"
    path.write_bytes(pdf_bytes(3, TEXT_OP))
    assert load_text(path).text == "Loan contract\n\nLoan contract\n\nLoan contract"


# --- .html and plain text ------------------------------------------------------------------------


def test_html_with_200000_tags_is_refused_before_parsing(tmp_path):
    path = tmp_path / "tags.html"
    path.write_text("<html><body>" + "<p>段</p>" * 200_000 + "</body></html>", encoding="utf-8")
    assert "网页太复杂（超过 50,000 个标签）" in refuse(path)


def test_html_with_too_much_text_is_refused(tmp_path):
    path = tmp_path / "long.html"
    path.write_text("<pre>" + "借" * (loaders.MAX_HTML_CHARS + 1) + "</pre>", encoding="utf-8")
    assert "文字太多（超过 12,000,000 字）" in refuse(path)


def test_text_over_the_character_limit_is_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("借" * (loaders.MAX_TEXT_CHARS + 1), encoding="utf-8")
    assert "文字太多（超过 3,000,000 字）" in refuse(path)


def test_file_over_the_byte_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.md"
    with open(path, "wb") as f:
        f.truncate(loaders.MAX_FILE_BYTES + 1)  # sparse: nothing is written
    assert "文件太大（64.0 MB）；单个文件最多 64 MB" in refuse(path)


# --- encodings -----------------------------------------------------------------------------------

SIMPLIFIED = "# 民法典\n\n第一条 为了保护民事主体的合法权益，调整民事关系，维护社会和经济秩序，制定本法。\n"
TRADITIONAL = "# 民法典\n\n第一條 為了保護民事主體的合法權益，調整民事關係，維護社會和經濟秩序，制定本法。\n"


@pytest.mark.parametrize(
    ("name", "text", "encoding"),
    [
        ("big5.txt", TRADITIONAL, "big5"),
        ("big5.md", TRADITIONAL, "big5"),
        ("utf16le.txt", SIMPLIFIED, "utf-16-le"),
        ("utf16be.md", SIMPLIFIED, "utf-16-be"),
        ("utf16le-trad.txt", TRADITIONAL, "utf-16-le"),
        ("gb18030.txt", SIMPLIFIED, "gb18030"),
        ("gbk.md", SIMPLIFIED, "gbk"),
        ("utf8bom.txt", SIMPLIFIED, "utf-8"),
    ],
)
def test_encodings_decode_to_the_exact_text(tmp_path, name, text, encoding):
    """UTF-16 files carry their byte-order mark, as Windows Notepad writes them; so does the UTF-8-BOM file."""
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-8": b"\xef\xbb\xbf"}.get(encoding, b"")
    path = tmp_path / name
    path.write_bytes(bom + text.replace("\n", "\r\n").encode(encoding))
    assert load_text(path).text == text  # traditional characters stay traditional


def test_big5_html_decodes_to_the_exact_text(tmp_path):
    path = tmp_path / "big5.html"
    path.write_bytes("<h1>民法典</h1><p>第一條 為了保護民事主體的合法權益。</p>".encode("big5"))
    assert load_text(path).text == "# 民法典\n\n第一條 為了保護民事主體的合法權益。"


def test_a_big5_document_is_indexed_with_its_own_characters(tmp_path):
    """Traditional text stays as written. (The statute parser reads 第X条, not 第X條, so this is prose.)"""
    (tmp_path / "說明.txt").write_bytes("# 借款說明\n\n借款應當訂立書面契約。\n".encode("big5"))
    result = ingest([tmp_path])
    assert result.report.errors == []
    assert [(c.title, c.text) for c in result.chunks] == [("借款說明", "借款應當訂立書面契約。")]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8),
        ("random.md", random.Random(0).randbytes(4096)),
        ("nul.txt", b"\x00\x01\x02abc"),
        ("word.html", docx_bytes(paragraphs(1))),  # a .docx under the wrong name
        ("scan.md", pdf_bytes(1, TEXT_OP)),  # a .pdf under the wrong name
    ],
)
def test_binary_is_refused_as_binary(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError, match=f"^{name}: 这是二进制文件，不是文本；请上传"):
        load_text(path)


# --- statutes with a repeated article number ----------------------------------------------------------


def test_ingest_refuses_a_statute_that_repeats_an_article_number_and_keeps_the_rest(tmp_path):
    (tmp_path / "重复法.md").write_text(
        "# 重复法\n\n第一条 甲。\n\n第二条 乙。\n\n第三条 丙。\n\n第二条 丁。\n", encoding="utf-8"
    )
    (tmp_path / "好法.md").write_text(
        "# 好法\n\n第一条 甲。\n\n第二条 乙。\n\n第三条 丙。\n", encoding="utf-8"
    )
    result = ingest([tmp_path])
    assert result.report.errors == [
        "重复法.md: 条号重复：第二条 在第 5 行和第 9 行；一部法规的条号不能重复，否则引用无法指明是哪一条。"
        "若文件里是两部法规，请分成两个文件；若它是文章而不是法规，请在 front matter 写 kind: article"
    ]
    assert {a.law for a in result.articles} == {"好法"}


def test_prose_that_quotes_one_article_twice_is_still_prose(tmp_path):
    """Fewer than three article lines and no kind: statute: an article, which may repeat a label."""
    (tmp_path / "文章.md").write_text(
        "# 两部法的第一条\n\n第一条 民法典的第一条。\n\n第一条 刑法的第一条。\n", encoding="utf-8"
    )
    result = ingest([tmp_path])
    assert result.report.errors == []
    assert [c.kind for c in result.chunks] == ["article"]
