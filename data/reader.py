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
import zlib
from dataclasses import dataclass
from pathlib import Path

from data.errors import InputError

logger = logging.getLogger(__name__)

BULLETIN_SUFFIXES = (".txt", ".html", ".htm", ".docx", ".pdf")
MAX_BYTES = 20_000_000  # a bulletin is a few KB; 20 MB is already a whole crawl dumped into one file
# A .docx is a zip: 160 KB of compressed zeros can unpack to gigabytes, so the limits apply to unpacked bytes too.
MAX_MEMBER_BYTES = MAX_BYTES
MAX_UNPACKED_BYTES = 2 * MAX_BYTES
MAX_MEMBERS = 1_000  # a Word file has a few dozen parts
# Text as extracted or decoded: never more characters than a .txt at the byte limit could hold.
MAX_TEXT_CHARS = MAX_BYTES
_READ_CHUNK = 1 << 20
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
    """Decode bulletin bytes: BOMs, strict UTF-8, then GBK, GB18030 or Big5, a detector choosing when several fit.

    Why this order: UTF-8 is self-validating (random GBK rarely decodes as UTF-8), and GB18030 is a superset of GBK,
    so naming GBK when it suffices tells the user what the file really is. Big5 (traditional-script mirrors) often
    decodes as GB18030 too, into rare characters; when Big5 or only GB18030 fits, charset-normalizer's measure of
    how garbled each reading looks decides, and bytes that read well in none (mixed encodings) are refused.

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
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        first_bad = err.start
    decoded = {}
    for encoding in ("gbk", "gb18030", "big5"):
        try:
            decoded[encoding] = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    if not decoded:
        raise InputError(
            f"{source}: cannot decode as UTF-8, GBK, GB18030 or Big5 (first bad UTF-8 byte at offset {first_bad}); "
            "convert the file to UTF-8"
        )
    if "gbk" in decoded and "big5" not in decoded:
        return decoded["gbk"], "gbk"
    encoding = _detect(raw, [e for e in decoded if e != "gbk"])  # GBK text is GB18030 text: one candidate
    if encoding is None:
        raise InputError(
            f"{source}: the bytes decode as {' or '.join(decoded)} but read as garbled text in each "
            "(several encodings mixed in one file?); convert the file to UTF-8"
        )
    if encoding == "gb18030" and "gbk" in decoded:
        encoding = "gbk"
    return decoded[encoding], encoding


def _detect(raw: bytes, candidates: list[str]) -> str | None:
    """The candidate encoding charset-normalizer finds least garbled, or ``None`` when every one reads as noise."""
    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=candidates).best()
    return best.encoding if best is not None else None


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
    """Paragraph text of a .docx, one paragraph per line (tables included, row by row).

    Raises:
        InputError: the bytes are not a readable .docx (bad zip, malformed XML, missing parts), or unpack beyond the
            limits.
    """
    import docx
    from docx.opc.exceptions import OpcError
    from lxml.etree import LxmlError

    try:
        _check_archive(raw, source)
        document = docx.Document(io.BytesIO(raw))
        lines = [p.text for p in document.paragraphs]
        for table in document.tables:
            lines.extend("\t".join(cell.text for cell in row.cells) for row in table.rows)
    except InputError:
        raise
    # A damaged package surfaces as any of these (found by mutating the bytes and the parts of a good file,
    # tests/test_properties.py): zlib and EOF errors from damaged deflate data, the rest from python-docx.
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        LxmlError,
        OpcError,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
    ) as err:
        raise InputError(f"{source}: not a valid .docx file ({type(err).__name__}: {err})") from err
    return "\n".join(lines)


def _check_archive(raw: bytes, source: str) -> None:
    """Unpack every member in bounded chunks, counting real bytes, before python-docx reads any of it.

    Why not trust the sizes the zip declares: a forged size only truncates the read, while zipfile still inflates a
    member's whole compressed block into memory at once when asked for all of it, as python-docx does.

    Raises:
        InputError: too many members, a member or the whole beyond ``MAX_MEMBER_BYTES``/``MAX_UNPACKED_BYTES``.
        zipfile.BadZipFile: not a zip, or a member whose declared size or checksum is wrong.
    """
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise InputError(f"{source}: {len(members)} parts in the .docx archive, more than the {MAX_MEMBERS} limit")
        total = 0
        for member in members:
            size = 0
            with archive.open(member) as stream:
                while chunk := stream.read(_READ_CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if size > MAX_MEMBER_BYTES or total > MAX_UNPACKED_BYTES:
                        raise InputError(
                            f"{source}: the .docx unpacks to more than {MAX_MEMBER_BYTES / 1e6:.0f} MB per part or "
                            f"{MAX_UNPACKED_BYTES / 1e6:.0f} MB in all ({member.filename}); not a bulletin"
                        )


def _check_text_length(n_chars: int, source: str) -> None:
    """Refuse extracted text longer than ``MAX_TEXT_CHARS``.

    Raises:
        InputError: the extracted text is too long.
    """
    if n_chars > MAX_TEXT_CHARS:
        raise InputError(
            f"{source}: more than {MAX_TEXT_CHARS:,} characters of text extracted; one bulletin is a few thousand, "
            "split the file"
        )


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
        pages = []
        extracted = 0
        for page in reader.pages:  # page by page, so a page that inflates to megabytes stops the read early
            pages.append(page.extract_text() or "")
            extracted += len(pages[-1])
            _check_text_length(extracted, source)
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
    _check_text_length(len(text), source)
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
