"""Which bulletins to annotate next: the ones the model is least sure of (uncertainty sampling), the least sure of
each cluster of similar bulletins (diverse), or a seeded random sample, each with the reason it was picked, so an
analyst's hour goes where a correction teaches the model most.

A bulletin is as uncertain as its most uncertain case unit. Per unit: whether the model flags it (``needs_review``),
whether the rule labeler reads it differently (offense or penalties), the calibrated offense margin (top-1 minus
top-2) and how close a penalty score lies to its threshold.

Why ``diverse``: the least sure bulletins of a crawl tend to be alike (one issuer's format, one kind of case that the
model has not met), so ten of them teach what one of them would. ``diverse`` clusters the candidates by what they
say (``embed_bulletins``) into as many clusters as bulletins are wanted and takes the least sure bulletin of each.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from data.types import LabelScores, Prediction
from models.calibration import offense_margin

UNCERTAINTY, RANDOM, DIVERSE = "uncertainty", "random", "diverse"
STRATEGIES = (UNCERTAINTY, RANDOM, DIVERSE)


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


@dataclass(frozen=True)
class Pick:
    """One picked bulletin: its position among the candidates and why it was picked (for the task's ``meta``)."""

    position: int
    reason: str


def pick_bulletins(
    doubts: Sequence[tuple[str, Doubt]],
    count: int,
    strategy: str,
    seed: int,
    vectors: np.ndarray | None = None,
) -> list[Pick]:
    """``count`` bulletins of ``doubts`` (source, doubt), each with the reason it was picked.

    Orders: ``uncertainty`` the most unsure first (ties by source, then input order); ``random`` a sample seeded by
    ``seed``, in input order (so the same inputs give the same tasks); ``diverse`` the least sure bulletin of each of
    ``count`` clusters of ``vectors`` (KMeans seeded by ``seed``), most unsure first. Where the candidates hold
    fewer distinct vectors than ``count``, the rest are the most unsure of those left, said so in their reason.

    Args:
        doubts: each candidate bulletin's source and doubt (``measure_doubt``).
        count: how many to pick; all candidates when there are no more than ``count``.
        strategy: one of ``STRATEGIES``.
        seed: seeds ``random`` and ``diverse``.
        vectors: one row per candidate, what it says (``embed_bulletins``); needed by ``diverse`` only.

    Raises:
        ValueError: an unknown ``strategy``, a negative ``count``, or ``diverse`` without one vector per candidate.
    """
    if strategy not in STRATEGIES or count < 0:
        raise ValueError(f"selection needs strategy in {STRATEGIES} and count >= 0, found {strategy!r}, {count}")
    how = f" (picked by {strategy}{'' if strategy == UNCERTAINTY else f', seed {seed}'})"
    positions = range(len(doubts))
    if strategy == RANDOM:
        chosen = sorted(random.Random(seed).sample(positions, min(count, len(doubts))))
        return [Pick(i, doubts[i][1].describe() + how) for i in chosen]
    ranked = _rank(doubts, positions)
    if strategy == UNCERTAINTY:
        return [Pick(i, doubts[i][1].describe() + how) for i in ranked[:count]]
    if not doubts:
        return []
    if vectors is None or len(vectors) != len(doubts):
        found = "none" if vectors is None else len(vectors)
        raise ValueError(f"strategy 'diverse' needs one vector per candidate ({len(doubts)}), found {found}")
    return _pick_diverse(doubts, ranked, count, np.asarray(vectors, dtype=np.float64), seed, how)


def _rank(doubts: Sequence[tuple[str, Doubt]], positions: Sequence[int]) -> list[int]:
    """``positions``, most unsure first; ties by source, then input order."""
    return sorted(positions, key=lambda i: (doubts[i][1].rank_key, doubts[i][0], i))


def _pick_diverse(
    doubts: Sequence[tuple[str, Doubt]], ranked: list[int], count: int, vectors: np.ndarray, seed: int, how: str
) -> list[Pick]:
    """The least sure bulletin of each KMeans cluster (clusters numbered by how unsure their pick is), then, when
    fewer clusters than ``count`` could be formed, the most unsure bulletins left."""
    from sklearn.cluster import KMeans

    if count == 0:
        return []
    n_clusters = min(count, len(np.unique(vectors, axis=0)))
    if n_clusters < 2:
        clusters = np.zeros(len(doubts), dtype=int)
    else:
        # Centred, then unit length: the mean of static token vectors is dominated by what every bulletin shares
        # (punctuation, 公安机关, 罚款); what is left after centring is what a bulletin says, compared by direction.
        points = vectors - vectors.mean(axis=0)
        points /= np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
        clusters = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(points)
    sizes = np.bincount(clusters, minlength=n_clusters)
    first_of: dict[int, int] = {}
    for i in ranked:  # the first of each cluster in the ranking is its least sure bulletin
        first_of.setdefault(int(clusters[i]), i)
    heads = [i for i in ranked if first_of[int(clusters[i])] == i]
    picks = [
        Pick(i, f"cluster {n} of {n_clusters} ({sizes[clusters[i]]} bulletin(s)); {doubts[i][1].describe()}{how}")
        for n, i in enumerate(heads, start=1)
    ]
    taken = set(heads)
    rest = [i for i in ranked if i not in taken][: max(0, count - len(heads))]
    note = f"beyond the {n_clusters} cluster(s) of distinct vectors: next most unsure"
    return picks + [Pick(i, f"{note}; {doubts[i][1].describe()}{how}") for i in rest]


def bulletin_text(unit_texts: Iterable[str]) -> str:
    """What ``diverse`` reads of a bulletin: the text of its case units, one per line."""
    return "\n".join(unit_texts)


def embed_bulletins(texts: Sequence[str], base_model: str = "embedded") -> np.ndarray:
    """One vector per text: the mean of the base model's input token vectors over all of its tokens.

    Why static token vectors and not the encoder: running twelve layers over every unit of a crawl costs minutes on
    a CPU; the segmenter (``models.segmenter.TokenVectors``) showed that the token vectors alone say what a sentence
    is about, which is what clustering needs. Long texts are read whole, not truncated to a window.

    Args:
        texts: one text per bulletin (``bulletin_text``).
        base_model: ``embedded`` (the default base model, built offline) or a model directory.

    Raises:
        ModelError: the base model cannot be loaded.
    """
    from models.segmenter import TokenVectors

    return TokenVectors(base_model).encode(texts, max_tokens=1_000_000)
