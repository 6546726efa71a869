"""Annotation exchange: gold JSONL, Label Studio JSON and doccano JSONL, so analysts annotate in the tools they use.

Label Studio: one task per case unit, ``data.text`` (+ ``data.doc``), choices named ``offense``, ``penalties``,
``party`` and a textarea ``fine_amounts``; ``LABEL_STUDIO_CONFIG`` is the matching labelling interface.
doccano (text classification): ``{"text", "label": ["offense:hacking", "penalty:fine", "party:individual"]}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from data.errors import AnnotationError
from data.gold import GoldFile, collect_cases, read_gold_jsonl, write_gold_jsonl
from data.labels import LabelSet
from data.types import GoldCase

FORMATS = ("gold", "labelstudio", "doccano")


def label_studio_config(label_set: LabelSet) -> str:
    """The Label Studio labelling interface (XML) for a label set."""

    def choices(name: str, values: Iterable[str], multiple: bool) -> str:
        options = "".join(f'<Choice value="{v}"/>' for v in values)
        choice = "multiple" if multiple else "single"
        return f'<Choices name="{name}" toName="text" choice="{choice}">{options}</Choices>'

    return (
        '<View><Text name="text" value="$text"/>'
        + choices("offense", label_set.offenses, False)
        + choices("penalties", label_set.penalties, True)
        + choices("party", label_set.parties, False)
        + '<TextArea name="fine_amounts" toName="text" placeholder="fines in yuan, one per line"/>'
        + choices("complete", ["true", "false"], False)
        + "</View>"
    )


def detect_format(path: Path) -> str:
    """Guess the format from the content: a JSON array is Label Studio, JSONL with ``label`` is doccano."""
    head = path.read_bytes()[:4096].decode("utf-8-sig", errors="replace").lstrip()
    if head.startswith("["):
        return "labelstudio"
    first = head.splitlines()[0] if head else ""
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        return "gold"
    return "doccano" if isinstance(record, dict) and "label" in record and "offense" not in record else "gold"


def read_annotations(path: str | Path, label_set: LabelSet, fmt: str = "auto") -> GoldFile:
    """Read one annotation file in any supported format; bad records become problems naming file:record."""
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "gold":
        return read_gold_jsonl(path, label_set)
    if fmt == "doccano":
        return collect_cases(path, label_set, _doccano_records(path))
    if fmt == "labelstudio":
        return collect_cases(path, label_set, _label_studio_records(path))
    raise AnnotationError(f"unknown annotation format {fmt!r}; known: {list(FORMATS)}")


def write_annotations(cases: list[GoldCase], path: str | Path, fmt: str) -> int:
    """Write cases in ``fmt``; returns the count."""
    if fmt == "gold":
        return write_gold_jsonl(cases, path)
    if fmt == "doccano":
        lines = [json.dumps(_to_doccano(c), ensure_ascii=False) for c in cases]
        Path(path).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return len(lines)
    if fmt == "labelstudio":
        tasks = [_to_label_studio(c, i) for i, c in enumerate(cases, start=1)]
        Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
        return len(tasks)
    raise AnnotationError(f"unknown annotation format {fmt!r}; known: {list(FORMATS)}")


def _doccano_records(path: Path) -> Iterable[tuple[str, object]]:
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise AnnotationError(f"malformed JSON at {where}: {err.msg}") from err
        labels = raw.get("label") or []
        record = {
            "doc": raw.get("doc", ""),
            "text": raw.get("text"),
            "penalties": [],
            "fine_amounts": raw.get("fine_amounts", []),
        }
        for label in labels:
            kind, _, value = str(label).partition(":")
            if kind == "penalty":
                record["penalties"].append(value)
            elif kind in ("offense", "party"):
                record[kind] = value
            elif kind == "complete":
                record["complete"] = value == "true"
            else:
                record.setdefault("offense", "")
                yield where, f"label {label!r} needs a prefix offense:/penalty:/party:"
        yield where, record


def _label_studio_records(path: Path) -> Iterable[tuple[str, object]]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as err:
        raise AnnotationError(f"malformed JSON in {path}: {err.msg} (line {err.lineno})") from err
    for number, task in enumerate(tasks, start=1):
        where = f"{path}:task {task.get('id', number) if isinstance(task, dict) else number}"
        annotations = task.get("annotations") or task.get("completions") or [] if isinstance(task, dict) else []
        if not annotations:
            yield where, f"task has no annotation at {where}"
            continue
        data = task.get("data", {})
        record: dict = {"doc": data.get("doc", ""), "text": data.get("text"), "penalties": [], "fine_amounts": []}
        for result in annotations[-1].get("result", []):  # the latest annotation wins
            name, value = result.get("from_name"), result.get("value", {})
            if name == "fine_amounts":
                record["fine_amounts"] = [int(x) for t in value.get("text", []) for x in str(t).split() if x.isdigit()]
            elif name == "penalties":
                record["penalties"] = list(value.get("choices", []))
            elif name in ("offense", "party"):
                record[name] = (value.get("choices") or [""])[0]
            elif name == "complete":
                record["complete"] = (value.get("choices") or ["true"])[0] == "true"
        yield where, record


def _to_doccano(case: GoldCase) -> dict:
    labels = [f"offense:{case.offense}", *(f"penalty:{p}" for p in case.penalties), f"party:{case.party}"]
    labels.append(f"complete:{str(case.complete).lower()}")
    return {"doc": case.doc, "text": case.text, "label": labels, "fine_amounts": list(case.fine_amounts)}


def _to_label_studio(case: GoldCase, task_id: int) -> dict:
    def choice(name: str, values: list[str]) -> dict:
        return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": values}}

    result = [
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
    return {"id": task_id, "data": {"text": case.text, "doc": case.doc}, "annotations": [{"result": result}]}


def resolve_annotation_paths(specs: Iterable[str]) -> list[Path]:
    """Expand ``corpus`` (the built authored corpus), directories (every .jsonl/.json inside, recursively) and files.

    Raises:
        AnnotationError: a path does not exist or a directory holds no annotation file.
    """
    from data.corpus import BUILD_DIR

    paths: list[Path] = []
    for spec in specs:
        path = BUILD_DIR if spec == "corpus" else Path(spec)
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
