"""The gold data of an evaluation: annotated bulletins (both modes) and annotation files (unit level only).

A ``--data`` spec is an annotated directory (``<doc>.txt`` with its gold ``<doc>.jsonl`` beside it), a directory of
annotation files, one annotation file (gold JSONL, Label Studio JSON, doccano JSONL) or ``corpus`` (the built
authored corpus). Every file read is listed with its SHA-256, so a report names exactly the data it scored.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from data.annotated import AnnotatedBulletin, load_annotated_dir
from data.corpus import data_path
from data.errors import InputError
from data.formats import read_annotations, resolve_annotation_paths
from data.labels import LabelSet
from data.types import GoldCase
from eval.slices import header_issuer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSet:
    """Gold data pooled over the ``--data`` specs.

    ``bulletins`` feed end-to-end mode; ``cases`` (the bulletins' cases first, then those of annotation files) feed
    unit-level mode. ``groups`` and ``issuers`` run parallel to ``cases``.
    """

    specs: tuple[str, ...]
    bulletins: list[AnnotatedBulletin]
    bulletin_groups: list[str]
    cases: list[GoldCase]
    groups: list[str]
    issuers: list[str | None]
    problems: list[str]
    files: list[Path]

    def checksums(self) -> dict:
        """SHA-256 of each file read and one over all of them (names and contents), for reproducibility."""
        per_file = {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in self.files}
        combined = hashlib.sha256()
        # Names without folders: the same files copied elsewhere give the same checksum.
        for name, digest in sorted((Path(path).name, digest) for path, digest in per_file.items()):
            combined.update(f"{name}\0{digest}\n".encode())
        return {"sha256": combined.hexdigest(), "files": per_file}


def _is_annotated_dir(path: Path) -> bool:
    return path.is_dir() and any(txt.with_suffix(".jsonl").exists() for txt in path.glob("*.txt"))


def _orphan_gold(directory: Path) -> list[Path]:
    """Gold files of an annotated directory without their bulletin: scored at unit level, with a warning, because
    leaving their units out silently would shrink the evaluation unseen."""
    orphans = [gold for gold in sorted(directory.glob("*.jsonl")) if not gold.with_suffix(".txt").exists()]
    for gold in orphans:
        logger.warning(
            "%s: no bulletin %s beside it; its units are scored at unit level only", gold, gold.stem + ".txt"
        )
    return orphans


def load_eval_set(specs: list[str], label_set: LabelSet) -> EvalSet:
    """Read every spec; gold records outside the label set become ``problems`` (file:line), never silent drops.

    Args:
        specs: annotated directories, annotation files or directories of them, or ``corpus``.
        label_set: the label set gold records are checked against.

    Returns:
        The pooled gold data.

    Raises:
        InputError: a directory holds nothing to evaluate, or there is no gold case unit at all.
        AnnotationError: a spec does not exist, or a gold text is not a substring of its bulletin.
    """
    bulletins: list[AnnotatedBulletin] = []
    bulletin_groups: list[str] = []
    unit_cases: list[GoldCase] = []
    unit_groups: list[str] = []
    problems: list[str] = []
    files: list[Path] = []
    for spec in specs:
        path = data_path(spec)
        if _is_annotated_dir(path):
            for annotated in load_annotated_dir(path, label_set):
                gold_path = Path(annotated.bulletin.source).with_suffix(".jsonl")
                problems.extend(annotated.problems)
                files.extend([Path(annotated.bulletin.source), gold_path])
                bulletins.append(annotated)
                bulletin_groups.append(f"{spec}::{annotated.doc}")
            annotation_paths = _orphan_gold(path)
        else:
            annotation_paths = resolve_annotation_paths([str(path)])
        for annotation_path in annotation_paths:
            loaded = read_annotations(annotation_path, label_set)
            problems.extend(loaded.problems)
            files.append(annotation_path)
            unit_cases.extend(loaded.cases)
            unit_groups.extend(f"{spec}::{case.doc}" for case in loaded.cases)
    cases = [case for annotated in bulletins for case in annotated.cases] + unit_cases
    if not cases or (bulletins and not any(annotated.cases for annotated in bulletins)):
        raise InputError(
            f"{', '.join(specs)}: no gold case unit to score" + (f" ({'; '.join(problems)})" if problems else "")
        )
    groups = [group for annotated, group in zip(bulletins, bulletin_groups, strict=True) for _ in annotated.cases]
    issuers = [
        header_issuer(annotated.bulletin.text[: annotated.bulletin.body_start])
        for annotated in bulletins
        for _ in annotated.cases
    ]
    if problems:
        logger.warning("%d gold record(s) left out of the evaluation; they are listed in the report", len(problems))
    return EvalSet(
        specs=tuple(specs),
        bulletins=bulletins,
        bulletin_groups=bulletin_groups,
        cases=cases,
        groups=groups + unit_groups,
        issuers=issuers + [None] * len(unit_cases),
        problems=problems,
        files=files,
    )
