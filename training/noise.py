"""Whether a setting tuned on validation beats its default by more than the luck of which bulletins were drawn."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np

from eval.bootstrap import paired_win_rate

RESAMPLES = 200
MIN_WIN_RATE = 0.9  # fixed before any measurement: the tuned setting must win on nine resamples in ten


def clearly_better(
    candidate: Callable[[np.ndarray], float],
    default: Callable[[np.ndarray], float],
    groups: Sequence[Hashable],
    seed: int,
) -> bool:
    """True when ``candidate`` scores above ``default`` on at least ``MIN_WIN_RATE`` of bulletin resamples.

    Why: validation in a real-data run is a few dozen units from some twenty bulletins; the best of a grid of settings
    there often wins by one unit and loses on the next bulletins (grouped CV on real units showed it for the rule
    fusion's penalty weight and for penalty thresholds), so a tuned setting replaces its default only when the win
    holds across resamples.

    Args:
        candidate: the tuned setting's score on the selected validation rows (row indices, repeats allowed).
        default: the same for the default setting.
        groups: the bulletin of each validation row.
        seed: seeds the resampling.
    """
    return paired_win_rate(candidate, default, groups, RESAMPLES, seed) >= MIN_WIN_RATE
