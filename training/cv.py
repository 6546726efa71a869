"""``penalty cv``: k-fold cross-validation grouped by bulletin, the only honest way to score models on data that is
also used for training (e.g. the real bulletins in ../shared/data/real).

Every fold trains a fresh model on the other folds' bulletins (optionally plus the configured training data, e.g. the
authored corpus) and is scored on its own bulletins; the rule baseline is scored on the same folds. Figures are
reported per fold and pooled over all out-of-fold predictions; the pooled figures add what one fold is too small
for (calibration error, the review flag's share and the accuracy of the units it leaves unflagged, per-label F1),
and every out-of-fold prediction is written to ``predictions.jsonl`` in the output directory for error analysis.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np

from data.formats import load_valid_cases
from data.labels import LabelSet
from data.types import GoldCase, Prediction
from eval.harness import calibration_and_review
from eval.metrics import HEADLINE_METRICS, encode_cases, unit_metrics
from models.predictor import Predictor
from training.config import RunConfig
from training.splits import grouped_folds
from training.train import train

logger = logging.getLogger(__name__)
HEADLINE = (*(k for k in HEADLINE_METRICS if k != "offense_ece"), "penalty_exact_match")


def cross_validate(
    config: RunConfig,
    data: list[str],
    folds: int = 5,
    include_rules: bool = True,
    output_dir: str = "runs/cv",
    add_train_data: bool = False,
) -> dict:
    """Grouped k-fold CV of the configured model type (and the rules) on ``data``.

    Args:
        config: training configuration; ``data.train`` is used only with ``add_train_data``.
        data: annotated files or directories whose bulletins are split into folds.
        folds: number of folds (bulletins never straddle two folds).
        include_rules: also score the rule baseline on the same folds.
        output_dir: fold models go to ``output_dir/fold-K``.
        add_train_data: train each fold on its training bulletins plus ``config.data.train``.

    Returns:
        ``{"folds": [...], "pooled": {model: metrics}, "per_label_f1": {model: {"offense"|"penalties": {label:
        f1}}}, "mean": {model: metrics}, "note": ...}``; out-of-fold predictions in ``output_dir/predictions.jsonl``.
    """
    label_set = LabelSet.load(config.data.label_set)
    cases = load_valid_cases(data, label_set)
    extra = load_valid_cases(config.data.train, label_set) if add_train_data else []
    predictions: dict[str, list[Prediction]] = {}
    ordered: list[GoldCase] = []
    folds_of: list[int] = []
    per_fold = []
    for fold, (train_idx, test_idx) in enumerate(grouped_folds(cases, folds, config.training.seed)):
        fold_config = dataclasses.replace(
            config, training=dataclasses.replace(config.training, output_dir=str(Path(output_dir) / f"fold-{fold}"))
        )
        test = [cases[i] for i in test_idx]
        # The fold's training bulletins play data.real: validation is drawn from them, never from the test fold.
        model_dir = train(fold_config, train_cases=extra, real_cases=[cases[i] for i in train_idx]).model_dir
        models = {config.model.model_type: Predictor.from_pretrained(model_dir)}
        if include_rules:
            models["rules"] = Predictor.from_pretrained("rules", label_set)
        scores = {}
        for name, predictor in models.items():
            fold_predictions = predictor.predict_units([c.text for c in test])
            predictions.setdefault(name, []).extend(fold_predictions)
            scores[name] = _headline(unit_metrics(test, fold_predictions, label_set))
        ordered.extend(test)
        folds_of.extend([fold] * len(test))
        per_fold.append({"fold": fold, "test_bulletins": len({c.doc for c in test}), "test_cases": len(test)} | scores)
        logger.info("fold %d: %s", fold, scores)
    pooled, per_label = {}, {}
    for name, preds in predictions.items():
        metrics = unit_metrics(ordered, preds, label_set)
        figures = calibration_and_review(preds, encode_cases(ordered, preds, label_set))
        pooled[name] = _headline(metrics) | {k: round(v, 4) for k, v in figures.items()}
        per_label[name] = _per_label_f1(metrics, label_set)
    _write_predictions(Path(output_dir) / "predictions.jsonl", ordered, folds_of, predictions)
    mean = {
        name: {k: round(float(np.mean([f[name][k] for f in per_fold])), 4) for k in HEADLINE} for name in predictions
    }
    note = (
        f"{folds}-fold cross-validation grouped by bulletin on {', '.join(data)} ({len(cases)} units, "
        f"{len({c.doc for c in cases})} bulletins); each fold's model never saw its test bulletins"
        + (f"; training folds plus {', '.join(config.data.train)}" if add_train_data else "")
    )
    return {"note": note, "folds": per_fold, "pooled": pooled, "per_label_f1": per_label, "mean": mean}


def _headline(metrics: dict) -> dict:
    return {k: round(metrics[k], 4) for k in HEADLINE}


def _per_label_f1(metrics: dict, label_set: LabelSet) -> dict:
    """F1 of every offense and penalty label that occurs in the gold units (penalties: complete units only)."""
    tasks = {"offense": (label_set.offenses, "offense_detail"), "penalties": (label_set.penalties, "penalty_detail")}
    result = {}
    for task, (labels, key) in tasks.items():
        figures = metrics[key]["per_label"]
        result[task] = {
            label: round(f1, 4)
            for label, f1, support in zip(labels, figures["f1"], figures["support"], strict=True)
            if support
        }
    return result


def _write_predictions(
    path: Path, gold: list[GoldCase], folds: list[int], predictions: dict[str, list[Prediction]]
) -> None:
    """One line per out-of-fold unit: its fold, the gold record and each model's prediction."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row, (case, fold) in enumerate(zip(gold, folds, strict=True)):
            record = {
                "fold": fold,
                "gold": case.to_dict(),
                "predicted": {name: preds[row].to_dict() for name, preds in predictions.items()},
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
