"""Bulletin-level annotation tasks: the whole bulletin with one region per case unit, so annotators can re-bound, add
or delete units as well as correct their labels; and reading such tasks back as gold cases.

Label Studio: ``data.text`` is the decoded bulletin (``SOURCE:`` header included, so offsets are those of ``penalty
predict``). Each unit is a ``labels`` region of the control ``unit`` (its one label: ``case``); its offense,
penalties, party, fines and ``complete`` are per-region classifications, i.e. results of the controls ``offense``,
``penalties``, ``party``, ``fine_amounts`` and ``complete`` that carry the region's ``id`` (``perRegion="true"`` in
``data.formats.label_studio_config(..., bulletin=True)``). Relations the annotator draws (``type: relation``,
``from_id``/``to_id``) are kept with the units they touch.

doccano (sequence labelling): ``{"text", "label": [[start, end, "case"], ...]}``. A doccano span carries one label
and no attributes, so these lines carry the units' bounds only; the model's labels ride along in ``meta.units``. Read
back, a span keeps the labels of the predicted unit it overlaps (IoU >= 0.5), marked ``labels_from: model`` in its
provenance, and a span that overlaps none is reported, as it has no labels at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from data.annotation_values import read_complete, read_fines, textarea_strings
from data.errors import AnnotationError
from data.types import GoldCase

logger = logging.getLogger(__name__)

UNIT_CONTROL = "unit"  # <Labels name="unit" toName="text">
UNIT_LABEL = "case"  # its one <Label>, and the doccano span label
FINES_CONTROL = "fine_amounts"
REGION_CHOICES = ("offense", "penalties", "party", "complete")
LABEL_FIELDS = ("offense", "penalties", "party", "fine_amounts", "complete")
TWIN_IOU = 0.5  # the overlap at which a doccano span inherits a predicted unit's labels (eval's matching threshold)


def label_studio_bulletin_result(text: str, units: Sequence[tuple[str, int, int, GoldCase]]) -> list[dict]:
    """The result list of a bulletin task: per unit, its ``labels`` region and the per-region classifications.

    Args:
        text: the bulletin, as ``data.text`` holds it.
        units: ``(region id, start, end, labels)`` per unit; offsets are code points into ``text``.
    """
    results: list[dict] = []
    for region_id, start, end, case in units:
        span = {"start": start, "end": end, "text": text[start:end]}

        def result(name: str, kind: str, value: dict, region_id: str = region_id) -> dict:
            return {"id": region_id, "from_name": name, "to_name": "text", "type": kind, "value": value}

        results.append(result(UNIT_CONTROL, "labels", span | {"labels": [UNIT_LABEL]}))
        results.append(result("offense", "choices", span | {"choices": [case.offense]}))
        if case.penalties:  # an empty choice list is no choice: Label Studio's validation refuses it in predictions
            results.append(result("penalties", "choices", span | {"choices": list(case.penalties)}))
        results.append(result("party", "choices", span | {"choices": [case.party]}))
        results.append(result("complete", "choices", span | {"choices": [str(case.complete).lower()]}))
        if case.fine_amounts:  # a per-region textarea keeps the typed lines under `text`, where a span keeps its text
            fines = {"start": start, "end": end, "text": [str(f) for f in case.fine_amounts]}
            results.append(result(FINES_CONTROL, "textarea", fines))
    return results


def doccano_bulletin_line(doc: str, text: str, units: Sequence[tuple[str, int, int, GoldCase]]) -> dict:
    """One doccano sequence-labelling line: the bulletin, a ``case`` span per unit, and the units' labels in
    ``meta.units`` (doccano keeps ``meta`` through import and export)."""
    return {
        "doc": doc,
        "text": text,
        "label": [[start, end, UNIT_LABEL] for _, start, end, _ in units],
        "meta": {"units": [{"region": rid, "start": s, "end": e} | _labels_dict(c) for rid, s, e, c in units]},
    }


def _labels_dict(case: GoldCase) -> dict:
    return {
        "offense": case.offense,
        "penalties": list(case.penalties),
        "party": case.party,
        "fine_amounts": list(case.fine_amounts),
        "complete": case.complete,
    }


def is_bulletin_task(task: object) -> bool:
    """Whether a Label Studio task is bulletin-level: some annotation or prediction result is a ``labels`` region."""
    if not isinstance(task, dict):
        return False
    groups = [task.get(key) for key in ("annotations", "completions", "predictions")]
    for group in groups:
        for item in group if isinstance(group, list) else []:
            results = item.get("result") if isinstance(item, dict) else None
            for result in results if isinstance(results, list) else []:
                if isinstance(result, dict) and result.get("type") == "labels":
                    return True
    return False


def is_bulletin_line(raw: object) -> bool:
    """Whether a doccano line is bulletin-level: its ``label`` is a list of spans, or its meta lists units."""
    if not isinstance(raw, dict):
        return False
    labels, meta = raw.get("label"), raw.get("meta")
    spans = isinstance(labels, list) and bool(labels) and all(isinstance(x, list) for x in labels)
    return spans or (isinstance(meta, dict) and isinstance(meta.get("units"), list))


def label_studio_bulletin_records(task: dict, where: str) -> Iterator[tuple[str, object]]:
    """One ``(where, gold record or AnnotationError)`` per unit region of the task's latest submitted annotation.

    A unit is named ``file:task N, unit ID [start:end]``. Regions the annotator deleted are gone, added ones are
    units, re-bounded ones keep their new bounds (checked against ``data.text``); each unit's ``provenance`` says
    which (``bounds``: kept / re-bounded / added), which labels changed, who annotated it when, and the relations
    that touch it. A bulletin whose annotation has no region (no case unit in it) yields nothing and is logged.
    """
    data = task.get("data")
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        yield where, AnnotationError(f"expected 'data.text' to hold the bulletin text at {where}")
        return
    try:
        annotation = _latest_annotation(task, where)
    except AnnotationError as err:
        yield where, err
        return
    results = [r for r in annotation.get("result") or [] if isinstance(r, dict)]
    predicted, model_version = _predicted_regions(task)
    regions = {r.get("id"): r for r in results if r.get("type") == "labels" and r.get("from_name") == UNIT_CONTROL}
    relations = [_relation(r) for r in results if r.get("type") == "relation"]
    attached: dict[object, list[dict]] = {}
    for result in results:
        if result.get("from_name") in (*REGION_CHOICES, FINES_CONTROL):
            attached.setdefault(result.get("id"), []).append(result)
    for region_id in sorted(attached.keys() - regions.keys(), key=str):
        names = sorted(str(r.get("from_name")) for r in attached[region_id])
        yield (
            where,
            AnnotationError(
                f"{', '.join(names)} at {where} belong to no unit region (id {region_id!r}); select a unit region "
                "before choosing its labels"
            ),
        )
    doc = str(data.get("doc", ""))
    annotator = _annotator(annotation)
    units = []
    for region_id, region in regions.items():
        value = region.get("value") if isinstance(region.get("value"), dict) else {}
        units.append((value.get("start") if isinstance(value.get("start"), int) else -1, region_id, value))
    if not units:
        logger.info("%s: the annotator kept no case unit (a bulletin without cases): no gold line", where)
    for _, region_id, value in sorted(units, key=lambda u: (u[0], str(u[1]))):
        here = f"{where}, unit {region_id} [{value.get('start')}:{value.get('end')}]"
        try:
            start, end = resolve_span(text, value, here)
            labels = _region_labels(attached.get(region_id, []), here)
            if "offense" not in labels:
                raise AnnotationError(
                    f"no offense chosen for the unit at {here} ({_excerpt(text[start:end])!r}); choose one in Label "
                    "Studio, or delete the region if it is no case"
                )
            touching = [r for r in relations if region_id in (r["from_id"], r["to_id"])]
            twin_id = _twin_id(region_id, touching, predicted)
            provenance = {
                "task": task.get("id"),
                "region": region_id,
                "start": start,
                "end": end,
                **_timing(annotation),
                "annotator": annotator,
                "origin": regions[region_id].get("origin"),  # Label Studio's prediction / prediction-changed / manual
                **_changes(start, end, labels, predicted.get(twin_id), twin_id, model_version),
                "relations": touching,
            }
            record = {"doc": doc, "text": text[start:end], "penalties": [], "fine_amounts": []} | labels
            yield here, record | {"provenance": {k: v for k, v in provenance.items() if v is not None}}
        except AnnotationError as err:
            yield here, err


def doccano_bulletin_records(raw: dict, where: str) -> Iterator[tuple[str, object]]:
    """One ``(where, gold record or AnnotationError)`` per ``case`` span of a doccano bulletin line.

    doccano spans carry no labels: a span takes those of the predicted unit in ``meta.units`` it overlaps most (IoU
    >= 0.5), with ``labels_from: model`` in its provenance; a span overlapping none is a problem, never a guess.
    """
    text, spans = raw.get("text"), raw.get("label") or []
    meta = raw.get("meta") if isinstance(raw.get("meta"), dict) else {}
    predicted = [u for u in meta.get("units") or [] if isinstance(u, dict)]
    well_formed = isinstance(spans, list) and all(
        isinstance(s, list) and len(s) == 3 and isinstance(s[0], int) and s[2] == UNIT_LABEL for s in spans
    )
    if not isinstance(text, str) or not well_formed:  # one problem for the line: its spans cannot be told apart
        yield (
            where,
            AnnotationError(
                f"expected 'text' (the bulletin) and 'label' as spans [start, end, {UNIT_LABEL!r}] at {where}"
            ),
        )
        return
    if not spans:
        logger.info("%s: the annotator kept no case unit (a bulletin without cases): no gold line", where)
    inherited = 0
    for span in sorted(spans, key=lambda s: s[0]):
        here = f"{where}, span {span!r}"
        try:
            start, end = resolve_span(text, {"start": span[0], "end": span[1]}, here)
            twin = _overlapping(start, end, predicted)
            if twin is None or not isinstance(twin.get("offense"), str):
                raise AnnotationError(
                    f"no labels for the unit at {here} ({_excerpt(text[start:end])!r}): doccano sequence labelling "
                    "carries the bounds of case units only, and this span overlaps no predicted unit; label it in "
                    "Label Studio (penalty annotate --task-per bulletin) or add it to the gold file by hand"
                )
            labels = {k: twin[k] for k in LABEL_FIELDS if k in twin}
            bounds = "kept" if (twin.get("start"), twin.get("end")) == (start, end) else "re-bounded"
            provenance = {"start": start, "end": end, "labels_from": "model", "bounds": bounds}
            provenance["predicted"] = {k: twin.get(k) for k in ("region", "start", "end")}
            inherited += 1
            yield (
                here,
                {"doc": str(raw.get("doc", "")), "text": text[start:end]}
                | labels
                | {"provenance": provenance | ({"example": raw["id"]} if "id" in raw else {})},
            )
        except AnnotationError as err:
            yield here, err
    if inherited:
        logger.warning(
            "%s: %d unit(s) keep the model's labels (doccano carries spans only; provenance labels_from: model)",
            where,
            inherited,
        )


def resolve_span(text: str, value: dict, where: str) -> tuple[int, int]:
    """A region's ``(start, end)`` as code points into ``text``, checked against the region's own ``text`` if any.

    Label Studio releases before its frontend's PR #308 (and doccano before PR #99) counted JavaScript UTF-16 code
    units, in which a character outside the Basic Multilingual Plane (an emoji, a CJK Extension B character) counts
    twice; such offsets are converted when the code-point reading does not fit.

    Raises:
        AnnotationError: the offsets are not whole numbers ``0 <= start < end``, or fit the text in neither reading.
    """
    start, end = value.get("start"), value.get("end")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)) or not 0 <= start < end:
        raise AnnotationError(
            f"a unit needs whole-number offsets 0 <= start < end at {where}, found {start!r}:{end!r}"
        )
    shown = value.get("text") if isinstance(value.get("text"), str) else None
    candidates = [(start, end), (_from_utf16(text, start), _from_utf16(text, end))]
    for first, last in candidates:
        if first is not None and last is not None and last <= len(text) and first < last:
            if shown is None or text[first:last] == shown:
                if not text[first:last].strip():
                    raise AnnotationError(f"the unit at {where} holds only white space")
                return first, last
    found = f"; the region's text is {_excerpt(shown)!r}" if shown is not None else ""
    raise AnnotationError(
        f"unit offsets {start}:{end} at {where} do not fit the bulletin text ({len(text)} characters){found}; was "
        "data.text changed after the tasks were made?"
    )


def _from_utf16(text: str, offset: int) -> int | None:
    """The code-point index of a UTF-16 code-unit offset, or ``None`` where it splits a surrogate pair or overruns."""
    units = 0
    for index, char in enumerate(text):
        if units == offset:
            return index
        if units > offset:
            return None
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text) if units == offset else None


def _latest_annotation(task: dict, where: str) -> dict:
    """The latest annotation not skipped (``was_cancelled``), as for per-unit tasks the latest wins.

    Raises:
        AnnotationError: the task has no annotation, or every one was skipped.
    """
    annotations = task.get("annotations") or task.get("completions") or []
    if not isinstance(annotations, list) or not annotations:
        raise AnnotationError(f"task has no annotation at {where}")
    submitted = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    if not submitted:
        raise AnnotationError(f"task was skipped by the annotator at {where}: no submitted annotation")
    if not isinstance(submitted[-1].get("result", []), list):
        raise AnnotationError(f"expected 'result' to be a list at {where}")
    return submitted[-1]


def _predicted_regions(task: dict) -> tuple[dict[object, dict], str | None]:
    """The pre-filled units by region id (bounds and labels) and the model version that made them."""
    regions: dict[object, dict] = {}
    version = None
    predictions = task.get("predictions") if isinstance(task.get("predictions"), list) else []
    for prediction in predictions:
        if not isinstance(prediction, dict) or not isinstance(prediction.get("result"), list):
            continue
        version = prediction.get("model_version", version)
        results = [r for r in prediction["result"] if isinstance(r, dict) and isinstance(r.get("value"), dict)]
        for result in results:
            if result.get("type") == "labels":
                value = result["value"]
                regions.setdefault(result.get("id"), {}).update(start=value.get("start"), end=value.get("end"))
        for result in results:
            if result.get("id") in regions and result.get("from_name") in (*REGION_CHOICES, FINES_CONTROL):
                try:
                    regions[result["id"]].update(_region_labels([result], "prediction"))
                except AnnotationError:
                    continue  # a pre-filled value that does not parse only loses the comparison, not the unit
    return regions, version


def _region_labels(results: list[dict], where: str) -> dict:
    """The labels the per-region results of one unit give (only those chosen).

    Raises:
        AnnotationError: a value of the wrong shape, a ``complete`` that is not true/false, or an unreadable fine.
    """
    labels: dict = {}
    for result in results:
        name, value = result.get("from_name"), result.get("value")
        if not isinstance(value, dict):
            raise AnnotationError(f"expected each result to hold a 'value' object at {where}, found {result!r}")
        if name == FINES_CONTROL:
            lines = textarea_strings(value.get("text"), where)
            labels["fine_amounts"] = [fine for line in lines for fine in read_fines(line, where)]
            continue
        choices = value.get("choices")
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise AnnotationError(f"expected {name} choices to be a list of labels at {where}, found {choices!r}")
        if name == "penalties":
            labels["penalties"] = choices
        elif choices:
            labels[name] = read_complete(choices[0], where) if name == "complete" else choices[0]
    return labels


def _relation(result: dict) -> dict:
    """A Label Studio relation, as kept in the provenance of the units at both of its ends."""
    labels = result.get("labels")
    return {
        "from_id": result.get("from_id"),
        "to_id": result.get("to_id"),
        "direction": result.get("direction"),
        "labels": labels if isinstance(labels, list) else [],
    }


def _twin_id(region_id: object, relations: list[dict], predicted: dict[object, dict]) -> object:
    """The predicted unit a unit stems from: the prediction region with its id (Label Studio keeps a pre-filled
    region's id when the annotator accepts or edits it), else one a relation links it to; ``None``: an added unit."""
    if region_id in predicted:
        return region_id
    for relation in relations:
        other = relation["to_id"] if relation["from_id"] == region_id else relation["from_id"]
        if other in predicted:
            return other
    return None


def _changes(
    start: int, end: int, labels: dict, twin: dict | None, twin_id: object, model_version: str | None
) -> dict:
    """How the unit differs from its predicted twin: ``bounds`` (kept / re-bounded / added), ``labels_changed``."""
    if twin is None:
        return {"bounds": "added", "predicted": None}
    # Pre-filled tasks leave out empty penalties and fines, and an annotator may clear them: both mean none.
    before, after = ({"penalties": [], "fine_amounts": []} | x for x in (twin, labels))
    changed = [
        k for k in LABEL_FIELDS if k in before and k in after and _comparable(before[k], k) != _comparable(after[k], k)
    ]
    return {
        "bounds": "kept" if (twin.get("start"), twin.get("end")) == (start, end) else "re-bounded",
        "labels_changed": changed,
        "predicted": {"region": twin_id, "model_version": model_version} | twin,
    }


def _comparable(value: object, key: str) -> object:
    return sorted(value) if key in ("penalties", "fine_amounts") and isinstance(value, list) else value


def _annotator(annotation: dict) -> dict | None:
    """``completed_by`` as Label Studio exports it: a user id, or an object with ``id`` and ``email``."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return {k: who[k] for k in ("id", "email") if k in who} or None
    return {"id": who} if who is not None else None


def _timing(annotation: dict) -> dict:
    return {k: annotation.get(k) for k in ("created_at", "updated_at", "lead_time")} | {
        "annotation": annotation.get("id")
    }


def _overlapping(start: int, end: int, units: list[dict]) -> dict | None:
    """The predicted unit with the largest IoU with ``[start, end)`` if it reaches ``TWIN_IOU``."""
    best, best_iou = None, 0.0
    for unit in units:
        first, last = unit.get("start"), unit.get("end")
        if not (isinstance(first, int) and isinstance(last, int)):
            continue
        overlap = max(0, min(end, last) - max(start, first))
        union = max(end, last) - min(start, first)
        iou = overlap / union if union else 0.0
        if iou > best_iou:
            best, best_iou = unit, iou
    return best if best_iou >= TWIN_IOU else None


def _excerpt(text: str, limit: int = 30) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
