"""Annotation exchange: gold JSONL, Label Studio JSON and doccano JSONL, so analysts annotate in the tools they use.

Label Studio: one task per case unit, ``data.text`` (+ ``data.doc``), choices named ``offense``, ``penalties``,
``party`` and a textarea ``fine_amounts``; ``LABEL_STUDIO_CONFIG`` is the matching labelling interface.
doccano (text classification): ``{"text", "label": ["offense:hacking", "penalty:fine", "party:individual"]}``.
Bulletin-level tasks (one per bulletin, a region per case unit; ``data.bulletin_tasks``) are recognised in both
tools' files and read as one record per unit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

from data.annotation_values import read_complete, read_fines, textarea_strings
from data.bulletin_tasks import (
    FINES_CONTROL,
    UNIT_CONTROL,
    UNIT_LABEL,
    doccano_bulletin_records,
    is_bulletin_line,
    is_bulletin_task,
    label_studio_bulletin_records,
)
from data.errors import AnnotationError
from data.gold import GoldFile, collect_cases, read_gold_jsonl, write_gold_jsonl
from data.labels import LabelSet
from data.types import GoldCase

FORMATS = ("gold", "labelstudio", "doccano")


def label_studio_config(label_set: LabelSet, lang: str = "en", bulletin: bool = False) -> str:
    """The Label Studio labelling interface (XML) for a label set.

    Args:
        label_set: the labels offered as choices.
        lang: ``zh`` shows each label's Chinese name (``LabelSet.display``) while results still store the identifier
            (Label Studio's ``alias`` replaces the shown value in results), so exports read back unchanged.
        bulletin: the interface of bulletin-level tasks (``data.bulletin_tasks``): a ``unit`` span label over the
            whole bulletin, and the choices as per-region classifications (``perRegion``) of the selected unit,
            shown while a unit is selected.
    """
    per_region = ' perRegion="true"' if bulletin else ""

    def choices(name: str, kind: str, values: Iterable[str], multiple: bool) -> str:
        options = "".join(_choice(v, label_set.display(kind, v, lang)) if kind else _choice(v, v) for v in values)
        choice = "multiple" if multiple else "single"
        return f'<Choices name="{name}" toName="text" choice="{choice}"{per_region}>{options}</Choices>'

    fields = (
        choices("offense", "offense", label_set.offenses, False)
        + choices("penalties", "penalty", label_set.penalties, True)
        + choices("party", "party", label_set.parties, False)
        + f'<TextArea name="{FINES_CONTROL}" toName="text"{per_region} placeholder="fines in yuan, one per line"/>'
        + choices("complete", "", ["true", "false"], False)
    )
    if not bulletin:
        return f'<View><Text name="text" value="$text"/>{fields}</View>'
    units = f'<Labels name="{UNIT_CONTROL}" toName="text"><Label value="{UNIT_LABEL}" background="#ffb86b"/></Labels>'
    return f'<View>{units}<Text name="text" value="$text"/><View visibleWhen="region-selected">{fields}</View></View>'


def _choice(label: str, shown: str) -> str:
    """One ``<Choice>``: ``alias`` (what results store) only when the shown name differs from the identifier."""
    alias = f" alias={quoteattr(label)}" if shown != label else ""
    return f"<Choice value={quoteattr(shown)}{alias}/>"


def detect_format(path: Path) -> str:
    """Guess the format from the content: a JSON array is Label Studio, JSONL with ``label`` is doccano.

    Raises:
        AnnotationError: the file cannot be read.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).decode("utf-8-sig", errors="replace").lstrip()
    except OSError as err:
        raise AnnotationError(f"cannot read annotation file {path}: {err.strerror or err}") from err
    if head.startswith("["):
        return "labelstudio"
    first = head.splitlines()[0] if head else ""
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        return "gold"
    return "doccano" if isinstance(record, dict) and "label" in record and "offense" not in record else "gold"


def read_annotations(path: str | Path, label_set: LabelSet, fmt: str = "auto") -> GoldFile:
    """Read one annotation file in any supported format; bad records become problems naming file:record.

    Raises:
        AnnotationError: the file cannot be read or decoded as UTF-8, or ``fmt`` is unknown.
    """
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "gold":
        return read_gold_jsonl(path, label_set)
    if fmt == "doccano":
        return collect_cases(path, label_set, _doccano_records(path, _read_text(path)))
    if fmt == "labelstudio":
        return collect_cases(path, label_set, _label_studio_records(path, _read_text(path)))
    raise AnnotationError(f"unknown annotation format {fmt!r}; known: {list(FORMATS)}")


