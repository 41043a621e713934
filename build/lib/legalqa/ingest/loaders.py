"""Read user files into text: .md/.txt as they are, .docx/.pdf/.html converted.

One small interface: ``load_text(path) -> Loaded``. Every failure is a
``LoadError`` that names the file and says what to do.

Every format is read within the limits below, each checked before the step it
protects, so that a small hostile file (a zip bomb, 80,000 paragraphs, a PDF
page that never ends) is refused in about a second instead of running for
minutes (tests/test_loader_limits.py measures each). Text encodings are
detected with charset-normalizer.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
SUFFIXES = TEXT_SUFFIXES + (".docx", ".pdf", ".html", ".htm")

MB = 2**20

# --- limits ----------------------------------------------------------------------------------------
# Each is checked before the step it protects; a file over one is refused with a message that names
# the file, the limit and the fix. Times measured on the project's 2-core machine.

# Any file, checked with stat() before it is read (uploads take 20 MB at most, legalqa.uploads.MAX_BYTES).
MAX_FILE_BYTES = 64 * MB
# Characters of text from one file, in any format. The largest official statute in ../shared/laws has
# about 105,000; ingest (parsing and chunking, not embedding) reads 3,000,000 in about 2 s.
MAX_TEXT_CHARS = 3_000_000

# .docx is a zip package. The declared member sizes are checked before anything is decompressed; then
# every XML member is streamed through a counting parser (no tree) with a byte cap, so neither a zip
# bomb nor a header that understates a member's size gets through to python-docx.
MAX_DOCX_MEMBERS = 2_000
MAX_DOCX_UNZIPPED_BYTES = 96 * MB  # all members, images included: python-docx holds them all in memory
MAX_DOCX_XML_BYTES = 16 * MB  # the XML members: python-docx's lxml tree takes ~8x their size
MAX_DOCX_XML_ELEMENTS = 500_000
MAX_DOCX_PARAGRAPHS = 20_000  # about a 600-page book; python-docx reads one at the limits in ~2.5 s

# pypdf extracts a page of text in 10-50 ms. Its own limits are tightened for decompression and for
# parsing one content stream (~10 µs a token); the time limit is checked before every operator.
MAX_PDF_PAGES = 1_000
MAX_PDF_SECONDS = 60.0
MAX_PDF_STREAM_BYTES = 16 * MB  # one decompressed stream (pypdf's default: 75 MB)
MAX_PDF_STREAM_TOKENS = 100_000  # operators and operands in one content stream (pypdf's default: 2,000,000)

# BeautifulSoup (html.parser) reads about 20,000 tags a second.
MAX_HTML_CHARS = 4 * MAX_TEXT_CHARS  # markup included
MAX_HTML_TAGS = 50_000

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TAG = re.compile(r"<[A-Za-z]")
_SPLIT = "请把文件拆成几个较小的文件，或另存为 .txt 后再试"


class LoadError(ValueError):
    """A file that cannot be read as a document."""


@dataclass(frozen=True)
class Loaded:
    path: Path
    text: str  # the document text that offsets refer to


def load_text(path: str | Path) -> Loaded:
    """Read one file as text, within the module's limits.

    Raises:
        LoadError: unsupported type, missing, empty, too large, binary, undecodable or broken;
            the message names the file, the problem and the fix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LoadError(f"{path.name}: 不支持的文件类型 {suffix or '(无扩展名)'}；支持 {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise LoadError(f"{path}: 文件不存在")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LoadError(
            f"{path.name}: 文件太大（{size / MB:.1f} MB）；单个文件最多 {MAX_FILE_BYTES // MB} MB，{_SPLIT}"
        )
    data = path.read_bytes()
    if not data.strip():
        raise LoadError(f"{path.name}: 文件是空的")
    try:
        if suffix in TEXT_SUFFIXES:
            text = decode_text(data, path.name)
        elif suffix == ".docx":
            text = _docx_text(data, path.name)
        elif suffix == ".pdf":
            text = _pdf_text(data, path.name)
        else:
            text = _html_text(decode_text(data, path.name, max_chars=MAX_HTML_CHARS), path.name)
    except LoadError:
        raise
    except Exception as exc:  # the parsers raise many types on broken files
        raise LoadError(
            f"{path.name}: 无法读取 {suffix} 文件（{type(exc).__name__}: {exc}）；文件可能已损坏"
        ) from exc
    if not text.strip():
        raise LoadError(f"{path.name}: 没有可读的文字（扫描版 PDF 需要先做文字识别）")
    _check_chars(len(text), path.name)
    return Loaded(path, text)


