"""Percentile bootstrap intervals that resample whole bulletins, not case units.

Why by bulletin: the units of one bulletin share an issuer, a writing style and often a segmentation error, so they
are not independent; resampling units would give intervals that are too narrow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence

import numpy as np

logger = logging.getLogger(__name__)

CONFIDENCE = 0.95


def group_rows(groups: Sequence[Hashable]) -> list[np.ndarray]:
    """The row indices of each distinct group, groups in order of first appearance.

    Args:
        groups: the group (bulletin) of each row.

    Returns:
        One index array per group; resampling picks from this list.
    """
    rows: dict[Hashable, list[int]] = {}
    for index, group in enumerate(groups):
        rows.setdefault(group, []).append(index)
    return [np.array(indices, dtype=int) for indices in rows.values()]


def bootstrap_intervals(
    statistic: Callable[[np.ndarray], dict[str, float]],
    n_groups: int,
    n_resamples: int,
    seed: int,
    confidence: float = CONFIDENCE,
) -> dict[str, list[float]]:
    """Percentile intervals of every figure ``statistic`` returns, over resamples of the groups.

    Args:
        statistic: maps the resampled group indices (with repeats, ``n_groups`` of them) to named figures.
        n_groups: how many groups (bulletins) there are.
        n_resamples: how many resamples; 0 gives no intervals.
        seed: seeds the generator, so a report can be reproduced exactly.
        confidence: the interval's coverage.

    Returns:
        ``{figure: [low, high]}``; empty when there are no resamples or no groups.
    """
    if n_resamples < 0:
        raise ValueError(f"n_resamples must be >= 0, found {n_resamples}")
    if not n_resamples or not n_groups:
        return {}
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {}
    for _ in range(n_resamples):
        for name, value in statistic(rng.integers(0, n_groups, size=n_groups)).items():
            samples.setdefault(name, []).append(value)
    tail = (1.0 - confidence) / 2
    logger.debug("bootstrap: %d resamples of %d groups", n_resamples, n_groups)
    return {name: [float(np.quantile(v, tail)), float(np.quantile(v, 1.0 - tail))] for name, v in samples.items()}


def paired_win_rate(
    candidate: Callable[[np.ndarray], float],
    baseline: Callable[[np.ndarray], float],
    groups: Sequence[Hashable],
    n_resamples: int,
    seed: int,
) -> float:
    """The share of bulletin resamples on which ``candidate`` scores strictly above ``baseline`` (both scored on the
    same resample).

    Why: a setting tuned on a few dozen validation units often wins there by a unit or two and loses on the next
    bulletins; how often it still wins when other bulletins of the same kind are drawn tells a real gain from luck.

    Args:
        candidate: maps resampled row indices to a score.
        baseline: the same for the setting to keep unless the candidate is clearly better.
        groups: the group (bulletin) of each row.
        n_resamples: how many resamples (at least 1).
        seed: seeds the generator.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, found {n_resamples}")
    rows = group_rows(groups)
    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(n_resamples):
        picked = np.concatenate([rows[i] for i in rng.integers(0, len(rows), size=len(rows))])
        wins += candidate(picked) > baseline(picked)
    return wins / n_resamples
