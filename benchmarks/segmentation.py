"""Score segmenters on annotated bulletins (case units matched by IoU >= 0.5), side by side.

Usage: ``python benchmarks/segmentation.py [DIR ...] [--segmenter rules --segmenter runs/default/segmenter]``
(default ``../shared/data/real`` and the rules). Prints tp/fp/fn per bulletin (with ``--details``, and every miss,
first 60 characters), then per segmenter the overall precision/recall/F1 and the speed in bulletins per second,
reading included, and its ratio to the first segmenter's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.annotated import AnnotatedBulletin, load_annotated_dir  # noqa: E402
from data.errors import PenaltyError  # noqa: E402
from data.labels import LabelSet  # noqa: E402
from eval.segmentation import match_spans, segmentation_scores  # noqa: E402
from models.segmenters import Segmenter, load_segmenter  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
MIN_IOU = 0.5
EXCERPT_CHARS = 60


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:EXCERPT_CHARS]


def score_directory(
    directory: Path, label_set: LabelSet, segmenter: Segmenter, details: bool
) -> tuple[list[tuple[int, int, list]], int, float]:
    """Segment and score every annotated bulletin in ``directory``; with ``details`` prints bulletins and misses."""
    bulletins: list[AnnotatedBulletin] = load_annotated_dir(directory, label_set)
    results = []
    units = 0
    elapsed = 0.0
    misses = []
    for annotated in bulletins:
        bulletin = annotated.bulletin
        started = time.perf_counter()
        predicted = segmenter.segment_many([(bulletin.text, bulletin.source, bulletin.body_start)])[0]
        elapsed += time.perf_counter() - started
        units += len(predicted)
        spans = [(unit.start, unit.end) for unit in predicted]
        pairs = match_spans(spans, annotated.spans, MIN_IOU)
        results.append((len(spans), len(annotated.spans), pairs))
        tp = len(pairs)
        if details:
            print(f"{annotated.doc:60s} tp={tp:2d} fp={len(spans) - tp:2d} fn={len(annotated.spans) - tp:2d}")
        matched_predicted = {p for p, _ in pairs}
        matched_gold = {g for _, g in pairs}
        for index, (start, end) in enumerate(annotated.spans):
            if index not in matched_gold:
                misses.append(f"  FN {annotated.doc} gold#{index + 1}: {_excerpt(bulletin.text[start:end])}")
        for index, unit in enumerate(predicted):
            if index not in matched_predicted:
                misses.append(f"  FP {annotated.doc} pred#{index + 1}: {_excerpt(unit.text)}")
    if misses and details:
        print("misses:")
        print("\n".join(misses))
    return results, units, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help=f"annotated bulletin directories (default {DEFAULT_DIR})")
    parser.add_argument(
        "--segmenter", action="append", help="'rules' or a trained segmenter directory; repeat to compare"
    )
    parser.add_argument("--details", action="store_true", help="per-bulletin counts and every miss")
    args = parser.parse_args(argv)
    directories = args.dirs or [DEFAULT_DIR]
    label_set = LabelSet.load()
    segmenters = {name: load_segmenter(name) for name in args.segmenter or ["rules"]}
    status = 0
    for directory in directories:
        if not directory.is_dir():
            print(f"skipping {directory}: not a directory (no annotated bulletins here)")
            continue
        print(f"== {directory}")
        print("| segmenter | P | R | F1 | tp | fp | fn | bulletins/s | speed vs first |")
        print("|---|---|---|---|---|---|---|---|---|")
        first_rate = None
        for name, segmenter in segmenters.items():
            try:
                results, _, elapsed = score_directory(directory, label_set, segmenter, args.details)
            except PenaltyError as err:
                print(f"error: {err}", file=sys.stderr)
                status = 1
                break
            scores = segmentation_scores(results)
            rate = len(results) / elapsed if elapsed > 0 else float("inf")
            first_rate = first_rate or rate
            print(
                f"| {name} | {scores['precision']:.3f} | {scores['recall']:.3f} | {scores['f1']:.3f} | "
                f"{scores['tp']} | {scores['fp']} | {scores['fn']} | {rate:.1f} | {rate / first_rate:.2f}x |"
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