def _read_text(path: Path) -> str:
    """The file as UTF-8 (a BOM allowed).

    Raises:
        AnnotationError: the file cannot be read or is not UTF-8.
    """
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as err:
        raise AnnotationError(f"cannot read annotation file {path}: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise AnnotationError(
            f"{path}: not UTF-8 (bad byte at offset {err.start}); export the annotations as UTF-8"
        ) from err


def write_annotations(cases: list[GoldCase], path: str | Path, fmt: str) -> int:
    """Write cases in ``fmt``; returns the count.

    Raises:
        AnnotationError: ``fmt`` is unknown or the file cannot be written.
    """
    try:
        return _write_annotations(cases, Path(path), fmt)
    except OSError as err:
        raise AnnotationError(f"cannot write {path}: {err.strerror or err}") from err


def _write_annotations(cases: list[GoldCase], path: Path, fmt: str) -> int:
    if fmt == "gold":
        return write_gold_jsonl(cases, path)
    if fmt == "doccano":
        lines = [json.dumps(doccano_line(c), ensure_ascii=False) for c in cases]
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return len(lines)
    if fmt == "labelstudio":
        tasks = [_to_label_studio(c, i) for i, c in enumerate(cases, start=1)]
        path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
        return len(tasks)
    raise AnnotationError(f"unknown annotation format {fmt!r}; known: {list(FORMATS)}")


def _doccano_records(path: Path, raw: str) -> Iterable[tuple[str, object]]:
    """One ``(where, record or AnnotationError)`` per non-blank line, so one bad line never hides the next ones."""
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw_record = json.loads(line)
        except json.JSONDecodeError as err:
            yield where, AnnotationError(f"malformed JSON at {where}: {err.msg}")
            continue
        if is_bulletin_line(raw_record):  # a whole bulletin with case spans: one record per span
            yield from doccano_bulletin_records(raw_record, where)
            continue
        try:
            yield where, _doccano_record(raw_record, where)
        except AnnotationError as err:
            yield where, err


def _doccano_record(raw: object, where: str) -> object:
    """A doccano line as a gold record (``GoldCase.from_dict`` checks it); a non-object is passed on to be reported.

    Raises:
        AnnotationError: ``label`` is not a list, or one of its labels has no known prefix or value.
    """
    if not isinstance(raw, dict):
        return raw
    labels = raw.get("label") or []
    if not isinstance(labels, list):
        raise AnnotationError(f"'label' must be a list like [\"offense:hacking\"] at {where}, found {labels!r}")
    record = {"doc": raw.get("doc", ""), "text": raw.get("text"), "penalties": []}
    record["fine_amounts"] = raw.get("fine_amounts", [])
    for label in labels:
        kind, _, value = str(label).partition(":")
        if kind == "penalty":
            record["penalties"].append(value)
        elif kind in ("offense", "party"):
            record[kind] = value
        elif kind == "complete":
            record["complete"] = read_complete(value, where)
        else:
            raise AnnotationError(f"label {label!r} at {where} needs a prefix offense:/penalty:/party:/complete:")
    return record


def _label_studio_records(path: Path, raw: str) -> Iterable[tuple[str, object]]:
    """One ``(where, record or AnnotationError)`` per task of a Label Studio JSON export.

    Raises:
        AnnotationError: the file is not a JSON array.
    """
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError as err:
        raise AnnotationError(f"malformed JSON in {path}: {err.msg} (line {err.lineno})") from err
    if not isinstance(tasks, list):
        raise AnnotationError(f"{path}: a Label Studio export is a JSON array of tasks, found {type(tasks).__name__}")
    for number, task in enumerate(tasks, start=1):
        task_id = task.get("id", number) if isinstance(task, dict) else number
        where = f"{path}:task {task_id}"
        if is_bulletin_task(task):  # a whole bulletin with unit regions: one record per unit
            yield from label_studio_bulletin_records(task, where)
            continue
        try:
            yield where, _label_studio_record(task, where)
        except AnnotationError as err:
            yield where, err


