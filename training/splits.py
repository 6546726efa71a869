"""Splits grouped by bulletin: no bulletin's cases end up on both sides, so scores are not inflated by leakage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from data.types import GoldCase


def grouped_split(cases: Sequence[GoldCase], fraction: float, seed: int) -> tuple[list[GoldCase], list[GoldCase]]:
    """Hold out about ``fraction`` of the bulletins (``doc``) as validation."""
    if fraction <= 0 or len({c.doc for c in cases}) < 2:
        return list(cases), []
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    train_idx, val_idx = next(splitter.split(np.zeros(len(cases)), groups=[c.doc for c in cases]))
    return [cases[i] for i in train_idx], [cases[i] for i in val_idx]


def grouped_folds(cases: Sequence[GoldCase], folds: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """``folds`` train/test index pairs, bulletins shuffled by ``seed`` and never split across a fold."""
    docs = sorted({c.doc for c in cases})
    if len(docs) < folds:
        raise ValueError(f"{folds} folds need at least {folds} bulletins, found {len(docs)}")
    rank = {doc: i for i, doc in enumerate(np.random.default_rng(seed).permutation(docs))}
    groups = [rank[c.doc] for c in cases]
    return [(list(a), list(b)) for a, b in GroupKFold(n_splits=folds).split(np.zeros(len(cases)), groups=groups)]
