"""Which bulletins to annotate next: the ones the model is least sure of (uncertainty sampling), or a seeded random
sample, each with the reason it was picked, so an analyst's hour goes where a correction teaches the model most.

A bulletin is as uncertain as its most uncertain case unit. Per unit: whether the model flags it (``needs_review``),
whether the rule labeler reads it differently (offense or penalties), the calibrated offense margin (top-1 minus
top-2) and how close a penalty score lies to its threshold.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from data.types import LabelScores, Prediction
from models.calibration import offense_margin

STRATEGIES = ("uncertainty", "random")


@dataclass(frozen=True)
class Doubt:
    """How unsure the model is of one bulletin (its least sure unit decides); ``rank_key`` sorts most unsure first."""

    review_units: int  # units the model flags for review
    disagreements: tuple[str, ...]  # what the rules read differently, e.g. "offense", "penalties"
    margin: float  # the smallest calibrated offense margin of its units
    penalty_distance: float  # the smallest distance of a penalty score to its threshold

    @property
    def rank_key(self) -> tuple[int, float]:
        flagged = self.review_units + (1 if self.disagreements else 0)
        return -flagged, min(self.margin, self.penalty_distance)

    def describe(self) -> str:
        parts = [f"needs_review units: {self.review_units}"] if self.review_units else []
        parts.append(f"offense margin {self.margin:.2f}")
        parts.append(f"penalty score {self.penalty_distance:.2f} from its threshold")
        if self.disagreements:
            parts.append(f"model and rules disagree on {' and '.join(self.disagreements)}")
        return "; ".join(parts)


def measure_doubt(
    scored: list[tuple[Prediction, LabelScores]],
    thresholds: dict[str, float],
    default_threshold: float,
    rule_predictions: list[Prediction] | None,
) -> Doubt:
    """The doubt of one bulletin with at least one unit.

    Args:
        scored: each unit's prediction with the calibrated scores behind it (``Predictor.score_units``).
        thresholds: the model's penalty thresholds; a penalty without one uses ``default_threshold``.
        rule_predictions: the rule labeler's predictions for the same units, or ``None`` when the model is the rules.
    """
    disagreements: set[str] = set()
    for (prediction, _), rule in zip(scored, rule_predictions or [], strict=False):
        if prediction.offense != rule.offense:
            disagreements.add("offense")
        if set(prediction.penalties) != set(rule.penalties):
            disagreements.add("penalties")
    distances = [
        abs(score - thresholds.get(label, default_threshold))
        for _, scores in scored
        for label, score in scores.penalties.items()
    ]
    return Doubt(
        review_units=sum(prediction.needs_review for prediction, _ in scored),
        disagreements=tuple(d for d in ("offense", "penalties") if d in disagreements),
        margin=min(offense_margin(scores.offense) for _, scores in scored),
        penalty_distance=min(distances, default=1.0),
    )


def select_bulletins(doubts: list[tuple[str, Doubt]], count: int, strategy: str, seed: int) -> list[int]:
    """Positions in ``doubts`` (source, doubt) of ``count`` bulletins: the most unsure first (ties by source, then
    input order), or a random sample seeded by ``seed`` (in input order, so the same inputs give the same tasks).

    Raises:
        ValueError: ``strategy`` is not one of ``STRATEGIES`` or ``count`` is negative.
    """
    if strategy not in STRATEGIES or count < 0:
        raise ValueError(f"selection needs strategy in {STRATEGIES} and count >= 0, found {strategy!r}, {count}")
    positions = range(len(doubts))
    if strategy == "random":
        return sorted(random.Random(seed).sample(positions, min(count, len(doubts))))
    return sorted(positions, key=lambda i: (doubts[i][1].rank_key, doubts[i][0], i))[:count]
