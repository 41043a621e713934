"""Read user files into text: .md/.txt as they are, .docx/.pdf/.html converted.

One small interface: ``load_text(path) -> Loaded``. Every failure is a
``LoadError`` that names the file and says what to do.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
SUFFIXES = TEXT_SUFFIXES + (".docx", ".pdf", ".html", ".htm")


class LoadError(ValueError):
    """A file that cannot be read as a document."""


@dataclass(frozen=True)
class Loaded:
    path: Path
    text: str  # the document text that offsets refer to


def load_text(path: str | Path) -> Loaded:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LoadError(f"{path.name}: 不支持的文件类型 {suffix or '(无扩展名)'}；支持 {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise LoadError(f"{path}: 文件不存在")
    data = path.read_bytes()
    if not data.strip():
        raise LoadError(f"{path.name}: 文件是空的")
    try:
        if suffix in TEXT_SUFFIXES:
            text = decode_text(data, path.name)
        elif suffix == ".docx":
            text = _docx_text(data)
        elif suffix == ".pdf":
            text = _pdf_text(data)
        else:
            text = _html_text(decode_text(data, path.name))
    except LoadError:
        raise
    except Exception as exc:  # the parsers raise many types on broken files
        raise LoadError(f"{path.name}: 无法读取 {suffix} 文件（{type(exc).__name__}: {exc}）；文件可能已损坏") from exc
    if not text.strip():
        raise LoadError(f"{path.name}: 没有可读的文字（扫描版 PDF 需要先做文字识别）")
    return Loaded(path, text)


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), falling back to GB18030, which Chinese Windows files often use."""
    if b"\x00" in data[:4096]:
        raise LoadError(f"{name}: 这是二进制文件，不是文本；请上传 .md/.txt/.docx/.pdf/.html")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise LoadError(f"{name}: 无法识别的文字编码；请另存为 UTF-8 后再试")


def _docx_text(data: bytes) -> str:
    import docx

    lines = []
    for para in docx.Document(io.BytesIO(data)).paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style.startswith("heading") or style.startswith("标题"):
            level = "".join(ch for ch in style if ch.isdigit()) or "1"
            text = "#" * min(int(level) + 1, 6) + " " + text
        elif style == "title":
            text = "# " + text
        lines.append(text)
    return "\n\n".join(lines)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    return "\n\n".join(p for p in pages if p)


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    blocks = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote"]):
        if el.find_parent(["p", "li", "blockquote"]) is not None:
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
