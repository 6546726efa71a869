"""Per-penalty decision thresholds, tuned on validation data only (never on the data being reported)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from data.types import GoldCase, LabelScores

_GRID = np.round(np.arange(0.1, 0.91, 0.05), 2)
_MIN_POSITIVES = 3  # fewer gold positives than this and a tuned threshold is noise: keep 0.5


def tune_thresholds(gold: list[GoldCase], scores: list[LabelScores], penalties: tuple[str, ...]) -> dict[str, float]:
    """For each penalty, the grid threshold with the best validation F1 (ties: the one closest to 0.5)."""
    thresholds = {}
    complete = [(g, s) for g, s in zip(gold, scores, strict=True) if g.complete]
    for penalty in penalties:
        truth = np.array([penalty in g.penalties for g, _ in complete])
        probability = np.array([s.penalties[penalty] for _, s in complete])
        if truth.sum() < _MIN_POSITIVES:
            thresholds[penalty] = 0.5
            continue
        f1 = [f1_score(truth, probability >= t, zero_division=0) for t in _GRID]
        best = max(range(len(_GRID)), key=lambda i: (round(f1[i], 6), -abs(_GRID[i] - 0.5)))
        thresholds[penalty] = float(_GRID[best])
    return thresholds