def _label_studio_record(task: object, where: str) -> dict:
    """A Label Studio task as a gold record; the latest annotation wins.

    Raises:
        AnnotationError: the task has no annotation or an unexpected shape, or a fine cannot be read.
    """
    if not isinstance(task, dict):
        raise AnnotationError(f"expected a task object at {where}, found {type(task).__name__}")
    annotations = task.get("annotations") or task.get("completions") or []
    if not isinstance(annotations, list) or not annotations:
        raise AnnotationError(f"task has no annotation at {where}")
    latest = annotations[-1] if isinstance(annotations[-1], dict) else {}
    data, results = task.get("data", {}), latest.get("result", [])
    if not isinstance(data, dict) or not isinstance(results, list):
        raise AnnotationError(f"expected 'data' to be an object and 'result' a list at {where}")
    record: dict = {"doc": data.get("doc", ""), "text": data.get("text"), "penalties": [], "fine_amounts": []}
    for result in results:
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, dict):
            raise AnnotationError(f"expected each result to hold a 'value' object at {where}, found {result!r}")
        name, choices = result.get("from_name"), value.get("choices") or [""]
        if name == "fine_amounts":
            record["fine_amounts"] = [
                fine for text in textarea_strings(value.get("text"), where) for fine in read_fines(text, where)
            ]
        elif name == "penalties":
            record["penalties"] = value.get("choices", [])
        elif name in ("offense", "party"):
            record[name] = choices[0] if isinstance(choices, list) else choices
        elif name == "complete":
            record["complete"] = read_complete(choices[0] if isinstance(choices, list) else choices, where)
    return record


def doccano_line(case: GoldCase) -> dict:
    """A case as one doccano line; ``_doccano_record`` reads it back (also what ``penalty annotate`` pre-fills)."""
    labels = [f"offense:{case.offense}", *(f"penalty:{p}" for p in case.penalties), f"party:{case.party}"]
    labels.append(f"complete:{str(case.complete).lower()}")
    return {"doc": case.doc, "text": case.text, "label": labels, "fine_amounts": list(case.fine_amounts)}


def _to_label_studio(case: GoldCase, task_id: int) -> dict:
    data = {"text": case.text, "doc": case.doc}
    return {"id": task_id, "data": data, "annotations": [{"result": label_studio_result(case)}]}


def label_studio_result(case: GoldCase) -> list[dict]:
    """A case's labels as Label Studio result regions, the shape ``_label_studio_record`` reads back: under
    ``annotations`` for gold, under ``predictions`` for ``penalty annotate``'s pre-filled tasks."""

    def choice(name: str, values: list[str]) -> dict:
        return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": values}}

    return [
        choice("offense", [case.offense]),
        choice("penalties", list(case.penalties)),
        choice("party", [case.party]),
        choice("complete", [str(case.complete).lower()]),
        {
            "from_name": "fine_amounts",
            "to_name": "text",
            "type": "textarea",
            "value": {"text": [str(f) for f in case.fine_amounts]},
        },
    ]


def resolve_annotation_paths(specs: Iterable[str]) -> list[Path]:
    """Expand ``corpus`` (the built authored corpus), directories (every .jsonl/.json inside, recursively) and files.

    Raises:
        AnnotationError: a path does not exist or a directory holds no annotation file.
    """
    from data.corpus import data_path

    paths: list[Path] = []
    for spec in specs:
        path = data_path(spec)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".jsonl", ".json") and p.is_file())
            if not found:
                raise AnnotationError(f"{path}: no .jsonl or .json annotation files inside")
            paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise AnnotationError(f"{spec}: no such annotation file or directory")
    return paths


def load_cases(specs: Iterable[str], label_set: LabelSet) -> tuple[list[GoldCase], list[str]]:
    """All valid cases from the given files/directories and every problem found (file:line)."""
    cases: list[GoldCase] = []
    problems: list[str] = []
    for path in resolve_annotation_paths(specs):
        loaded = read_annotations(path, label_set)
        cases.extend(loaded.cases)
        problems.extend(loaded.problems)
    return cases, problems


def load_valid_cases(specs: list[str], label_set: LabelSet) -> list[GoldCase]:
    """All cases of the given files/directories, for training: any problem stops the run.

    Why strict: a model trained on silently thinned data cannot be reproduced from its config.

    Raises:
        AnnotationError: a file has invalid records (the first 50 listed), or there is no case at all.
    """
    cases, problems = load_cases(specs, label_set)
    if problems:
        listed = "\n  ".join(problems[:50])
        raise AnnotationError(f"{len(problems)} invalid annotation(s); fix them or drop the file:\n  {listed}")
    if not cases:
        raise AnnotationError(f"no case units found in {specs}")
    return cases
