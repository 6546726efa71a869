"""Batch input: expand files, directories and ``-`` (stdin) into bulletins, turning every failure into a record.

One bad file never stops a batch: it becomes an ``InputFailure`` that the output reports, so every input is
accounted for.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
import sys
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from data.errors import InputError
from data.reader import (
    BULLETIN_SUFFIXES,
    MAX_BYTES,
    MAX_MEMBERS,
    MAX_UNPACKED_BYTES,
    Bulletin,
    read_bulletin,
    read_bulletin_bytes,
)

logger = logging.getLogger(__name__)
STDIN = "-"
STDIN_NAME = "<stdin>"  # the source of stdin's records, read or failed alike
ARCHIVE_SUFFIX = ".zip"
_UNPACK_CHUNK = 1 << 20
_UTF8_NAMES = 0x800  # zip flag bit 11: member names are UTF-8; without it they are cp437, or GBK from Chinese Windows


@dataclass(frozen=True)
class InputFailure:
    """An input that could not be read, with the reason to show the user."""

    source: str
    error: str

    def to_dict(self) -> dict:
        return {"source": self.source, "error": self.error}


def expand_inputs(specs: Iterable[str]) -> Iterator[str | InputFailure]:
    """Files as given, directories recursively (bulletin suffixes only, sorted), ``-`` as is; a missing path is kept
    so that reading it reports the failure, and whatever a directory walk cannot follow becomes an ``InputFailure``."""
    for spec in specs:
        path = Path(spec)
        if spec != STDIN and path.is_dir():
            found = sorted(_walk(path, {_identity(os.stat(path))}), key=_source)
            if not found:
                logger.warning("%s: no bulletin files (%s) inside", spec, ", ".join(BULLETIN_SUFFIXES))
            yield from found
        else:
            yield spec


def _source(item: str | InputFailure) -> str:
    return item if isinstance(item, str) else item.source


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def _walk(directory: Path, seen: set[tuple[int, int]]) -> Iterator[str | InputFailure]:
    """Bulletin files below ``directory``, following links to directories, each real directory once.

    Why not ``Path.rglob``: it skips unreadable directories, broken links and link loops without a word, and an
    input that vanishes silently is a lost bulletin. Here each of them is an ``InputFailure``; so are files named like
    bulletins that are no regular file (a FIFO would block the read).
    """
    try:
        with os.scandir(directory) as listing:
            entries = list(listing)
    except OSError as err:
        yield InputFailure(str(directory), f"cannot list directory ({err.strerror or err})")
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            status = os.stat(path)  # follows links
        except OSError as err:
            yield InputFailure(
                str(path), f"cannot follow {'link' if entry.is_symlink() else 'entry'} ({err.strerror})"
            )
            continue
        if stat.S_ISDIR(status.st_mode):
            if _identity(status) in seen:
                yield InputFailure(
                    str(path), "link to a directory that is already being read (a loop?); not read twice"
                )
                continue
            seen.add(_identity(status))
            yield from _walk(path, seen)
        elif path.suffix.lower() in BULLETIN_SUFFIXES:
            yield str(path) if stat.S_ISREG(status.st_mode) else InputFailure(str(path), "not a regular file")


def in_shard(source: str, shard: tuple[int, int] | None) -> bool:
    """Deterministic assignment of an input to shard ``i`` of ``n`` (by a hash of its name, stable across machines)."""
    if shard is None:
        return True
    index, count = shard
    return int(hashlib.sha1(source.encode()).hexdigest(), 16) % count == index


def parse_shard(text: str) -> tuple[int, int]:
    """``'2/8'`` → ``(2, 8)``; shards are numbered from 0."""
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError as err:
        raise InputError(f"--shard must look like I/N (e.g. 0/4), got {text!r}") from err
    if not 0 <= index < count:
        raise InputError(f"--shard {text}: I must be in 0..N-1")
    return index, count


def read_inputs(specs: Iterable[str], shard: tuple[int, int] | None = None) -> Iterator[Bulletin | InputFailure]:
    """Bulletins (or failures) for every input in this shard, lazily, so memory stays flat on large crawls."""
    for item in expand_inputs(specs):
        if not in_shard(_source(item), shard):
            continue
        if isinstance(item, InputFailure):
            logger.error("%s: %s", item.source, item.error)
            yield item
            continue
        name = STDIN_NAME if item == STDIN else item
        try:
            # stdin: at most one byte over the limit is read, so an endless pipe is refused, not swallowed
            yield (
                read_bulletin_bytes(sys.stdin.buffer.read(MAX_BYTES + 1), name)
                if item == STDIN
                else read_bulletin(item)
            )
        except InputError as err:
            logger.error("%s", err)
            yield InputFailure(name, str(err))


def read_archive_bytes(raw: bytes, source: str) -> Iterator[Bulletin | InputFailure]:
    """The bulletins inside a ``.zip`` (a folder of bulletins, zipped), each member read like a bulletin file.

    A member's source is ``source/member/path``. Members with another suffix, folders and macOS resource forks
    (``__MACOSX/``, ``._name``) are skipped, as a directory walk skips them; a nested archive is reported, not opened.
    The limits of ``data.reader`` apply to what is unpacked, counted in real bytes read in chunks (a zip bomb declares
    small sizes): at most ``MAX_MEMBERS`` members, ``MAX_BYTES`` per member and ``MAX_UNPACKED_BYTES`` in all.

    Args:
        raw: the archive's bytes (the caller has bounded them, e.g. by the upload limit).
        source: the archive's name, prefixed to every member's source.

    Returns:
        An iterator of bulletins and failures; a member that cannot be read is one failure and the others still come,
        an archive that cannot be opened at all is one failure naming the archive.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as err:
        yield InputFailure(source, f"not a readable .zip archive ({type(err).__name__}: {err})")
        return
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not _resource_fork(m.filename)]
        if len(members) > MAX_MEMBERS:
            yield InputFailure(source, f"{len(members)} files in the archive, more than the {MAX_MEMBERS} limit")
            return
        found = 0
        budget = [MAX_UNPACKED_BYTES]  # every byte inflated counts, those of a refused member too
        for index, member in enumerate(members):
            name = f"{source}/{_member_name(member)}"
            suffix = Path(member.filename).suffix.lower()
            if suffix == ARCHIVE_SUFFIX:
                yield InputFailure(name, "an archive inside the archive is not opened; unpack it first")
                continue
            if suffix not in BULLETIN_SUFFIXES:
                continue
            found += 1
            try:
                content = _unpack(archive, member, name, budget)
            except _ArchiveSpent as err:
                left = len(members) - index - 1
                yield InputFailure(name, f"{err}; {left} later file(s) of the archive not read")
                return
            except InputError as err:
                yield InputFailure(name, str(err))
                continue
            try:
                yield read_bulletin_bytes(content, name, suffix)
            except InputError as err:
                yield InputFailure(name, str(err))
        if not found:
            yield InputFailure(source, f"no bulletin files ({', '.join(BULLETIN_SUFFIXES)}) inside the archive")


