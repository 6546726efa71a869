"""Which segmenter finds the case units: ``rules`` (``data.segment``), a trained one (``models.segmenter``), or
``auto``.

``auto`` is what every command uses unless told otherwise: the segmenter that a model directory carries
(``MODEL/segmenter``, written by ``make demo``), else ``$PENALTY_SEGMENTER`` (a directory or ``rules``), else the
default trained one (``runs/default/segmenter``), else the rules. The rules stay for comparison and as the fallback
of a fresh clone that has trained nothing yet; the log says which one ran.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from data.segment import segment_bulletin
from data.types import CaseUnit

logger = logging.getLogger(__name__)
RULES = "rules"
AUTO = "auto"
SEGMENTER_SUBDIR = "segmenter"
DEFAULT_SEGMENTER = Path("runs/default") / SEGMENTER_SUBDIR


class Segmenter(Protocol):
    name: str

    def segment_many(self, bulletins: Sequence[tuple[str, str, int]]) -> list[list[CaseUnit]]: ...


class RuleSegmenter:
    """``data.segment``'s transparent rules behind the ``Segmenter`` interface."""

    name = RULES

    def segment_many(self, bulletins: Sequence[tuple[str, str, int]]) -> list[list[CaseUnit]]:
        return [segment_bulletin(text, source, start) for text, source, start in bulletins]


def load_segmenter(spec: str | Path = AUTO, model_dir: str | Path | None = None) -> Segmenter:
    """``rules``, ``auto`` or a segmenter directory from ``penalty train --task segment``.

    Raises:
        ModelError: a named directory is missing or corrupt (``auto`` falls back to the rules only where there is
            no trained segmenter at all).
    """
    if str(spec) == AUTO:
        model_segmenter = Path(model_dir) / SEGMENTER_SUBDIR if model_dir else None
        if model_segmenter is not None and (model_segmenter / "segmenter.yaml").is_file():
            spec = model_segmenter
        elif os.environ.get("PENALTY_SEGMENTER"):
            spec = os.environ["PENALTY_SEGMENTER"]
        elif (DEFAULT_SEGMENTER / "segmenter.yaml").is_file():
            spec = DEFAULT_SEGMENTER
        else:
            logger.info("no trained segmenter (%s); using the rules", DEFAULT_SEGMENTER)
            spec = RULES
    if str(spec) == RULES:
        return RuleSegmenter()
    return _learned(Path(spec))


def _learned(directory: Path) -> Segmenter:
    from models.segmenter import LearnedSegmenter

    segmenter = LearnedSegmenter.load(directory)
    logger.info("segmenter: %s (trained)", directory)
    return segmenter
