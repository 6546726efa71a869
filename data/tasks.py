"""Pre-filled annotation tasks: a model's case units and labels written for Label Studio or doccano, so annotators
correct labels instead of typing them.

Two kinds of task (``TASK_UNITS``). ``case``: one task per case unit, in the shapes of ``data.formats`` (``data.text``
the unit's text), so an annotator's export is read back by ``read_annotations`` like any other annotation file; the
annotator corrects labels only. ``bulletin``: one task per bulletin (``data.text`` the whole decoded bulletin) with
a region per unit (``data.bulletin_tasks``), so the annotator can also re-bound, add or delete units.
Label Studio: the model's labels go under ``predictions`` (with ``model_version`` and ``score``), which the interface
shows as a pre-annotation and an annotator's submission copies into ``annotations``. doccano: the labels are the
line's ``label`` list, which doccano imports as the unit's labels (bulletin tasks: the units' spans).
``meta`` records where the units are in their bulletin and why the bulletin was picked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from data.bulletin_tasks import doccano_bulletin_line, label_studio_bulletin_result
from data.errors import AnnotationError
from data.formats import doccano_line, label_studio_result
from data.types import GoldCase, Prediction

TASK_FORMATS = ("labelstudio", "doccano")
TASK_UNITS = ("case", "bulletin")  # one task per case unit, or per bulletin (units as regions to re-bound)


@dataclass(frozen=True)
class TaskBulletin:
    """A bulletin to annotate: its predictions (offsets into the decoded text, header included) and why it was
    picked."""

    source: str
    predictions: tuple[Prediction, ...]
    reason: str
    text: str = ""  # the decoded bulletin, header included: what bulletin-level tasks show


def write_tasks(
    bulletins: list[TaskBulletin], path: str | Path, fmt: str, model_version: str, per: str = "case"
) -> int:
    """Write one pre-filled task per case unit (``per="case"``) or per bulletin (``per="bulletin"``); returns the
    number of tasks.

    Raises:
        AnnotationError: ``fmt`` is not one of ``TASK_FORMATS``, ``per`` not one of ``TASK_UNITS``, or the file
            cannot be written.
    """
    if fmt not in TASK_FORMATS:
        raise AnnotationError(f"unknown task format {fmt!r}; known: {list(TASK_FORMATS)}")
    if per not in TASK_UNITS:
        raise AnnotationError(f"unknown task unit {per!r}; known: {list(TASK_UNITS)}")
    if per == "bulletin":
        records = [
            _label_studio_bulletin_task(b, i, model_version) if fmt == "labelstudio" else _doccano_bulletin(b)
            for i, b in enumerate(bulletins, start=1)
        ]
    elif fmt == "labelstudio":
        pairs = [(b, p) for b in bulletins for p in b.predictions]
        records = [_label_studio_task(b, p, i, model_version) for i, (b, p) in enumerate(pairs, start=1)]
    else:
        records = [doccano_line(_as_gold(p)) | {"meta": _meta(b, p)} for b in bulletins for p in b.predictions]
    if fmt == "labelstudio":
        content = json.dumps(records, ensure_ascii=False, indent=1)
    else:
        content = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    try:
        Path(path).write_text(content, encoding="utf-8")
    except OSError as err:
        raise AnnotationError(f"cannot write {path}: {err.strerror or err}") from err
    return len(records)


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


def _region_units(bulletin: TaskBulletin) -> list[tuple[str, int, int, GoldCase]]:
    """``(region id, start, end, labels)`` per unit; ids are stable per bulletin (``case-<index>``)."""
    if not bulletin.text:
        raise AnnotationError(f"{bulletin.source}: bulletin-level tasks need the bulletin's text")
    return [(f"case-{p.unit.index}", p.unit.start, p.unit.end, _as_gold(p)) for p in bulletin.predictions]


def _bulletin_meta(bulletin: TaskBulletin) -> dict:
    units = [
        {"region": f"case-{p.unit.index}", "case": p.unit.index, "needs_review": p.needs_review}
        for p in bulletin.predictions
    ]
    return {"source": bulletin.source, "reason": bulletin.reason, "review": units}


def _label_studio_bulletin_task(bulletin: TaskBulletin, task_id: int, model_version: str) -> dict:
    """A whole bulletin with the model's units as regions; ``score`` is the least sure unit's offense score."""
    result = label_studio_bulletin_result(bulletin.text, _region_units(bulletin))
    score = round(min(p.offense_score for p in bulletin.predictions), 4)
    return {
        "id": task_id,
        "data": {"text": bulletin.text, "doc": bulletin.source},
        "predictions": [{"model_version": model_version, "score": score, "result": result}],
        "meta": _bulletin_meta(bulletin),
    }


def _doccano_bulletin(bulletin: TaskBulletin) -> dict:
    line = doccano_bulletin_line(bulletin.source, bulletin.text, _region_units(bulletin))
    line["meta"] |= _bulletin_meta(bulletin)
    return line
