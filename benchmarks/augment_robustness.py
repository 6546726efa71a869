"""Does training-time augmentation (``data.augment``) help? Grouped CV, scored on clean and on perturbed test folds.

Usage: ``python benchmarks/augment_robustness.py [--data ../shared/data/real-train] [--folds 5] [--augment 0
--augment 0.5] [--output-dir runs/augment-cv] [--section.key value ...]`` (overrides as in ``penalty cv``; the
defaults add ``--model.model_type tfidf --model.rule_fusion false``, the cheap labeler: ~25 s a fold on 2 cores).

For each ``--augment`` value this runs exactly ``penalty cv --folds N --data DATA --add-train-data
--data.augment VALUE`` (``training.cv.cross_validate``: each fold trains on the other folds' bulletins plus
``data.train``, the augmentation applied to training units only), then reloads each fold's model and scores it at
unit level on perturbed copies of its own test units, one copy per unit and perturbation kind (``data.augment``'s
kinds; copies seeded by unit, so every model reads the same copies). Cut-off copies are incomplete: their penalties
are not scored (spec 'complete'). Prints a Markdown table to stdout (the JSON with ``--json``) and progress to
stderr; no text of the data is printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.augment import AUGMENT_KINDS, NORMALIZED_KINDS, perturb_case  # noqa: E402
from data.formats import load_valid_cases  # noqa: E402
from data.labels import LabelSet  # noqa: E402
from data.normalize import normalize  # noqa: E402
from eval.metrics import unit_metrics  # noqa: E402
from models.predictor import Predictor  # noqa: E402
from training.config import DEFAULT_CONFIG, load_config  # noqa: E402
from training.cv import cross_validate  # noqa: E402
from training.splits import grouped_folds  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-train"
DEFAULT_OVERRIDES = ["--model.model_type", "tfidf", "--model.rule_fusion", "false"]
FIGURES = ("offense_macro_f1", "penalty_micro_f1", "fully_correct")


def perturbed_scores(cases, folds, seed: int, fold_dir: Path, label_set: LabelSet) -> dict[str, dict[str, float]]:
    """Unit-level figures of each fold's model on perturbed copies of its test units, pooled over folds, per kind."""
    gold: dict[str, list] = {kind: [] for kind in AUGMENT_KINDS}
    predicted: dict[str, list] = {kind: [] for kind in AUGMENT_KINDS}
    for fold, (_, test_idx) in enumerate(folds):
        predictor = Predictor.from_pretrained(fold_dir / f"fold-{fold}")
        for kind in AUGMENT_KINDS:
            copies = [perturb_case(cases[i], kind, random.Random(f"{seed}-{kind}-{i}")) for i in test_idx]
            gold[kind] += copies
            predicted[kind] += predictor.predict_units([c.text for c in copies])
    scores = {}
    for kind in AUGMENT_KINDS:
        metrics = unit_metrics(gold[kind], predicted[kind], label_set)
        scores[kind] = {k: round(metrics[k], 4) for k in FIGURES}
        if not any(c.complete for c in gold[kind]):  # cut-offs: no penalty is scored, the figure would read 0
            scores[kind]["penalty_micro_f1"] = None
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", action="append", help=f"annotated data to cross-validate on (default {DEFAULT_DATA})"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--augment", type=float, action="append", help="data.augment values (default 0 and 0.5)")
    parser.add_argument("--output-dir", default="runs/augment-cv", help="fold models go to DIR/augment-VALUE/fold-K")
    parser.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    args, overrides = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    data = args.data or [str(DEFAULT_DATA)]
    results = {}
    for augment in args.augment or [0.0, 0.5]:
        config = load_config(DEFAULT_CONFIG, DEFAULT_OVERRIDES + overrides + ["--data.augment", str(augment)])
        fold_dir = Path(args.output_dir) / f"augment-{augment}"
        print(f"augment {augment}: {args.folds}-fold CV into {fold_dir}", file=sys.stderr)
        summary = cross_validate(config, data, args.folds, False, str(fold_dir), add_train_data=True)
        label_set = LabelSet.load(config.data.label_set)
        cases = load_valid_cases(data, label_set)
        folds = grouped_folds(cases, args.folds, config.training.seed)
        name = config.model.model_type
        results[str(augment)] = {
            "clean": {k: summary["pooled"][name][k] for k in FIGURES},
            "clean_fold_mean": {k: summary["mean"][name][k] for k in FIGURES},
            "perturbed": perturbed_scores(cases, folds, config.training.seed, fold_dir, label_set),
        }
    # how often normalize() gives back the original exactly (same seeds as the scored copies)
    round_trip = {
        kind: round(
            sum(
                normalize(perturb_case(c, kind, random.Random(f"{config.training.seed}-{kind}-{i}")).text).text
                == normalize(c.text).text
                for i, c in enumerate(cases)
            )
            / len(cases),
            4,
        )
        for kind in NORMALIZED_KINDS
    }
    report = {"note": summary["note"], "overrides": DEFAULT_OVERRIDES + overrides, "results": results}
    report["normalize_round_trip"] = round_trip
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print(report["note"])
    print("\n| test units | " + " | ".join(f"augment {a}: macro-F1 / pen. micro-F1 / fully" for a in results) + " |")
    print("|---|" + "---|" * len(results))
    rows = {"clean (pooled)": {a: r["clean"] for a, r in results.items()}}
    for kind in AUGMENT_KINDS:
        rows[kind] = {a: r["perturbed"][kind] for a, r in results.items()}
    for row, by_augment in rows.items():
        cells = [
            " / ".join("–" if by_augment[a][k] is None else f"{by_augment[a][k]:.3f}" for k in FIGURES)
            for a in results
        ]
        print(f"| {row} | " + " | ".join(cells) + " |")
    print(f"\nnormalize(copy) == normalize(original): {round_trip}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
