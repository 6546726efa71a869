"""The project's metric definitions, used by training validation, ``penalty evaluate``, CV and benchmarks alike.

Figures come from the ``eval/case_metrics`` evaluate module (scikit-learn inside); this file turns labelled cases into
the id arrays it takes and groups the results. The headline figures, recomputed for every bootstrap resample and in
fusion tuning, come from scikit-learn's confusion counts (``CaseCounts``), checked against the module in the tests.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import multilabel_confusion_matrix

from data.labels import LabelSet
from data.types import GoldCase, Prediction

_METRIC_DIR = Path(__file__).with_name("case_metrics")
# The comparison table's figures: each gets a bootstrap interval, so ``headline_metrics`` recomputes them per resample.
HEADLINE_METRICS = (
    "offense_accuracy",
    "offense_macro_f1",
    "penalty_micro_f1",
    "penalty_macro_f1",
    "primary_penalty_accuracy",
    "fine_exact_match",
    "party_accuracy",
    "fully_correct",
    "offense_ece",
)
CALIBRATION_BINS = 10


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


def present_macro_f1(per_label_f1: np.ndarray, present: np.ndarray) -> float:
    """The project's one macro-F1: the mean F1 of the labels present in gold or predictions, 0.0 when none is.

    Why not every label of the set: a label neither annotated nor predicted in a sample says nothing about the model,
    and averaging it in as 0 would tie the figure to the size of the label set (16 offenses) instead of the data.
    Training validation, fusion tuning, ``penalty evaluate``, CV and the bootstrap all come here.
    """
    return float(per_label_f1[present].mean()) if present.any() else 0.0


def offense_macro_f1(gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]) -> float:
    """Offense macro-F1 (``present_macro_f1``) of label names; a ``None`` prediction is wrong whatever the gold."""
    gold_ids, predicted_ids = _label_ids(gold, predicted, labels)
    return _offense_macro_f1(np.array(gold_ids), np.array(predicted_ids), len(labels))


def _offense_macro_f1(gold: np.ndarray, predicted: np.ndarray, n_labels: int) -> float:
    return _macro_f1(_offense_counts(gold, predicted, n_labels))


def _offense_counts(gold: np.ndarray, predicted: np.ndarray, n_labels: int) -> np.ndarray:
    """(tp, fp, fn) per offense label id; a prediction id outside ``range(n_labels)`` (a missed unit) is only wrong."""
    if not len(gold):
        return np.zeros((n_labels, 3), dtype=int)
    # The arrays are ints built here or by encode_cases: re-validating them on every resample cost a quarter of it.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return _tp_fp_fn(multilabel_confusion_matrix(gold, predicted, labels=np.arange(n_labels)))


def _label_ids(
    gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]
) -> tuple[list[int], list[int]]:
    index = {label: i for i, label in enumerate(labels)}
    missing = len(labels)  # an id outside the label set: counted wrong, never a label of its own
    return [index[g] for g in gold], [index.get(p, missing) if p is not None else missing for p in predicted]


def single_label_scores(gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]) -> dict:
    """Accuracy, F1s, per-label figures and confusion matrix; a ``None`` prediction is wrong whatever the gold."""
    references, predictions = _label_ids(gold, predicted, labels)
    scores = _metric("single").compute(references=references, predictions=predictions, num_labels=len(labels))
    present = np.isin(np.arange(len(labels)), references + predictions)
    return scores | {"macro_f1": present_macro_f1(np.array(scores["per_label"]["f1"]), present)}


def multilabel_scores(
    gold: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]], labels: Sequence[str]
) -> dict:
    """Micro/macro F1, subset exact match, Hamming loss and per-label figures for label sets."""
    if not gold:
        return {"micro_f1": 0.0, "macro_f1": 0.0, "weighted_f1": 0.0, "exact_match": 0.0, "hamming_loss": 0.0}

    def indicator(sets: Sequence[frozenset[str]]) -> list[list[int]]:
        return [[int(label in s) for label in labels] for s in sets]

    references, predictions = indicator(gold), indicator(predicted)
    scores = _metric("multilabel").compute(references=references, predictions=predictions, num_labels=len(labels))
    present = (np.sum(references, axis=0) + np.sum(predictions, axis=0)) > 0
    return scores | {"macro_f1": present_macro_f1(np.array(scores["per_label"]["f1"]), present)}


def _case_correctness(gold: Sequence[CaseLabels], predicted: Sequence[CaseLabels], label_set: LabelSet) -> dict:
    """Per-case right/wrong for the figures that are plain shares of cases.

    The primary penalty is derived (spec), so a missed unit has none and is wrong; fines must match in text order;
    a fully correct unit has every field right, penalties only where the unit is complete.
    """
    pairs = list(zip(gold, predicted, strict=True))
    return {
        "primary_penalty_accuracy": np.array(
            [
                p.offense is not None
                and label_set.primary_penalty(g.penalties) == label_set.primary_penalty(p.penalties)
                for g, p in pairs
            ],
            dtype=bool,
        ),
        "fine_exact_match": np.array(
            [p.offense is not None and g.fine_amounts == p.fine_amounts for g, p in pairs], dtype=bool
        ),
        "party_accuracy": np.array([g.party == p.party for g, p in pairs], dtype=bool),
        "fully_correct": np.array(
            [
                g.offense == p.offense and g.party == p.party and (not g.complete or g.penalties == p.penalties)
                for g, p in pairs
            ],
            dtype=bool,
        ),
    }


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
    shares = {
        name: float(np.mean(correct)) if gold else 0.0
        for name, correct in _case_correctness(gold, predicted, label_set).items()
    }
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
        **shares,
        "offense_detail": offense,
        "penalty_detail": penalties,
    }


def gold_labels(case: GoldCase) -> CaseLabels:
    return CaseLabels(case.offense, frozenset(case.penalties), case.party, tuple(case.fine_amounts), case.complete)


def predicted_labels(prediction: Prediction | None) -> CaseLabels:
    """A missed unit (``None``) gets no labels at all, so it counts wrong in every label metric."""
    if prediction is None:
        return CaseLabels(None, frozenset(), None)
    return CaseLabels(
        prediction.offense, frozenset(prediction.penalties), prediction.party, prediction.evidence.fine_amounts
    )


def unit_metrics(gold: Sequence[GoldCase], predicted: Sequence[Prediction | None], label_set: LabelSet) -> dict:
    """``compute_metrics`` for gold cases and their predictions (``None`` = not found by the segmenter)."""
    return compute_metrics([gold_labels(g) for g in gold], [predicted_labels(p) for p in predicted], label_set)


@dataclass(frozen=True)
class CaseArrays:
    """Aligned gold and predicted labels as arrays, so that a bootstrap resample is a row index, not a re-encoding."""

    offense_gold: np.ndarray  # label ids
    offense_predicted: np.ndarray  # label ids; len(offenses) for a missed unit, which no gold id equals
    offense_confidence: np.ndarray  # the predicted offense's score; NaN for a missed unit
    penalties_gold: np.ndarray  # 0/1, one column per penalty label
    penalties_predicted: np.ndarray
    complete: np.ndarray  # penalties are scored on complete units only (spec)
    correct: dict[str, np.ndarray]  # per-case right/wrong of the share figures, from ``_case_correctness``
    n_offenses: int

    def take(self, rows: np.ndarray) -> CaseArrays:
        """The cases at ``rows`` (repeats allowed: a bootstrap resample)."""
        return CaseArrays(
            self.offense_gold[rows],
            self.offense_predicted[rows],
            self.offense_confidence[rows],
            self.penalties_gold[rows],
            self.penalties_predicted[rows],
            self.complete[rows],
            {name: correct[rows] for name, correct in self.correct.items()},
            self.n_offenses,
        )


def encode_cases(gold: Sequence[GoldCase], predicted: Sequence[Prediction | None], label_set: LabelSet) -> CaseArrays:
    """Encode gold cases and their predictions (``None`` = not found) for ``headline_metrics``."""
    gold_cases = [gold_labels(g) for g in gold]
    predicted_cases = [predicted_labels(p) for p in predicted]
    offense_id = {label: i for i, label in enumerate(label_set.offenses)}
    missing = len(label_set.offenses)

    def indicator(cases: Sequence[CaseLabels]) -> np.ndarray:
        return np.array([[label in c.penalties for label in label_set.penalties] for c in cases], dtype=int).reshape(
            len(cases), len(label_set.penalties)
        )

    return CaseArrays(
        offense_gold=np.array([offense_id[g.offense] for g in gold_cases], dtype=int),
        offense_predicted=np.array([offense_id.get(p.offense, missing) for p in predicted_cases], dtype=int),
        offense_confidence=np.array([np.nan if p is None else p.offense_score for p in predicted], dtype=float),
        penalties_gold=indicator(gold_cases),
        penalties_predicted=indicator(predicted_cases),
        complete=np.array([g.complete for g in gold_cases], dtype=bool),
        correct=_case_correctness(gold_cases, predicted_cases, label_set),
        n_offenses=missing,
    )


def headline_metrics(cases: CaseArrays) -> dict[str, float]:
    """The ``HEADLINE_METRICS`` of some cases (definitions of ``compute_metrics``; macro-F1: ``present_macro_f1``);
    ``tests/test_harness.py`` checks that both give the same figures."""
    return CaseCounts.of(cases).figures()


@dataclass(frozen=True)
class CaseCounts:
    """Every headline figure as a function of sums over cases: confusion counts, bin sums, right/wrong totals.

    Why: the counts of a bootstrap resample are the counts of its bulletins added up (a bulletin drawn twice counts
    twice), so a thousand resamples cost a thousand weighted sums of per-bulletin counts instead of a thousand
    scikit-learn passes over the resampled units (whose input checks alone took a minute of ``make demo``).
    """

    n: np.ndarray  # cases
    offense: np.ndarray  # (offense labels, 3): tp, fp, fn
    penalties: np.ndarray  # (penalty labels, 3): tp, fp, fn over the complete units
    correct: dict[str, np.ndarray]  # right answers per share figure
    calibration: np.ndarray  # (bins, 3) over the found units: count, confidence sum, right answers

    @classmethod
    def of(cls, cases: CaseArrays) -> CaseCounts:
        """The counts of some cases; the confusion matrices come from scikit-learn."""
        complete_gold = cases.penalties_gold[cases.complete]
        penalties = np.zeros((cases.penalties_gold.shape[1], 3), dtype=int)
        if len(complete_gold):
            with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
                confusion = multilabel_confusion_matrix(complete_gold, cases.penalties_predicted[cases.complete])
            penalties = _tp_fp_fn(confusion)
        found = ~np.isnan(cases.offense_confidence)
        right = (cases.offense_gold == cases.offense_predicted)[found]
        return cls(
            n=np.array(len(cases.offense_gold)),
            offense=_offense_counts(cases.offense_gold, cases.offense_predicted, cases.n_offenses),
            penalties=penalties,
            correct={name: np.array(values.sum()) for name, values in cases.correct.items()},
            calibration=np.stack(_bin_sums(cases.offense_confidence[found], right), axis=1),
        )

    @classmethod
    def stack(cls, parts: Sequence[CaseCounts]) -> CaseCounts:
        """The parts' counts along a new first axis, once, so that each resample is one ``weighted_sum``."""
        return cls(
            n=np.stack([part.n for part in parts]),
            offense=np.stack([part.offense for part in parts]),
            penalties=np.stack([part.penalties for part in parts]),
            correct={name: np.stack([part.correct[name] for part in parts]) for name in parts[0].correct},
            calibration=np.stack([part.calibration for part in parts]),
        )

    def weighted_sum(self, weights: np.ndarray) -> CaseCounts:
        """Of ``stack``ed counts: ``sum(weights[i] * part i)``, a resample that drew part i ``weights[i]`` times."""

        def total(counts: np.ndarray) -> np.ndarray:
            return np.tensordot(weights, counts, axes=1)

        return CaseCounts(
            n=total(self.n),
            offense=total(self.offense),
            penalties=total(self.penalties),
            correct={name: total(counts) for name, counts in self.correct.items()},
            calibration=total(self.calibration),
        )

    def figures(self) -> dict[str, float]:
        """The ``HEADLINE_METRICS``; all 0.0 for no cases, like every figure of an empty sample."""
        if not self.n:
            return dict.fromkeys(HEADLINE_METRICS, 0.0)
        found = self.calibration[:, 0].sum()
        return {
            "offense_accuracy": float(self.offense[:, 0].sum() / self.n),
            "offense_macro_f1": _macro_f1(self.offense),
            "penalty_micro_f1": float(_f1(self.penalties.sum(axis=0, keepdims=True))[0]),
            "penalty_macro_f1": _macro_f1(self.penalties),
            **{name: float(right / self.n) for name, right in self.correct.items()},
            # ECE = sum over bins of count * |accuracy - confidence| / found = |right - confidence sum| / found
            "offense_ece": float(np.abs(self.calibration[:, 2] - self.calibration[:, 1]).sum() / found)
            if found
            else 0.0,
        }


