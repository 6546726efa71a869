"""Read bulletins from .txt (UTF-8, BOM, GBK, GB18030 — detected from the bytes), .html, .docx and .pdf.

Offsets everywhere in the project point into ``Bulletin.text``, the decoded text exactly as read (for HTML, DOCX
and PDF: the extracted text). A ``SOURCE:`` … ``---`` header is kept in ``text`` and skipped via ``body_start``, so
offsets stay valid in the original file.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from data.errors import InputError

logger = logging.getLogger(__name__)

BULLETIN_SUFFIXES = (".txt", ".html", ".htm", ".docx", ".pdf")
MAX_BYTES = 20_000_000  # a bulletin is a few KB; 20 MB is already a whole crawl dumped into one file
_HEADER = re.compile(r"\ASOURCE:[^\n]*\n(?:.*?\n)??---[ \t]*\n", re.DOTALL)
_DROPPED_HTML = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "template")


@dataclass(frozen=True)
class Bulletin:
    """One decoded bulletin; the text to label is ``text[body_start:]``."""

    source: str
    text: str
    body_start: int = 0
    encoding: str = "utf-8"


def decode_bytes(raw: bytes, source: str) -> tuple[str, str]:
    """Decode bulletin bytes, trying BOMs, strict UTF-8, then GBK and GB18030.

    Why this order: UTF-8 is self-validating (random GBK rarely decodes as UTF-8), and GB18030 is a superset of GBK,
    so naming GBK when it suffices tells the user what the file really is.

    Raises:
        InputError: the bytes are empty, binary, or valid in none of the encodings.
    """
    if not raw.strip():
        raise InputError(f"{source}: empty file")
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            return _strict(raw, encoding, source), encoding
    if b"\x00" in raw[:65536]:
        raise InputError(f"{source}: looks like a binary file (NUL bytes), not a text bulletin")
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{source}: cannot decode as UTF-8, GBK or GB18030 (first bad byte at offset {err.start}); "
            "convert the file to UTF-8"
        ) from err
    raise AssertionError("unreachable")


def _strict(raw: bytes, encoding: str, source: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise InputError(f"{source}: has a {encoding} byte-order mark but bad bytes at offset {err.start}") from err


def header_end(text: str) -> int:
    """Where the body starts: after a ``SOURCE:`` … ``---`` header, else 0."""
    match = _HEADER.match(text)
    return match.end() if match else 0


def html_to_text(markup: str) -> str:
    """Visible text of a page, one block per line; scripts, styles and navigation dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    for tag in soup(_DROPPED_HTML):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def docx_to_text(raw: bytes, source: str) -> str:
    """Paragraph text of a .docx, one paragraph per line (tables included, row by row)."""
    import docx

    try:
        document = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as err:
        raise InputError(f"{source}: not a valid .docx file ({err})") from err
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines.extend("\t".join(cell.text for cell in row.cells) for row in table.rows)
    return "\n".join(lines)


def pdf_to_text(raw: bytes, source: str) -> str:
    """The text layer of a PDF, page by page (pypdf); a scanned PDF without one is an error, not an empty bulletin.

    Raises:
        InputError: the bytes are not a readable PDF, it is encrypted, or it has no text layer.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{source}: the PDF is password-protected; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    # pypdf raises its own errors for most damage, but a truncated or garbled file can surface as any of these
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, OSError) as err:
        raise InputError(f"{source}: not a readable PDF ({type(err).__name__}: {err})") from err
    text = "\n".join(page.strip("\n") for page in pages)
    if not text.strip():
        raise InputError(f"{source}: the PDF has no text layer (a scan?); run OCR first or supply the text")
    return text


def read_bulletin_bytes(raw: bytes, source: str, suffix: str = ".txt") -> Bulletin:
    """Decode one bulletin from bytes (the web service and stdin use this; files go through ``read_bulletin``).

    Raises:
        InputError: naming ``source``, for empty, binary, undecodable or oversized input.
    """
    if len(raw) > MAX_BYTES:
        raise InputError(
            f"{source}: {len(raw) / 1e6:.1f} MB is larger than the {MAX_BYTES / 1e6:.0f} MB limit for one bulletin; "
            "split the file"
        )
    suffix = suffix.lower()
    if suffix == ".docx":
        text, encoding = docx_to_text(raw, source), "docx"
    elif suffix == ".pdf":
        text, encoding = pdf_to_text(raw, source), "pdf"
    else:
        text, encoding = decode_bytes(raw, source)
        if suffix in (".html", ".htm") or (
            suffix != ".txt" and text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))
        ):
            text, encoding = html_to_text(text), f"html/{encoding}"
    if not text.strip():
        raise InputError(f"{source}: no text found")
    start = header_end(text)
    if not text[start:].strip():
        raise InputError(f"{source}: only a header, no bulletin text below '---'")
    return Bulletin(source=source, text=text, body_start=start, encoding=encoding)


def read_bulletin(path: str | Path) -> Bulletin:
    """Read and decode one bulletin file; ``source`` is the path as given.

    Raises:
        InputError: the file is missing, unreadable, empty, binary, undecodable or too large.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                f"{path}: {size / 1e6:.1f} MB is larger than the {MAX_BYTES / 1e6:.0f} MB limit for one bulletin; "
                "split the file"
            )
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror or err})") from err
    return read_bulletin_bytes(raw, str(path), path.suffix)