def _check_chars(chars: int, name: str, limit: int = MAX_TEXT_CHARS) -> None:
    if chars > limit:
        raise LoadError(f"{name}: 文字太多（超过 {limit:,} 字）；请把文件拆成几个较小的文件")


# --- text ------------------------------------------------------------------------------------------


def decode_text(data: bytes, name: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Bytes → text, newlines as ``\\n``: UTF-8 (with or without BOM), else what charset-normalizer finds.

    charset-normalizer reads byte-order marks (UTF-16/32, LE or BE) and tells GB18030/GBK from
    Big5 by the characters each decoding gives. Traditional characters stay as written.

    Raises:
        LoadError: binary data, an encoding nothing decodes, or more than ``max_chars`` characters.
    """
    # No encoding takes more than 4 bytes a character, so a longer file is over the limit in any of them.
    if len(data) > 4 * max_chars:
        raise LoadError(
            f"{name}: 文件太大（{len(data) / MB:.1f} MB，文字超过 {max_chars:,} 字）；请把文件拆成几个较小的文件"
        )
    try:
        text = data.decode("utf-8-sig")  # valid UTF-8 with non-ASCII bytes is practically never anything else
    except UnicodeDecodeError:
        text = _detected(data, name)
    if "\x00" in text:
        raise LoadError(f"{name}: 这是二进制文件，不是文本；请上传 .md/.txt/.docx/.pdf/.html")
    _check_chars(len(text), name, max_chars)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _detected(data: bytes, name: str) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        if b"\x00" in data[:8192]:
            raise LoadError(f"{name}: 这是二进制文件，不是文本；请上传 .md/.txt/.docx/.pdf/.html")
        raise LoadError(f"{name}: 无法识别的文字编码；请另存为 UTF-8 后再试")
    return str(best)  # decoded without the byte-order mark


# --- docx ------------------------------------------------------------------------------------------


class _XmlCounter:
    """An lxml parser target that only counts elements and paragraphs, so no tree is built."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.elements = 0
        self.paragraphs = 0

    def start(self, tag: str, attrib: dict) -> None:
        self.elements += 1
        if self.elements > MAX_DOCX_XML_ELEMENTS:
            raise LoadError(
                f"{self.name}: 文档结构太复杂（超过 {MAX_DOCX_XML_ELEMENTS:,} 个 XML 元素）；{_SPLIT}"
            )
        if tag == _W + "p":
            self.paragraphs += 1
            if self.paragraphs > MAX_DOCX_PARAGRAPHS:
                raise LoadError(f"{self.name}: 段落太多（超过 {MAX_DOCX_PARAGRAPHS:,} 段）；{_SPLIT}")

    def close(self) -> None:
        return None


def check_docx_package(data: bytes, name: str) -> None:
    """Refuse a .docx whose package is over the limits, before python-docx decompresses it.

    First the declared sizes (no decompression at all), then every XML member streamed through a
    counting parser with a byte cap: a member that holds more than it declares fails its CRC check
    or the cap, whichever comes first.

    Raises:
        LoadError: over a limit, or a member that is not what its header says.
        zipfile.BadZipFile: not a zip file at all.
    """
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        members = package.infolist()
        if len(members) > MAX_DOCX_MEMBERS:
            raise LoadError(
                f"{name}: .docx 压缩包里的文件太多（{len(members):,} 个，最多 {MAX_DOCX_MEMBERS:,}）；{_SPLIT}"
            )
        declared = sum(m.file_size for m in members)
        xml = [m for m in members if m.filename.lower().endswith((".xml", ".rels"))]
        declared_xml = sum(m.file_size for m in xml)
        if declared > MAX_DOCX_UNZIPPED_BYTES or declared_xml > MAX_DOCX_XML_BYTES:
            biggest = max(xml if declared_xml > MAX_DOCX_XML_BYTES else members, key=lambda m: m.file_size)
            limit = MAX_DOCX_XML_BYTES if declared_xml > MAX_DOCX_XML_BYTES else MAX_DOCX_UNZIPPED_BYTES
            raise LoadError(
                f"{name}: 解压后太大（{max(declared, declared_xml) / MB:.0f} MB，其中 {biggest.filename} "
                f"{biggest.file_size / MB:.0f} MB；上限 {limit // MB} MB）；{_SPLIT}"
            )
        counter = _XmlCounter(name)
        budget = MAX_DOCX_XML_BYTES
        for member in xml:
            parser = etree.XMLParser(target=counter, resolve_entities=False, no_network=True)
            try:
                with package.open(member) as stream:
                    while chunk := stream.read(MB):
                        budget -= len(chunk)
                        if budget < 0:
                            raise LoadError(
                                f"{name}: 解压后的 XML 超过 {MAX_DOCX_XML_BYTES // MB} MB"
                                f"（{member.filename} 比声明的更大）；{_SPLIT}"
                            )
                        parser.feed(chunk)
                parser.close()
            except zipfile.BadZipFile as exc:
                raise LoadError(
                    f"{name}: .docx 压缩包中 {member.filename} 的内容与声明的大小或校验值不符（{exc}）；"
                    "文件已损坏或被改动过，请用 Word 重新保存后再试"
                ) from exc


def _docx_text(data: bytes, name: str) -> str:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    check_docx_package(data, name)
    document = docx.Document(io.BytesIO(data))
    # Paragraph.style looks up the default style by scanning every style, about 1 ms a paragraph, so
    # the names are read once. An unknown or missing style id means the default, as in python-docx.
    styles = document.styles
    names = {s.style_id: (s.name or "").lower() for s in styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    default = styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_name = (default.name or "").lower() if default is not None else ""
    lines = []
    chars = 0
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        chars += len(text)
        _check_chars(chars, name)
        style = names.get(para._p.style, default_name)  # the w:pStyle id; python-docx has no public getter
        if style.startswith("heading") or style.startswith("标题"):
            level = "".join(ch for ch in style if ch.isdigit()) or "1"
            text = "#" * min(int(level) + 1, 6) + " " + text
        elif style == "title":
            text = "# " + text
        lines.append(text)
    return "\n\n".join(lines)


# --- pdf -------------------------------------------------------------------------------------------


class _OutOfTime(Exception):
    pass


def _pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    deadline = time.perf_counter() + MAX_PDF_SECONDS

    def on_time(*_: object) -> None:  # pypdf calls it before every operator, so one page cannot run away
        if time.perf_counter() > deadline:
            raise _OutOfTime

    pages: list[str] = []
    total = 0
    try:
        with apply_configuration(
            zlib_maximum_output_length=MAX_PDF_STREAM_BYTES,
            lzw_maximum_output_length=MAX_PDF_STREAM_BYTES,
            run_length_maximum_output_length=MAX_PDF_STREAM_BYTES,
            maximum_declared_stream_length=MAX_PDF_STREAM_BYTES,
            stream_parsing_work_maximum_count=MAX_PDF_STREAM_TOKENS,
        ):
            reader = PdfReader(io.BytesIO(data))
            total = len(reader.pages)
            if total > MAX_PDF_PAGES:
                raise LoadError(f"{name}: PDF 页数太多（{total:,} 页，最多 {MAX_PDF_PAGES:,} 页）；{_SPLIT}")
            chars = 0
            for page in reader.pages:
                on_time()
                text = (page.extract_text(visitor_operand_before=on_time) or "").strip()
                chars += len(text)
                _check_chars(chars, name)
                pages.append(text)
    except _OutOfTime:
        raise LoadError(
            f"{name}: PDF 文字提取超过 {MAX_PDF_SECONDS:g} 秒仍未完成（读完 {len(pages)}/{total} 页）；{_SPLIT}"
        ) from None
    except LimitReachedError as exc:
        raise LoadError(f"{name}: PDF 中有超出处理上限的内容（{exc}）；{_SPLIT}") from exc
    return "\n\n".join(p for p in pages if p)


# --- html ------------------------------------------------------------------------------------------

_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote")
_CONTAINERS = frozenset(("p", "li", "blockquote"))


def _html_text(html: str, name: str = "<html>") -> str:
    from bs4 import BeautifulSoup

    # Counting "<" + letter overcounts tags (a "<b" inside a script counts too), never undercounts.
    for count, _ in enumerate(_TAG.finditer(html), 1):
        if count > MAX_HTML_TAGS:
            raise LoadError(f"{name}: 网页太复杂（超过 {MAX_HTML_TAGS:,} 个标签）；{_SPLIT}")
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    blocks = []
    for el in soup.find_all(_BLOCKS):
        # el.parents, not el.find_parent(...): the latter builds a matcher per call, half the run time.
        if any(parent.name in _CONTAINERS for parent in el.parents):
            continue
        text = " ".join(el.get_text(" ", strip=True).split())
        if not text:
            continue
        if el.name[0] == "h":
            text = "#" * int(el.name[1]) + " " + text
        elif el.name == "li":
            text = "- " + text
        blocks.append(text)
    if not blocks:
        blocks = [line.strip() for line in soup.get_text("\n").splitlines() if line.strip()]
    return "\n\n".join(blocks)
