"""Which case units two models label differently, and, where gold is known, whether each change is a fix or a
regression: what an analyst checks after retraining on corrections (``penalty compare --model OLD --model NEW``).

Both models label the same units, so only labels differ: the gold units of annotated data (annotated directories,
annotation files, ``corpus``), or, for bulletins without gold, the units the OLD model's segmenter finds. A changed
field is a **fix** when NEW gets it right and OLD did not, a **regression** the other way round, **still wrong** when
neither matches gold; penalties are judged on ``complete`` gold units only, as in ``eval.metrics`` (else
**unknown**). A unit is a fix when its changes hold fixes and no regression, a regression the other way round,
**mixed** when they hold both. Predictions come from the predictors passed in (``PredictorLike``); this module never
loads a model.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from data.corpus import data_path
from data.inputs import InputFailure, read_inputs
from data.labels import LabelSet
from data.reader import Bulletin
from data.types import GoldCase, Prediction
from eval.evalset import load_eval_set
from eval.harness import PredictorLike, check_label_set

logger = logging.getLogger(__name__)

FIELDS = ("offense", "penalties", "party")
FIX, REGRESSION, MIXED, STILL_WRONG, UNKNOWN, NO_GOLD = (
    "fix",
    "regression",
    "mixed",
    "still wrong",
    "unknown",
    "no gold",
)
VERDICTS = (FIX, REGRESSION, MIXED, STILL_WRONG, UNKNOWN, NO_GOLD)
# The columns of a change record (JSONL keys, CSV/XLSX header), flat so one shape serves every output format.
CHANGE_COLUMNS = [
    "doc",
    "start",
    "end",
    "verdict",
    "changed",
    *(f"{name}_{side}" for name in FIELDS for side in ("old", "new", "gold", "verdict")),
    "text",
]
_ANNOTATION_SUFFIXES = (".jsonl", ".json")
_BATCH = 32  # bulletins segmented per call, so a crawl is never held in memory at once


@dataclass(frozen=True)
class ComparedUnit:
    """A unit both models label: its bulletin, offsets when known, and its gold labels when known."""

    doc: str
    text: str
    start: int | None = None
    end: int | None = None
    gold: GoldCase | None = None


@dataclass(frozen=True)
class UnitChange:
    """A unit whose offense, penalties or party differ between OLD and NEW, with a verdict per changed field."""

    unit: ComparedUnit
    old: Prediction
    new: Prediction
    verdicts: dict[str, str]  # changed field -> fix / regression / still wrong / unknown / no gold
    verdict: str

    def to_record(self) -> dict:
        """The flat record of ``CHANGE_COLUMNS``: per field the OLD, NEW and gold labels and the field's verdict."""
        gold = self.unit.gold
        record: dict = {
            "doc": self.unit.doc,
            "start": self.unit.start,
            "end": self.unit.end,
            "verdict": self.verdict,
            "changed": list(self.verdicts),
        }
        for name in FIELDS:
            record[f"{name}_old"] = _value(self.old, name)
            record[f"{name}_new"] = _value(self.new, name)
            record[f"{name}_gold"] = _value(gold, name) if gold is not None else None
            record[f"{name}_verdict"] = self.verdicts.get(name)
        return record | {"text": self.unit.text}


