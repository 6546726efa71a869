"""The label set: offense labels, penalty labels in severity order, party values and their cue words.

Labels always come from a YAML file (default: ``data/labels.yaml``, mirroring the spec) so users can swap in their own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from data.errors import AnnotationError, PenaltyError

DEFAULT_LABEL_SET = Path(__file__).with_name("labels.yaml")
NO_PENALTY = "none"


@dataclass(frozen=True)
class LabelSet:
    """Offense, penalty and party vocabularies; ``penalties`` is ordered most severe first."""

    name: str
    offenses: tuple[str, ...]
    penalties: tuple[str, ...]
    parties: tuple[str, ...]
    offense_cues: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    penalty_cues: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    offense_statutes: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> LabelSet:
        """Read a label-set YAML file.

        Raises:
            PenaltyError: the file is missing, not YAML, or lacks one of the three sections.
        """
        path = Path(path) if path else DEFAULT_LABEL_SET
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise PenaltyError(f"cannot read label set {path}: {err}") from err
        return cls.from_dict(raw, origin=str(path))

    @classmethod
    def from_dict(cls, raw: object, origin: str = "<label set>") -> LabelSet:
        """Build from the parsed YAML mapping (also how a model directory's ``labels.yaml`` is read)."""
        if not isinstance(raw, dict) or not all(k in raw for k in ("offense", "penalties", "party")):
            raise PenaltyError(f"{origin}: a label set needs the keys 'offense', 'penalties' and 'party'")

        def entries(key: str) -> list[dict]:
            items = raw[key]
            if not isinstance(items, list) or not items:
                raise PenaltyError(f"{origin}: '{key}' must be a non-empty list")
            return [item if isinstance(item, dict) else {"name": str(item)} for item in items]

        offense, penalty = entries("offense"), entries("penalties")
        for key, items in (("offense", offense), ("penalties", penalty)):
            names = [e.get("name") for e in items]
            if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
                raise PenaltyError(f"{origin}: '{key}' names must be unique non-empty strings, found {names}")
        return cls(
            name=str(raw.get("name", origin)),
            offenses=tuple(e["name"] for e in offense),
            penalties=tuple(e["name"] for e in penalty),
            parties=tuple(str(p) for p in raw["party"]),
            offense_cues={e["name"]: tuple(e.get("cues") or ()) for e in offense},
            penalty_cues={e["name"]: tuple(e.get("cues") or ()) for e in penalty},
            offense_statutes={e["name"]: tuple(e.get("statutes") or ()) for e in offense},
        )

    def to_dict(self) -> dict:
        """The YAML mapping that ``from_dict`` reads back; saved with every model."""
        return {
            "name": self.name,
            "offense": [
                {
                    "name": n,
                    "cues": list(self.offense_cues.get(n, ())),
                    "statutes": list(self.offense_statutes.get(n, ())),
                }
                for n in self.offenses
            ],
            "penalties": [{"name": n, "cues": list(self.penalty_cues.get(n, ()))} for n in self.penalties],
            "party": list(self.parties),
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")

    @property
    def fingerprint(self) -> str:
        """Identifies the label vocabularies (not the cues), so a model trained on another set is refused."""
        key = "|".join([",".join(self.offenses), ",".join(self.penalties), ",".join(self.parties)])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def primary_penalty(self, penalties: object) -> str:
        """The most severe imposed penalty (spec: derived, never annotated); ``none`` for an empty set."""
        chosen = set(penalties)
        return next((p for p in self.penalties if p in chosen), NO_PENALTY)

    def check(self, kind: str, value: str, where: str) -> None:
        """Raise AnnotationError naming ``where`` (file:line) when ``value`` is not a known ``kind`` label."""
        known = {"offense": self.offenses, "penalty": self.penalties, "party": self.parties}[kind]
        if value not in known:
            raise AnnotationError(f"unknown {kind} {value!r} at {where}; known: {list(known)}")
