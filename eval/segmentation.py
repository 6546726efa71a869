"""Case-unit segmentation metrics: one-to-one span matching by IoU, then precision, recall and F1.

A predicted unit counts as found when it overlaps a gold unit with intersection-over-union at least ``min_iou``
(0.5 by default): boundaries that differ by a caption or a heading line still match, a unit that swallows its
neighbour does not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

logger = logging.getLogger(__name__)

Span = tuple[int, int]


def span_iou(a: Span, b: Span) -> float:
    """Intersection over union of two half-open character spans; 0.0 when either is empty."""
    intersection = min(a[1], b[1]) - max(a[0], b[0])
    if intersection <= 0:
        return 0.0
    union = max(a[1], b[1]) - min(a[0], b[0])
    return intersection / union


def match_spans(predicted: Sequence[Span], gold: Sequence[Span], min_iou: float = 0.5) -> list[tuple[int, int]]:
    """Match predicted to gold spans one-to-one, greedily by descending IoU.

    Why greedy: with IoU >= 0.5 two spans can each match at most one span of a non-overlapping set, so the greedy
    matching is already maximal for segmentations; it is also what the benchmark's miss list explains.

    Args:
        predicted: predicted ``(start, end)`` spans.
        gold: gold ``(start, end)`` spans.
        min_iou: the smallest IoU that counts as a match.

    Returns:
        ``(predicted_index, gold_index)`` pairs, sorted by gold index.
    """
    candidates = []
    for p_index, p_span in enumerate(predicted):
        for g_index, g_span in enumerate(gold):
            iou = span_iou(p_span, g_span)
            if iou >= min_iou and iou > 0.0:
                candidates.append((iou, p_index, g_index))
    candidates.sort(key=lambda item: (-item[0], item[2], item[1]))
    used_predicted: set[int] = set()
    used_gold: set[int] = set()
    pairs = []
    for _, p_index, g_index in candidates:
        if p_index in used_predicted or g_index in used_gold:
            continue
        used_predicted.add(p_index)
        used_gold.add(g_index)
        pairs.append((p_index, g_index))
    return sorted(pairs, key=lambda pair: pair[1])


def segmentation_scores(pairs_per_doc: Iterable[tuple[int, int, Sequence[tuple[int, int]]]]) -> dict:
    """Micro-averaged precision, recall and F1 over documents.

    Args:
        pairs_per_doc: per document ``(n_predicted, n_gold, matched_pairs)`` where ``matched_pairs`` is what
            ``match_spans`` returned for it.

    Returns:
        ``{"precision", "recall", "f1", "tp", "fp", "fn"}``; precision (recall) is 1.0 when nothing was predicted
        (nothing was gold), so an empty bulletin scored against an empty gold is perfect rather than undefined.
    """
    tp = fp = fn = 0
    for n_predicted, n_gold, pairs in pairs_per_doc:
        matched = len(pairs)
        if matched > min(n_predicted, n_gold):
            raise ValueError(f"{matched} matches for {n_predicted} predicted and {n_gold} gold spans")
        tp += matched
        fp += n_predicted - matched
        fn += n_gold - matched
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}