def _tp_fp_fn(confusion: np.ndarray) -> np.ndarray:
    """scikit-learn's per-label ``[[tn, fp], [fn, tp]]`` → rows of (tp, fp, fn)."""
    return np.stack([confusion[:, 1, 1], confusion[:, 0, 1], confusion[:, 1, 0]], axis=1)


def _macro_f1(counts: np.ndarray) -> float:
    """``present_macro_f1`` of rows of (tp, fp, fn): a label is present when it has gold or predictions."""
    return present_macro_f1(_f1(counts), counts.sum(axis=1) > 0)


def _f1(counts: np.ndarray) -> np.ndarray:
    """F1 per row of (tp, fp, fn): 2tp / (2tp + fp + fn), 0.0 where a label has no gold and no prediction."""
    tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros(len(counts)), where=denominator > 0)


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = CALIBRATION_BINS) -> list[dict]:
    """Equal-width confidence bins ``(lower, upper]`` (the first also takes 0): count, mean confidence, accuracy.

    Args:
        confidence: the score of each predicted label, in [0, 1].
        correct: whether each predicted label is right.
        n_bins: number of bins over [0, 1].

    Returns:
        One dict per bin: ``lower``, ``upper``, ``count``, ``confidence`` and ``accuracy`` (both 0.0 when empty).
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts, confidence_sum, correct_sum = _bin_sums(confidence, correct, n_bins)
    filled = np.maximum(counts, 1)
    return [
        {
            "lower": float(edges[i]),
            "upper": float(edges[i + 1]),
            "count": int(counts[i]),
            "confidence": float(confidence_sum[i] / filled[i]),
            "accuracy": float(correct_sum[i] / filled[i]),
        }
        for i in range(n_bins)
    ]


def _bin_sums(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = CALIBRATION_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width bin ``(lower, upper]`` (the first also takes 0): count, confidence sum, right answers."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    return (
        np.bincount(index, minlength=n_bins).astype(float),
        np.bincount(index, weights=confidence, minlength=n_bins),
        np.bincount(index, weights=np.asarray(correct, dtype=float), minlength=n_bins),
    )
