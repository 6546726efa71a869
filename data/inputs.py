"""Batch input: expand files, directories and ``-`` (stdin) into bulletins, turning every failure into a record.

One bad file never stops a batch: it becomes an ``InputFailure`` that the output reports, so every input is
accounted for.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from data.errors import InputError
from data.reader import BULLETIN_SUFFIXES, MAX_BYTES, Bulletin, read_bulletin, read_bulletin_bytes

logger = logging.getLogger(__name__)
STDIN = "-"
STDIN_NAME = "<stdin>"  # the source of stdin's records, read or failed alike


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
