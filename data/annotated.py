"""Annotated bulletins: a ``<doc>.txt`` with its gold ``<doc>.jsonl`` beside it, gold cases located in the text.

This is the layout of ``../shared/data/real`` and of the built authored corpus, and what end-to-end evaluation and
segmenter scoring read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from data.errors import AnnotationError, InputError
from data.gold import GoldFile, read_gold_jsonl
from data.labels import LabelSet
from data.reader import Bulletin, read_bulletin
from data.types import GoldCase

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnnotatedBulletin:
    """A bulletin with its gold cases and each case's ``(start, end)`` in ``bulletin.text``."""

    bulletin: Bulletin
    cases: list[GoldCase]
    spans: list[tuple[int, int]]
    problems: list[str] = field(default_factory=list)  # gold lines left out (file:line), for reports

    @property
    def doc(self) -> str:
        return Path(self.bulletin.source).stem


def locate_cases(text: str, cases: list[GoldCase], where: str) -> list[tuple[int, int]]:
    """Find each gold ``text`` in the bulletin, in order (gold units are listed in text order).

    Raises:
        AnnotationError: a gold text is not an exact substring of the bulletin.
    """
    spans = []
    cursor = 0
    for number, case in enumerate(cases, start=1):
        start = text.find(case.text, cursor)
        if start < 0:
            start = text.find(case.text)
        if start < 0:
            raise AnnotationError(f"{where}:{number}: gold text is not an exact substring of the bulletin")
        spans.append((start, start + len(case.text)))
        cursor = start + len(case.text)
    return spans


def load_annotated_dir(directory: str | Path, label_set: LabelSet) -> list[AnnotatedBulletin]:
    """Every ``*.txt`` with a ``.jsonl`` beside it, sorted by name; bulletins without gold are skipped.

    Raises:
        InputError: the directory does not exist or holds no annotated bulletin.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    annotated = []
    for txt in sorted(directory.glob("*.txt")):
        gold_path = txt.with_suffix(".jsonl")
        if not gold_path.exists():
            continue
        # An empty gold file beside its bulletin says "no case unit here" (the bulletin still counts for
        # segmentation), while the gold reader reports an empty export elsewhere as a likely mistake.
        gold = read_gold_jsonl(gold_path, label_set) if gold_path.read_bytes().strip() else GoldFile(gold_path, [], [])
        bulletin = read_bulletin(txt)
        spans = locate_cases(bulletin.text, gold.cases, str(gold_path))
        annotated.append(AnnotatedBulletin(bulletin, gold.cases, spans, gold.problems))
    if not annotated:
        raise InputError(f"{directory}: no bulletin (*.txt) with gold annotations (*.jsonl) beside it")
    return annotated