def _resource_fork(filename: str) -> bool:
    """macOS adds ``__MACOSX/…`` and ``._name`` entries to the zips it makes: metadata, not files the user chose."""
    return filename.startswith("__MACOSX/") or Path(filename).name.startswith("._")


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's path as its author wrote it. Zips made on Chinese Windows store GBK names without the UTF-8 flag,
    which ``zipfile`` decodes as cp437 mojibake; those are read back as GBK where they decode."""
    if member.flag_bits & _UTF8_NAMES:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member.filename


class _ArchiveSpent(InputError):
    """The archive as a whole unpacked beyond ``MAX_UNPACKED_BYTES``: nothing after this member is read."""


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, budget: list[int]) -> bytes:
    """One member's bytes, read in chunks and refused as soon as it passes ``MAX_BYTES`` or what is left of the
    archive's ``budget`` (a one-item list, decreased by every byte inflated).

    Raises:
        _ArchiveSpent: the archive's budget ran out in this member.
        InputError: the member is too large, encrypted, damaged or compressed in a way ``zipfile`` cannot read.
    """
    if member.file_size > MAX_BYTES:  # an honest size refuses at once; a forged one is caught while reading
        raise InputError(
            f"{name}: {member.file_size / 1e6:.1f} MB unpacked is larger than the {MAX_BYTES / 1e6:.0f} MB "
            "limit for one bulletin; split the file"
        )
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_UNPACK_CHUNK):
                size += len(chunk)
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise _ArchiveSpent(
                        f"{name}: the archive unpacks to more than {MAX_UNPACKED_BYTES / 1e6:.0f} MB in all; "
                        "split it into smaller archives"
                    )
                if size > MAX_BYTES:
                    raise InputError(
                        f"{name}: unpacks to more than the {MAX_BYTES / 1e6:.0f} MB limit for one bulletin; "
                        "split the file"
                    )
                chunks.append(chunk)
    except InputError:
        raise
    except RuntimeError as err:  # zipfile's error for an encrypted member without a password
        raise InputError(f"{name}: encrypted in the archive ({err}); zip it without a password") from err
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, OSError) as err:
        raise InputError(f"{name}: damaged in the archive ({type(err).__name__}: {err})") from err
    return b"".join(chunks)
