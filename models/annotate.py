"""``penalty annotate``: label bulletins with a model, pick which to annotate, and return them as task bulletins
(``data.tasks`` writes them), accounting for every input: read, failed, or without case units.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from data.inputs import InputFailure
from data.reader import Bulletin
from data.tasks import TaskBulletin
from data.types import LabelScores, Prediction
from models.batch import bulletin_batches
from models.predictor import DEFAULT_THRESHOLD, Predictor
from models.rules import RULES, RuleLabeler
from models.selection import DIVERSE, Doubt, bulletin_text, embed_bulletins, measure_doubt, pick_bulletins

logger = logging.getLogger(__name__)


@dataclass
class AnnotateResult:
    """The picked bulletins and what happened to every input."""

    bulletins: list[TaskBulletin] = field(default_factory=list)
    read: int = 0
    failed: list[InputFailure] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # sources of readable bulletins without case units

    def describe(self) -> str:
        units = sum(len(b.predictions) for b in self.bulletins)
        return (
            f"{self.read + len(self.failed)} input(s): {self.read} read, {len(self.failed)} failed, "
            f"{len(self.empty)} without case units; {units} task(s) from {len(self.bulletins)} bulletin(s)"
        )


def pre_annotate(
    predictor: Predictor, specs: Iterable[str], select: int | None = None, strategy: str = "uncertainty", seed: int = 0
) -> AnnotateResult:
    """Label every input bulletin, then keep all of them or ``select`` of them by ``strategy``.

    Args:
        predictor: the model whose case units and labels pre-fill the tasks.
        specs: files, directories (recursive) or ``-``, as ``penalty predict`` reads them.
        select: how many bulletins to keep (``None``: all, in input order).
        strategy: ``uncertainty`` (most unsure first), ``diverse`` (the most unsure of each cluster of similar
            bulletins, seeded by ``seed``) or ``random`` (seeded by ``seed``); ``models.selection``.

    Raises:
        ValueError: an unknown ``strategy`` or a negative ``select``.
    """
    result = AnnotateResult()
    scored: list[tuple[str, list[tuple[Prediction, LabelScores]]]] = []
    bulletin_texts: dict[str, str] = {}  # source -> decoded text, for bulletin-level tasks
    for item in bulletin_batches(specs):
        if isinstance(item, InputFailure):
            result.failed.append(item)
        else:
            scored.extend(_score(predictor, item))
            bulletin_texts.update((b.source, b.text) for b in item)
    result.read = len(scored)
    result.empty = [source for source, units in scored if not units]
    for source in result.empty:
        logger.warning("%s: no case units found; no task written", source)
    labelled = [(source, units) for source, units in scored if units]
    doubts = bulletin_doubts(predictor, labelled)
    if select is None:
        chosen = [(i, doubt.describe()) for i, (_, doubt) in enumerate(doubts)]
    else:
        texts = [bulletin_text(p.unit.text for p, _ in units) for _, units in labelled] if strategy == DIVERSE else []
        vectors = embed_bulletins(texts) if texts else None
        chosen = [(pick.position, pick.reason) for pick in pick_bulletins(doubts, select, strategy, seed, vectors)]
    result.bulletins = [
        TaskBulletin(labelled[i][0], tuple(p for p, _ in labelled[i][1]), reason, bulletin_texts[labelled[i][0]])
        for i, reason in chosen
    ]
    return result


def _score(predictor: Predictor, bulletins: list[Bulletin]) -> list[tuple[str, list[tuple[Prediction, LabelScores]]]]:
    """Each bulletin's source and units (prediction, calibrated scores), segmented and labelled in one batch."""
    return [(b.source, units) for b, units in zip(bulletins, predictor.score_bulletins(bulletins), strict=True)]


def bulletin_doubts(
    predictor: Predictor, labelled: list[tuple[str, list[tuple[Prediction, LabelScores]]]]
) -> list[tuple[str, Doubt]]:
    """Each bulletin's doubt (``measure_doubt`` over its scored units), with the rules as a second opinion unless the
    model is the rules."""
    rules = None if predictor.name == RULES else Predictor(RuleLabeler(predictor.label_set))
    return [
        (
            source,
            measure_doubt(
                units,
                predictor.thresholds,
                DEFAULT_THRESHOLD,
                rules.label_units([p.unit for p, _ in units]) if rules else None,
            ),
        )
        for source, units in labelled
    ]
