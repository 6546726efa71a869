"""``penalty cv --task segment``: the learned segmenter and the rules on the same bulletin-grouped folds.

Why this exists: the rule segmenter was written while reading real bulletins, so only folds it never saw, scored
beside a tagger trained without them, say which segmenter to make the default. Every fold trains a fresh tagger on
the configured training data (authored corpus, rendered layouts) plus the other folds' real bulletins, with early
stopping on a grouped share of those, and scores both segmenters on its own bulletins; figures are pooled over all
folds (micro-averaged, as ``eval.segmentation`` does) and given per fold. Every test bulletin's gold and found spans
go to ``predictions.jsonl`` in the output directory for error analysis.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from data.labels import LabelSet
from data.segment import segment_bulletin
from eval.segmentation import segmentation_scores
from models.segmenter import TokenVectors
from training.config import RunConfig
from training.splits import grouped_folds
from training.train_segmenter import (
    Example,
    annotated_sources,
    encode_examples,
    fit_ensemble,
    layout_sources,
    predicted_spans,
    span_rows,
    split_examples,
)

logger = logging.getLogger(__name__)


def cross_validate_segmenter(config: RunConfig, data: list[str], folds: int, output_dir: str) -> dict:
    """Grouped k-fold CV of the learned segmenter against the rules on the annotated directories ``data``."""
    label_set = LabelSet.load(config.data.label_set)
    options = config.segmenter
    vectors = TokenVectors(config.model.base_model)
    weight = float(config.data.real_oversample)
    real = encode_examples(annotated_sources(data, label_set, real=True), vectors, weight)
    base_sources = annotated_sources(config.data.train, label_set)
    base = encode_examples(base_sources + layout_sources(options.layout_pages, config.training.seed), vectors, 1.0)
    pooled: dict[str, list] = {"learned": [], "rules": []}
    per_fold, records = [], []
    for fold, (train_index, test_index) in enumerate(grouped_folds(real, folds, config.training.seed), start=1):
        test = [real[i] for i in test_index]
        train, validation = split_examples(
            base + [real[i] for i in train_index], config.data.real_validation_fraction, config.training.seed
        )
        segmenter, _ = fit_ensemble(config, vectors, train, validation, Path(output_dir) / f"fold-{fold}")
        spans = {"learned": predicted_spans(segmenter.tagger, test), "rules": _rules(test)}
        results = {name: span_rows(found, test) for name, found in spans.items()}
        records += [
            {"fold": fold, "name": e.name, "gold": e.gold} | {name: found[i] for name, found in spans.items()}
            for i, e in enumerate(test)
        ]
        for name, rows in results.items():
            pooled[name].extend(rows)
        per_fold.append({"fold": fold, "bulletins": len(test)} | {n: _rounded(r) for n, r in results.items()})
        logger.info("segmenter CV fold %d: %s", fold, per_fold[-1])
    with (Path(output_dir) / "predictions.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return {"folds": per_fold, "pooled": {name: _rounded(rows) for name, rows in pooled.items()}, "data": data}


def _rules(test: list[Example]) -> list[list[tuple[int, int]]]:
    return [[(u.start, u.end) for u in segment_bulletin(e.text, e.name, e.body_start)] for e in test]


def _rounded(rows: list) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in segmentation_scores(rows).items()}
