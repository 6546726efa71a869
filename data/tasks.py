"""Pre-filled annotation tasks: a model's case units and labels written for Label Studio or doccano, so annotators
correct labels instead of typing them.

The shapes are those of ``data.formats`` (one task per case unit, ``data.text`` the unit's text), so an annotator's
export is read back by ``read_annotations`` like any other annotation file. Label Studio: the model's labels go
under ``predictions`` (with ``model_version`` and ``score``), which the interface shows as a pre-annotation and an
annotator's submission copies into ``annotations``. doccano: the labels are the line's ``label`` list, which doccano
imports as the unit's labels. ``meta`` records where the unit is in its bulletin and why the bulletin was picked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from data.errors import AnnotationError
from data.formats import doccano_line, label_studio_result
from data.types import GoldCase, Prediction

TASK_FORMATS = ("labelstudio", "doccano")


@dataclass(frozen=True)
class TaskBulletin:
    """A bulletin to annotate: its predictions (offsets into the decoded text, header included) and why it was
    picked."""

    source: str
    predictions: tuple[Prediction, ...]
    reason: str


def write_tasks(bulletins: list[TaskBulletin], path: str | Path, fmt: str, model_version: str) -> int:
    """Write one pre-filled task per case unit; returns the number of tasks.

    Raises:
        AnnotationError: ``fmt`` is not one of ``TASK_FORMATS`` or the file cannot be written.
    """
    if fmt not in TASK_FORMATS:
        raise AnnotationError(f"unknown task format {fmt!r}; known: {list(TASK_FORMATS)}")
    pairs = [(b, p) for b in bulletins for p in b.predictions]
    if fmt == "labelstudio":
        tasks = [_label_studio_task(b, p, i, model_version) for i, (b, p) in enumerate(pairs, start=1)]
        content = json.dumps(tasks, ensure_ascii=False, indent=1)
    else:
        lines = [json.dumps(doccano_line(_as_gold(p)) | {"meta": _meta(b, p)}, ensure_ascii=False) for b, p in pairs]
        content = "".join(f"{line}\n" for line in lines)
    try:
        Path(path).write_text(content, encoding="utf-8")
    except OSError as err:
        raise AnnotationError(f"cannot write {path}: {err.strerror or err}") from err
    return len(pairs)


def _as_gold(prediction: Prediction) -> GoldCase:
    """The prediction in the gold shape the exchange formats write; ``complete`` is the annotator's call, so true."""
    return GoldCase(
        doc=prediction.unit.source,
        text=prediction.unit.text,
        offense=prediction.offense,
        penalties=prediction.penalties,
        fine_amounts=prediction.evidence.fine_amounts,
        party=prediction.party,
    )


def _meta(bulletin: TaskBulletin, prediction: Prediction) -> dict:
    unit = prediction.unit
    return {
        "source": unit.source,
        "case": unit.index,
        "start": unit.start,
        "end": unit.end,
        "needs_review": prediction.needs_review,
        "reason": bulletin.reason,
    }


def _label_studio_task(bulletin: TaskBulletin, prediction: Prediction, task_id: int, model_version: str) -> dict:
    data = {"text": prediction.unit.text, "doc": prediction.unit.source}
    result = label_studio_result(_as_gold(prediction))
    score = round(prediction.offense_score, 4)
    return {
        "id": task_id,
        "data": data,
        "predictions": [{"model_version": model_version, "score": score, "result": result}],
        "meta": _meta(bulletin, prediction),
    }
