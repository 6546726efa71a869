"""The project's metric definitions, used by training validation, ``penalty evaluate``, CV and benchmarks alike.

Figures come from the ``eval/case_metrics`` evaluate module (scikit-learn inside); this file only turns labelled
cases into the id arrays it takes and groups the results.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from data.labels import LabelSet
from data.types import GoldCase, Prediction

_METRIC_DIR = Path(__file__).with_name("case_metrics")


@dataclass(frozen=True)
class CaseLabels:
    """The labels of one case unit as scored: gold, or predicted (``None`` fields for a gold unit nobody found)."""

    offense: str | None
    penalties: frozenset[str]
    party: str | None
    fine_amounts: tuple[int, ...] = ()
    complete: bool = True


@lru_cache(maxsize=2)
def _metric(config: str):
    import evaluate

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return evaluate.load(str(_METRIC_DIR), config)


def single_label_scores(gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]) -> dict:
    """Accuracy, F1s, per-label figures and confusion matrix; a ``None`` prediction is wrong whatever the gold."""
    index = {label: i for i, label in enumerate(labels)}
    missing = len(labels)  # an id outside the label set: counted wrong, never a label of its own
    return _metric("single").compute(
        references=[index[g] for g in gold],
        predictions=[index.get(p, missing) if p is not None else missing for p in predicted],
        num_labels=len(labels),
    )


def multilabel_scores(gold: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]], labels: Sequence[str]) -> dict:
    """Micro/macro F1, subset exact match, Hamming loss and per-label figures for label sets."""
    if not gold:
        return {"micro_f1": 0.0, "macro_f1": 0.0, "weighted_f1": 0.0, "exact_match": 0.0, "hamming_loss": 0.0}

    def indicator(sets: Sequence[frozenset[str]]) -> list[list[int]]:
        return [[int(label in s) for label in labels] for s in sets]

    return _metric("multilabel").compute(references=indicator(gold), predictions=indicator(predicted), num_labels=len(labels))


def compute_metrics(gold: Sequence[CaseLabels], predicted: Sequence[CaseLabels], label_set: LabelSet) -> dict:
    """Every label metric of the harness for aligned gold/predicted cases.

    Penalties are scored on units whose ``complete`` is true (spec); a missed unit predicts no penalties.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"gold and predicted must align: {len(gold)} vs {len(predicted)} cases")
    offense = single_label_scores([g.offense for g in gold], [p.offense for p in predicted], label_set.offenses)
    complete = [i for i, g in enumerate(gold) if g.complete]
    penalties = multilabel_scores(
        [gold[i].penalties for i in complete], [predicted[i].penalties for i in complete], label_set.penalties
    )
    primary = [label_set.primary_penalty(g.penalties) for g in gold]
    primary_pred = [label_set.primary_penalty(p.penalties) if p.offense is not None else None for p in predicted]
    fully = [
        g.offense == p.offense and g.party == p.party and (not g.complete or g.penalties == p.penalties)
        for g, p in zip(gold, predicted, strict=True)
    ]
    return {
        "n_cases": len(gold),
        "offense_accuracy": offense["accuracy"],
        "offense_macro_f1": offense["macro_f1"],
        "offense_micro_f1": offense["micro_f1"],
        "offense_weighted_f1": offense["weighted_f1"],
        "penalty_micro_f1": penalties["micro_f1"],
        "penalty_macro_f1": penalties["macro_f1"],
        "penalty_exact_match": penalties["exact_match"],
        "penalty_hamming_loss": penalties["hamming_loss"],
        "primary_penalty_accuracy": float(np.mean([g == p for g, p in zip(primary, primary_pred, strict=True)])) if gold else 0.0,
        "fine_exact_match": float(
            np.mean([p.offense is not None and g.fine_amounts == p.fine_amounts for g, p in zip(gold, predicted, strict=True)])
        )
        if gold
        else 0.0,
        "party_accuracy": float(np.mean([g.party == p.party for g, p in zip(gold, predicted, strict=True)])) if gold else 0.0,
        "fully_correct": float(np.mean(fully)) if gold else 0.0,
        "offense_detail": offense,
        "penalty_detail": penalties,
    }


def gold_labels(case: GoldCase) -> CaseLabels:
    return CaseLabels(case.offense, frozenset(case.penalties), case.party, tuple(case.fine_amounts), case.complete)


def predicted_labels(prediction: Prediction | None) -> CaseLabels:
    """A missed unit (``None``) gets no labels at all, so it counts wrong in every label metric."""
    if prediction is None:
        return CaseLabels(None, frozenset(), None)
    return CaseLabels(prediction.offense, frozenset(prediction.penalties), prediction.party, prediction.evidence.fine_amounts)


def unit_metrics(gold: Sequence[GoldCase], predicted: Sequence[Prediction | None], label_set: LabelSet) -> dict:
    """``compute_metrics`` for gold cases and their predictions (``None`` = not found by the segmenter)."""
    return compute_metrics([gold_labels(g) for g in gold], [predicted_labels(p) for p in predicted], label_set)
