"""Batch input: expand files, directories and ``-`` (stdin) into bulletins, turning every failure into a record.

One bad file never stops a batch: it becomes an ``InputFailure`` that the output reports, so every input is
accounted for.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from data.errors import InputError
from data.reader import BULLETIN_SUFFIXES, Bulletin, read_bulletin, read_bulletin_bytes

logger = logging.getLogger(__name__)
STDIN = "-"


@dataclass(frozen=True)
class InputFailure:
    """An input that could not be read, with the reason to show the user."""

    source: str
    error: str

    def to_dict(self) -> dict:
        return {"source": self.source, "error": self.error}


def expand_inputs(specs: Iterable[str]) -> Iterator[str]:
    """Files as given, directories recursively (bulletin suffixes only, sorted), ``-`` as is; a missing path is kept
    so that reading it reports the failure."""
    for spec in specs:
        path = Path(spec)
        if spec != STDIN and path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in BULLETIN_SUFFIXES)
            if not found:
                logger.warning("%s: no bulletin files (%s) inside", spec, ", ".join(BULLETIN_SUFFIXES))
            yield from (str(p) for p in found)
        else:
            yield spec


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
    for source in expand_inputs(specs):
        if not in_shard(source, shard):
            continue
        try:
            if source == STDIN:
                yield read_bulletin_bytes(sys.stdin.buffer.read(), "<stdin>")
            else:
                yield read_bulletin(source)
        except InputError as err:
            logger.error("%s", err)
            yield InputFailure(source, str(err))
