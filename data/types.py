"""Typed records passed between packages; each has ``to_dict``/``from_dict`` for JSON Lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from data.errors import AnnotationError
from data.labels import LabelSet


@dataclass(frozen=True)
class CaseUnit:
    """One case of a bulletin: ``text == bulletin_text[start:end]`` in the original decoded text."""

    source: str
    index: int
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return {"source": self.source, "case": self.index, "start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class GoldCase:
    """One line of the gold JSONL format (spec: 'Record format')."""

    doc: str
    text: str
    offense: str
    penalties: tuple[str, ...]
    fine_amounts: tuple[int, ...] = ()
    party: str = "organization"
    complete: bool = True
    meta: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        record = {
            "doc": self.doc,
            "text": self.text,
            "offense": self.offense,
            "penalties": list(self.penalties),
            "fine_amounts": list(self.fine_amounts),
            "party": self.party,
            "complete": self.complete,
        }
        return record | self.meta

    @classmethod
    def from_dict(cls, record: object, label_set: LabelSet, where: str) -> GoldCase:
        """Validate one record against the label set.

        Raises:
            AnnotationError: naming ``where`` (file:line), the field and what was expected.
        """
        if not isinstance(record, dict):
            raise AnnotationError(f"expected a JSON object at {where}, found {type(record).__name__}")
        for key in ("text", "offense"):
            if not isinstance(record.get(key), str) or not record[key]:
                raise AnnotationError(f"missing or empty '{key}' at {where}")
        penalties = record.get("penalties", [])
        fines = record.get("fine_amounts", [])
        if not isinstance(penalties, list) or not all(isinstance(p, str) for p in penalties):
            raise AnnotationError(f"'penalties' must be a list of strings at {where}, found {penalties!r}")
        if not isinstance(fines, list) or not all(isinstance(f, int) and not isinstance(f, bool) for f in fines):
            raise AnnotationError(f"'fine_amounts' must be a list of integers (yuan) at {where}, found {fines!r}")
        if any(f < 0 for f in fines):
            raise AnnotationError(f"'fine_amounts' must not be negative at {where}, found {fines!r}")
        complete = record.get("complete", True)
        if not isinstance(complete, bool):  # bool("false") is True: a quoted value would silently mean the opposite
            raise AnnotationError(f"'complete' must be true or false (JSON booleans) at {where}, found {complete!r}")
        party = record.get("party", "organization")
        label_set.check("offense", record["offense"], where)
        for penalty in penalties:
            label_set.check("penalty", penalty, where)
        label_set.check("party", party, where)
        known = {"doc", "text", "offense", "penalties", "fine_amounts", "party", "complete"}
        return cls(
            doc=str(record.get("doc", "")),
            text=record["text"],
            offense=record["offense"],
            penalties=tuple(penalties),
            fine_amounts=tuple(fines),
            party=party,
            complete=complete,
            meta={k: v for k, v in record.items() if k not in known},
        )


@dataclass(frozen=True)
class Evidence:
    """What the text itself says: cited statutes, fines in yuan and the cue words found, with offsets in the unit."""

    statutes: tuple[str, ...] = ()
    fine_amounts: tuple[int, ...] = ()
    cues: tuple[tuple[str, str, int, int], ...] = ()  # (label, cue, start, end)


@dataclass(frozen=True)
class Prediction:
    """Labels for one case unit, with scores and the evidence that supports them."""

    unit: CaseUnit
    offense: str
    offense_score: float
    penalties: tuple[str, ...]
    penalty_scores: dict[str, float]
    primary_penalty: str
    party: str
    party_score: float
    needs_review: bool = False  # the model is unsure (models/calibration.py): a person should check this unit
    evidence: Evidence = Evidence()

    def to_dict(self) -> dict:
        return self.unit.to_dict() | {
            "offense": self.offense,
            "offense_score": round(self.offense_score, 4),
            "penalties": list(self.penalties),
            "penalty_scores": {k: round(v, 4) for k, v in self.penalty_scores.items()},
            "primary_penalty": self.primary_penalty,
            "fine_amounts": list(self.evidence.fine_amounts),
            "party": self.party,
            "party_score": round(self.party_score, 4),
            "needs_review": self.needs_review,
            "statutes": list(self.evidence.statutes),
            "cues": [{"label": c[0], "cue": c[1], "start": c[2], "end": c[3]} for c in self.evidence.cues],
        }


@dataclass(frozen=True)
class LabelScores:
    """A labeler's probabilities for one case unit; every model returns these, the Predictor turns them into labels."""

    offense: dict[str, float]
    penalties: dict[str, float]
    party: dict[str, float]

    @classmethod
    def from_rows(
        cls, label_set: LabelSet, offense: list[float], penalties: list[float], party: list[float]
    ) -> LabelScores:
        """Scores from probability rows ordered as the label set's labels."""
        return cls(
            offense=dict(zip(label_set.offenses, offense, strict=True)),
            penalties=dict(zip(label_set.penalties, penalties, strict=True)),
            party=dict(zip(label_set.parties, party, strict=True)),
        )
