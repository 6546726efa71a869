"""Per-penalty decision thresholds, tuned on validation data only (never on the data being reported)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import f1_score

from data.types import GoldCase, LabelScores
from training.noise import clearly_better

_GRID = np.round(np.arange(0.1, 0.91, 0.05), 2)
_DEFAULT = 0.5
_MIN_POSITIVES = 3  # fewer gold positives than this and a tuned threshold is noise: keep 0.5


def tune_thresholds(
    gold: list[GoldCase], scores: list[LabelScores], penalties: tuple[str, ...], seed: int = 0
) -> dict[str, float]:
    """For each penalty, the grid threshold with the best validation F1 (ties: the one closest to 0.5), kept only if it
    is clearly better than 0.5 (``training.noise``): a threshold moved for one or two validation units moved by
    luck."""
    thresholds = {}
    complete = [(g, s) for g, s in zip(gold, scores, strict=True) if g.complete]
    groups = [g.doc for g, _ in complete]
    for penalty in penalties:
        truth = np.array([penalty in g.penalties for g, _ in complete])
        probability = np.array([s.penalties[penalty] for _, s in complete])
        if truth.sum() < _MIN_POSITIVES:
            thresholds[penalty] = _DEFAULT
            continue
        f1_at = {float(t): _f1_scorer(truth, probability, float(t)) for t in (*_GRID, _DEFAULT)}
        best = max(_GRID, key=lambda t: (round(f1_at[t](np.arange(len(truth))), 6), -abs(t - _DEFAULT)))
        keep = best != _DEFAULT and clearly_better(f1_at[best], f1_at[_DEFAULT], groups, seed)
        thresholds[penalty] = float(best) if keep else _DEFAULT
    return thresholds


def _f1_scorer(truth: np.ndarray, probability: np.ndarray, threshold: float) -> Callable[[np.ndarray], float]:
    """F1 at ``threshold`` on any selection of the rows (row indices, repeats allowed)."""
    return lambda rows: f1_score(truth[rows], probability[rows] >= threshold, zero_division=0)
