"""Score several predictors on the same gold data, end to end and at unit level, with bootstrap intervals.

End-to-end mode gives each predictor the annotated bulletins to segment and label; a predicted unit is matched to a
gold unit at IoU >= 0.5 and a gold unit left unmatched counts wrong in every label metric. Unit-level mode labels the
gold unit texts directly, so it measures labelling alone. Metric definitions live in ``eval.metrics``; this module
only aligns predictions with gold, resamples bulletins and assembles the result the reports are written from.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from data.annotated import AnnotatedBulletin
from data.errors import ModelError, PenaltyError
from data.labels import DEFAULT_LANG, KINDS, LabelSet
from data.reader import Bulletin
from data.types import GoldCase, Prediction
from data.versions import library_versions
from eval.bootstrap import CONFIDENCE, bootstrap_intervals, group_rows
from eval.evalset import EvalSet, load_eval_set
from eval.metrics import CaseArrays, CaseCounts, encode_cases, headline_metrics, reliability_bins, unit_metrics
from eval.report import comparison_tables
from eval.report_files import write_reports
from eval.segmentation import match_spans, segmentation_scores
from eval.slices import SLICE_FIGURES, case_slices

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 80
_SEGMENTATION_FIGURES = ("precision", "recall", "f1")


class PredictorLike(Protocol):
    """What the harness needs of a model; ``models.predictor.Predictor`` is one (eval/ must not import models/).

    A ``model_type`` attribute, on the object or on its ``labeler``, is reported when present.
    """

    name: str
    label_set: LabelSet

    def predict_bulletins(self, bulletins: list[Bulletin]) -> list[list[Prediction]]: ...

    def predict_units(self, texts: list[str]) -> list[Prediction]: ...


@dataclass(frozen=True)
class _ModeGold:
    """The gold side of one mode: cases, the rows of each resampling group (bulletin) and each case's slices."""

    cases: list[GoldCase]
    rows: list[np.ndarray]
    slices: list[dict[str, str | None]]


def check_label_set(name: str, predictor: PredictorLike, label_set: LabelSet) -> None:
    """Refuse a predictor whose labels differ from the data's: its scores would compare different label sets.

    Raises:
        ModelError: the label-set fingerprints differ.
    """
    if predictor.label_set.fingerprint != label_set.fingerprint:
        raise ModelError(
            f"model {name!r} uses label set {predictor.label_set.name!r} (fingerprint "
            f"{predictor.label_set.fingerprint}), but the data is scored with {label_set.name!r} (fingerprint "
            f"{label_set.fingerprint}); evaluate with --label-set set to the model's labels.yaml, "
            "or retrain the model on this label set"
        )


def model_identity(name: str, predictor: PredictorLike) -> dict:
    """Name, model type and label-set fingerprint: what a report needs to say which model it scored."""
    model_type = getattr(predictor, "model_type", None) or getattr(
        getattr(predictor, "labeler", None), "model_type", None
    )
    return {
        "name": name,
        "predictor": predictor.name,
        "model_type": model_type or "unknown",
        "label_set": predictor.label_set.name,
        "label_set_fingerprint": predictor.label_set.fingerprint,
    }


def evaluate_predictors(
    predictors: dict[str, PredictorLike],
    data: list[str],
    label_set: LabelSet,
    report_dir: Path | None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    lang: str = DEFAULT_LANG,
) -> dict:
    """Score every predictor on the same gold data and, with ``report_dir``, write the reports.

    Args:
        predictors: display name → predictor; every one must use ``label_set``.
        data: ``--data`` specs (annotated directories give both modes, annotation files unit level only).
        label_set: the label set the gold data is read with.
        report_dir: where ``metrics.json``, ``report.md`` and ``report.html`` go; ``None`` writes nothing.
        n_bootstrap: bulletin resamples per interval; 0 gives point estimates only.
        seed: the bootstrap seed.
        lang: the language of the label names the reports show (``LabelSet.display``); ``metrics.json`` keeps the
            identifiers everywhere and lists the names under ``label_set.names``.

    Returns:
        ``{"data", "label_set", "bootstrap", "versions", "models": {name: {"identity", "end_to_end", "unit"}},
        "table"}``; each mode holds ``metrics``, ``ci``, ``slices``, ``calibration`` and ``errors``, and is absent
        when the data cannot feed it.

    Raises:
        ModelError: a predictor uses another label set.
        PenaltyError: the data cannot be read, or ``n_bootstrap`` is negative.
    """
    if n_bootstrap < 0:
        raise PenaltyError(f"the number of bootstrap resamples must be 0 (no intervals) or more, found {n_bootstrap}")
    for name, predictor in predictors.items():
        check_label_set(name, predictor, label_set)
    evalset = load_eval_set(data, label_set)
    golds = _mode_golds(evalset)
    result = {
        "data": _describe_data(evalset, golds),
        "label_set": {
            "name": label_set.name,
            "fingerprint": label_set.fingerprint,
            "offenses": list(label_set.offenses),
            "penalties": list(label_set.penalties),
            "parties": list(label_set.parties),
            "names": _label_names(label_set, lang),
        },
        "bootstrap": {"resamples": n_bootstrap, "seed": seed, "confidence": CONFIDENCE, "resampled": "bulletins"},
        "versions": library_versions(),
        "models": {},
    }
    for name, predictor in predictors.items():
        logger.info(
            "evaluating %s on %d bulletin(s), %d gold unit(s)", name, len(evalset.bulletins), len(evalset.cases)
        )
        entry: dict = {"identity": model_identity(name, predictor)}
        if "end_to_end" in golds:
            aligned, segmentation, spurious = _predict_end_to_end(predictor, evalset.bulletins)
            entry["end_to_end"] = _score(golds["end_to_end"], aligned, label_set, n_bootstrap, seed, segmentation)
            entry["end_to_end"]["errors"] += [_error_row(None, p) for p in spurious]
        if "unit" in golds:
            aligned = predictor.predict_units([case.text for case in golds["unit"].cases])
            entry["unit"] = _score(golds["unit"], aligned, label_set, n_bootstrap, seed)
        result["models"][name] = entry
    result["table"] = comparison_tables(result)
    if report_dir is not None:
        write_reports(result, Path(report_dir))
    return result


