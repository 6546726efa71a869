"""Score the rule-based segmenter on annotated bulletins (case units matched by IoU >= 0.5).

Usage: ``python benchmarks/segmentation.py [DIR ...]`` (default ``../shared/data/real``). Prints tp/fp/fn per
bulletin, the overall precision/recall/F1, every miss (first 60 characters) and the speed in units per second.
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
from data.segment import segment_bulletin  # noqa: E402
from eval.segmentation import match_spans, segmentation_scores  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
MIN_IOU = 0.5
EXCERPT_CHARS = 60


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:EXCERPT_CHARS]


def score_directory(directory: Path, label_set: LabelSet) -> tuple[list[tuple[int, int, list]], int, float]:
    """Segment and score every annotated bulletin in ``directory``; prints the per-bulletin lines and misses."""
    bulletins: list[AnnotatedBulletin] = load_annotated_dir(directory, label_set)
    results = []
    units = 0
    elapsed = 0.0
    misses = []
    for annotated in bulletins:
        bulletin = annotated.bulletin
        started = time.perf_counter()
        predicted = segment_bulletin(bulletin.text, source=bulletin.source, start=bulletin.body_start)
        elapsed += time.perf_counter() - started
        units += len(predicted)
        spans = [(unit.start, unit.end) for unit in predicted]
        pairs = match_spans(spans, annotated.spans, MIN_IOU)
        results.append((len(spans), len(annotated.spans), pairs))
        tp = len(pairs)
        print(f"{annotated.doc:60s} tp={tp:2d} fp={len(spans) - tp:2d} fn={len(annotated.spans) - tp:2d}")
        matched_predicted = {p for p, _ in pairs}
        matched_gold = {g for _, g in pairs}
        for index, (start, end) in enumerate(annotated.spans):
            if index not in matched_gold:
                misses.append(f"  FN {annotated.doc} gold#{index + 1}: {_excerpt(bulletin.text[start:end])}")
        for index, unit in enumerate(predicted):
            if index not in matched_predicted:
                misses.append(f"  FP {annotated.doc} pred#{index + 1}: {_excerpt(unit.text)}")
    if misses:
        print("misses:")
        print("\n".join(misses))
    return results, units, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help=f"annotated bulletin directories (default {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    directories = args.dirs or [DEFAULT_DIR]
    label_set = LabelSet.load()
    status = 0
    for directory in directories:
        if not directory.is_dir():
            print(f"skipping {directory}: not a directory (no annotated bulletins here)")
            continue
        print(f"== {directory}")
        try:
            results, units, elapsed = score_directory(directory, label_set)
        except PenaltyError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
            continue
        scores = segmentation_scores(results)
        print(
            f"overall: P={scores['precision']:.3f} R={scores['recall']:.3f} F1={scores['f1']:.3f} "
            f"(tp={scores['tp']} fp={scores['fp']} fn={scores['fn']}, IoU >= {MIN_IOU})"
        )
        rate = units / elapsed if elapsed > 0 else float("inf")
        print(f"runtime: {units} units from {len(results)} bulletins in {elapsed:.3f}s ({rate:.0f} units/s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