@dataclass
class Comparison:
    """The changed units of one OLD/NEW comparison and what was compared."""

    old: str
    new: str
    n_units: int = 0
    n_gold: int = 0
    changes: list[UnitChange] = field(default_factory=list)
    failed: list[InputFailure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # gold records left out (file:line)

    def summary(self) -> dict:
        """Counts: units compared (with gold), changed units per verdict, and per field changed/fixes/regressions."""
        verdicts = Counter(change.verdict for change in self.changes)
        by_field = {
            name: {
                "changed": sum(name in c.verdicts for c in self.changes),
                FIX: sum(c.verdicts.get(name) == FIX for c in self.changes),
                REGRESSION: sum(c.verdicts.get(name) == REGRESSION for c in self.changes),
            }
            for name in FIELDS
        }
        return {
            "old": self.old,
            "new": self.new,
            "units": self.n_units,
            "units_with_gold": self.n_gold,
            "changed": len(self.changes),
            **{verdict: verdicts[verdict] for verdict in VERDICTS},
            "by_field": by_field,
            "failed_inputs": len(self.failed),
            "gold_problems": len(self.problems),
        }

    def describe(self) -> str:
        """The summary line: ``12 unit(s) compared (10 with gold): 3 changed: 2 fix(es), 1 regression(s), …``."""
        s = self.summary()
        fields = "; ".join(
            f"{name} {f['changed']} changed ({f[FIX]} fixed, {f[REGRESSION]} regressed)"
            for name, f in s["by_field"].items()
        )
        return (
            f"{self.old} -> {self.new}: {s['units']} unit(s) compared ({s['units_with_gold']} with gold): "
            f"{s['changed']} changed: {s[FIX]} fix(es), {s[REGRESSION]} regression(s), {s[MIXED]} mixed, "
            f"{s[STILL_WRONG]} still wrong, {s[UNKNOWN]} unknown, {s[NO_GOLD]} without gold; {fields}"
            + (f"; {s['failed_inputs']} input(s) failed" if self.failed else "")
        )


def compare_units(
    units: Sequence[ComparedUnit], old: Sequence[Prediction], new: Sequence[Prediction]
) -> list[UnitChange]:
    """The units whose offense, penalties (as a set) or party differ between ``old`` and ``new``, in unit order.

    Raises:
        ValueError: the three sequences differ in length.
    """
    if not len(units) == len(old) == len(new):
        raise ValueError(f"{len(units)} units but {len(old)} OLD and {len(new)} NEW predictions")
    changes = []
    for unit, before, after in zip(units, old, new, strict=True):
        changed = [name for name in FIELDS if _comparable(before, name) != _comparable(after, name)]
        if not changed:
            continue
        verdicts = {name: _field_verdict(name, before, after, unit.gold) for name in changed}
        changes.append(UnitChange(unit, before, after, verdicts, _unit_verdict(verdicts.values())))
    return changes


def compare_predictors(
    old: PredictorLike,
    new: PredictorLike,
    specs: Iterable[str],
    label_set: LabelSet,
    names: tuple[str, str] | None = None,
) -> Comparison:
    """Label the same units with both predictors and list the changes.

    Args:
        old: the model before (its segmenter finds the units of bulletins without gold).
        new: the model after.
        specs: annotated directories, annotation files (or directories of them) and ``corpus`` give gold units;
            bulletin files and directories without annotation files give the units OLD finds.
        label_set: the label set of the gold data; both predictors must use it.
        names: how the two models are named in the summary (default: the predictors' names).

    Raises:
        ModelError: a predictor uses another label set.
        PenaltyError: gold data cannot be read or holds no unit (as for ``penalty evaluate``).
    """
    old_name, new_name = names or (old.name, new.name)
    check_label_set(old_name, old, label_set)
    check_label_set(new_name, new, label_set)
    specs = list(specs)
    gold_specs = [spec for spec in specs if _is_gold_spec(spec)]
    comparison = Comparison(old_name, new_name)
    units: list[ComparedUnit] = []
    old_predictions: list[Prediction] = []
    if gold_specs:
        evalset = load_eval_set(gold_specs, label_set)
        comparison.problems = evalset.problems
        units += gold_units(evalset.bulletins, evalset.cases)
        old_predictions += old.predict_units([unit.text for unit in units])
    for item in _bulletin_units(old, [spec for spec in specs if spec not in gold_specs], comparison.failed):
        units.append(ComparedUnit(item.unit.source, item.unit.text, item.unit.start, item.unit.end))
        old_predictions.append(item)
    new_predictions = new.predict_units([unit.text for unit in units])
    comparison.n_units, comparison.n_gold = len(units), sum(unit.gold is not None for unit in units)
    comparison.changes = compare_units(units, old_predictions, new_predictions)
    return comparison


def gold_units(bulletins: Sequence, cases: Sequence[GoldCase]) -> list[ComparedUnit]:
    """An evaluation set's gold units: its annotated bulletins' cases with their offsets, then those of annotation
    files (``eval.evalset.EvalSet`` lists them in that order)."""
    units = [
        ComparedUnit(case.doc, case.text, start, end, case)
        for annotated in bulletins
        for case, (start, end) in zip(annotated.cases, annotated.spans, strict=True)
    ]
    return units + [ComparedUnit(case.doc, case.text, gold=case) for case in cases[len(units) :]]


def _bulletin_units(old: PredictorLike, specs: list[str], failed: list[InputFailure]) -> Iterator[Prediction]:
    """OLD's predictions for the units it finds in bulletins, read in batches; unreadable inputs go to ``failed``."""
    if not specs:
        return
    batch: list[Bulletin] = []
    for item in read_inputs(specs):
        if isinstance(item, InputFailure):
            failed.append(item)
            continue
        batch.append(item)
        if len(batch) == _BATCH:
            yield from (p for units in old.predict_bulletins(batch) for p in units)
            batch = []
    if batch:
        yield from (p for units in old.predict_bulletins(batch) for p in units)


def _is_gold_spec(spec: str) -> bool:
    """Annotation data (``corpus``, an annotation file, a directory holding one) rather than bulletins to segment."""
    path = data_path(spec)
    if path.is_dir():
        return any(p.suffix in _ANNOTATION_SUFFIXES for p in path.rglob("*"))
    return path.suffix.lower() in _ANNOTATION_SUFFIXES


def _value(labels: Prediction | GoldCase, name: str) -> object:
    value = getattr(labels, name)
    return list(value) if name == "penalties" else value


def _comparable(labels: Prediction | GoldCase, name: str) -> object:
    value = getattr(labels, name)
    return frozenset(value) if name == "penalties" else value


def _field_verdict(name: str, old: Prediction, new: Prediction, gold: GoldCase | None) -> str:
    if gold is None:
        return NO_GOLD
    if name == "penalties" and not gold.complete:  # the gold unit does not list every penalty (spec: 'complete')
        return UNKNOWN
    right = _comparable(gold, name)
    was_right, is_right = _comparable(old, name) == right, _comparable(new, name) == right
    if is_right and not was_right:
        return FIX
    if was_right and not is_right:
        return REGRESSION
    return STILL_WRONG


def _unit_verdict(verdicts: Iterable[str]) -> str:
    found = set(verdicts)
    if FIX in found and REGRESSION in found:
        return MIXED
    for verdict in (FIX, REGRESSION, NO_GOLD, STILL_WRONG):
        if verdict in found:
            return verdict
    return UNKNOWN