def _label_names(label_set: LabelSet, lang: str) -> dict:
    """``{"lang", "offense": {label: name}, "penalty": …, "party": …}``: the names the reports draw from the result
    alone (so a report can be re-rendered from ``metrics.json``)."""
    labels = dict(zip(KINDS, (label_set.offenses, label_set.penalties, label_set.parties), strict=True))
    return {"lang": lang} | {kind: {x: label_set.display(kind, x, lang) for x in labels[kind]} for kind in KINDS}


def _mode_golds(evalset: EvalSet) -> dict[str, _ModeGold]:
    slices = [case_slices(case, issuer) for case, issuer in zip(evalset.cases, evalset.issuers, strict=True)]
    golds = {}
    if evalset.bulletins:
        # Built per bulletin, not from group labels: a bulletin without gold units still counts for segmentation.
        bounds = np.cumsum([0] + [len(annotated.cases) for annotated in evalset.bulletins])
        n_cases = int(bounds[-1])  # EvalSet lists the bulletins' cases first
        rows = [np.arange(start, end) for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
        golds["end_to_end"] = _ModeGold(evalset.cases[:n_cases], rows, slices[:n_cases])
    if evalset.cases:
        golds["unit"] = _ModeGold(evalset.cases, group_rows(evalset.groups), slices)
    return golds


def _describe_data(evalset: EvalSet, golds: dict[str, _ModeGold]) -> dict:
    return {
        "specs": list(evalset.specs),
        **evalset.checksums(),
        "n_bulletins": {mode: len(gold.rows) for mode, gold in golds.items()},
        "n_units": {mode: len(gold.cases) for mode, gold in golds.items()},
        "problems": evalset.problems,
    }


def _predict_end_to_end(
    predictor: PredictorLike, bulletins: list[AnnotatedBulletin]
) -> tuple[list[Prediction | None], list[tuple[int, int, list[tuple[int, int]]]], list[Prediction]]:
    """Segment and label each bulletin; return the prediction matched to each gold unit, per-bulletin match counts
    and the predicted units that match no gold unit."""
    predicted = predictor.predict_bulletins([annotated.bulletin for annotated in bulletins])
    aligned: list[Prediction | None] = []
    segmentation = []
    spurious: list[Prediction] = []
    for annotated, units in zip(bulletins, predicted, strict=True):
        pairs = match_spans([(p.unit.start, p.unit.end) for p in units], annotated.spans)
        by_gold = {g: p for p, g in pairs}
        aligned.extend(units[by_gold[g]] if g in by_gold else None for g in range(len(annotated.cases)))
        matched = {p for p, _ in pairs}
        spurious.extend(unit for index, unit in enumerate(units) if index not in matched)
        segmentation.append((len(units), len(annotated.spans), pairs))
    return aligned, segmentation, spurious


def _score(
    gold: _ModeGold,
    aligned: Sequence[Prediction | None],
    label_set: LabelSet,
    n_bootstrap: int,
    seed: int,
    segmentation: list[tuple[int, int, list[tuple[int, int]]]] | None = None,
) -> dict:
    """Metrics, intervals, slices, calibration and error rows of one model in one mode."""
    if len(aligned) != len(gold.cases):
        raise ValueError(f"predictor returned {len(aligned)} predictions for {len(gold.cases)} case units")
    metrics = unit_metrics(gold.cases, aligned, label_set)
    arrays = encode_cases(gold.cases, aligned, label_set)
    metrics |= calibration_and_review(aligned, arrays)
    bulletin_counts = CaseCounts.stack([CaseCounts.of(arrays.take(rows)) for rows in gold.rows])

    def statistic(chosen: np.ndarray) -> dict[str, float]:
        figures = bulletin_counts.weighted_sum(np.bincount(chosen, minlength=len(gold.rows))).figures()
        if segmentation is not None:
            scores = segmentation_scores(segmentation[g] for g in chosen)
            figures |= {f"segmentation_{k}": scores[k] for k in _SEGMENTATION_FIGURES}
        return figures

    scored: dict = {"n_bulletins": len(gold.rows), "n_units": len(gold.cases)}
    if segmentation is not None:
        scored["segmentation"] = segmentation_scores(segmentation)
        metrics |= {f"segmentation_{k}": scored["segmentation"][k] for k in _SEGMENTATION_FIGURES}
    found = ~np.isnan(arrays.offense_confidence)
    correct = arrays.offense_gold == arrays.offense_predicted
    return scored | {
        "metrics": metrics,
        "ci": bootstrap_intervals(statistic, len(gold.rows), n_bootstrap, seed),
        "slices": _slice_figures(arrays, gold.slices),
        "calibration": {
            "ece": metrics["offense_ece"],
            "n": int(found.sum()),
            "bins": reliability_bins(arrays.offense_confidence[found], correct[found]),
        },
        "errors": [_error_row(g, p) for g, p in zip(gold.cases, aligned, strict=True) if _wrong_fields(g, p)],
    }


def calibration_and_review(aligned: Sequence[Prediction | None], arrays: CaseArrays) -> dict[str, float]:
    """Offense ECE and the ``review_figures`` of predictions aligned with their gold units (``None``: missed), so
    that ``penalty evaluate`` and ``penalty cv`` report them by one definition."""
    found = ~np.isnan(arrays.offense_confidence)
    flagged = np.array([p is not None and p.needs_review for p in aligned], dtype=bool)
    return {"offense_ece": headline_metrics(arrays)["offense_ece"]} | review_figures(flagged, found, arrays)


def review_figures(flagged: np.ndarray, found: np.ndarray, arrays: CaseArrays) -> dict[str, float]:
    """What the ``needs_review`` flag buys: the share of found units it flags, and how often the units it leaves
    unflagged are right (offense; fully correct). A unit the segmenter missed is neither flagged nor scored here.
    """
    kept = found & ~flagged
    right = arrays.offense_gold == arrays.offense_predicted

    def share(values: np.ndarray, rows: np.ndarray) -> float:
        return float(values[rows].mean()) if rows.any() else 0.0

    return {
        "flagged_share": share(flagged, found),
        "unflagged_offense_accuracy": share(right, kept),
        "unflagged_fully_correct": share(arrays.correct["fully_correct"], kept),
    }


def _slice_figures(arrays: CaseArrays, slices: list[dict[str, str | None]]) -> dict:
    """Per slice family and value: ``n`` and the ``SLICE_FIGURES``; unknown values (``None``) are skipped."""
    out: dict[str, dict] = {}
    families = slices[0].keys() if slices else ()
    for family in families:
        values = np.array([s[family] if s[family] is not None else "" for s in slices], dtype=object)
        for value in sorted({v for v in values if v}):
            rows = np.flatnonzero(values == value)
            figures = headline_metrics(arrays.take(rows))
            out.setdefault(family, {})[value] = {"n": len(rows)} | {k: figures[k] for k in SLICE_FIGURES}
    return out


def _wrong_fields(gold: GoldCase, predicted: Prediction | None) -> list[str]:
    """The fields a prediction gets wrong; a missed unit gets all of them wrong."""
    if predicted is None:
        return ["missed"]
    wrong = []
    if predicted.offense != gold.offense:
        wrong.append("offense")
    if gold.complete and set(predicted.penalties) != set(gold.penalties):  # penalties are scored on complete units
        wrong.append("penalties")
    if predicted.evidence.fine_amounts != gold.fine_amounts:
        wrong.append("fine_amounts")
    if predicted.party != gold.party:
        wrong.append("party")
    return wrong


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS] + "…"


