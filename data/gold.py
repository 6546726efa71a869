"""Read and write gold JSON Lines; every problem is reported as file:line and the good lines are kept."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from data.errors import AnnotationError
from data.labels import LabelSet
from data.types import GoldCase

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GoldFile:
    """The valid cases of one gold file plus one message per rejected line."""

    path: Path
    cases: list[GoldCase]
    problems: list[str]


def read_gold_jsonl(path: str | Path, label_set: LabelSet) -> GoldFile:
    """Parse a gold JSONL file, keeping every valid line.

    Why not raise on the first bad line: an analyst fixing an export wants every problem at once (file:line).

    Raises:
        AnnotationError: the file cannot be read or decoded as UTF-8.
    """
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise AnnotationError(f"cannot read gold file {path}: {err}") from err

    def records() -> Iterable[tuple[str, object]]:
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as err:
                yield where, AnnotationError(f"malformed JSON at {where}: {err.msg} (column {err.colno})")

    gold = collect_cases(path, label_set, records())
    for problem in gold.problems:
        logger.warning("%s", problem)
    return gold


def collect_cases(path: Path, label_set: LabelSet, records: Iterable[tuple[str, object]]) -> GoldFile:
    """Validate ``(where, record)`` pairs of any annotation format; an ``AnnotationError`` in place of a record, or
    raised by the iterator, becomes a problem too. Cases without ``doc`` are named after the file.

    Every record ends as exactly one case or one problem. A unit listed twice (same ``doc`` and ``text``) is a
    problem, not a second case: counted twice it would weigh double in training and in every metric. A file without
    any record is a problem too: an empty export is more often a mistake than an answer.
    """
    cases: list[GoldCase] = []
    problems: list[str] = []
    first_seen: dict[tuple[str, str], str] = {}
    n_records = 0
    try:
        for where, record in records:
            n_records += 1
            try:
                if isinstance(record, AnnotationError):
                    raise record
                case = GoldCase.from_dict(record, label_set, where)
                case = case if case.doc else GoldCase(**(case.__dict__ | {"doc": path.stem}))
                if (case.doc, case.text) in first_seen:
                    earlier = first_seen[case.doc, case.text]
                    raise AnnotationError(f"duplicate case unit at {where}: same doc and text as {earlier}")
                first_seen[case.doc, case.text] = where
            except AnnotationError as err:
                problems.append(str(err))
                continue
            cases.append(case)
    except AnnotationError as err:
        problems.append(str(err))
    if not n_records and not problems:
        problems.append(f"{path}: no annotation records (an empty file)")
    return GoldFile(path, cases, problems)


def write_gold_jsonl(cases: Iterable[GoldCase], path: str | Path) -> int:
    """Write cases one per line (UTF-8, Chinese unescaped); returns the count."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(case.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count