def _error_row(gold: GoldCase | None, predicted: Prediction | None) -> dict:
    """One row of the error table: a wrong or missed gold unit, or (``gold`` None) a predicted unit that is no case."""
    text = gold.text if gold is not None else predicted.unit.text
    row: dict = {
        "doc": gold.doc if gold is not None else predicted.unit.source,
        "excerpt": _excerpt(text),
        "wrong": _wrong_fields(gold, predicted) if gold is not None else ["not a gold unit"],
        "gold": None,
        "predicted": None,
    }
    if gold is not None:
        row["gold"] = {
            "offense": gold.offense,
            "penalties": list(gold.penalties),
            "fine_amounts": list(gold.fine_amounts),
            "party": gold.party,
            "complete": gold.complete,
        }
    if predicted is not None:
        row["predicted"] = {
            "offense": predicted.offense,
            "offense_score": round(float(predicted.offense_score), 4),
            "penalties": {p: _score_of(predicted.penalty_scores, p) for p in predicted.penalties},
            "fine_amounts": list(predicted.evidence.fine_amounts),
            "party": predicted.party,
            "party_score": round(float(predicted.party_score), 4),
            "statutes": list(predicted.evidence.statutes),
        }
    return row


def _score_of(scores: dict[str, float], label: str) -> float | None:
    return round(float(scores[label]), 4) if label in scores else None
