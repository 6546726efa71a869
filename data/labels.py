"""The label set: offense labels, penalty labels in severity order, party values and their cue words.

Labels always come from a YAML file (default: ``data/labels.yaml``, mirroring the spec) so users can swap in their own.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from data.errors import AnnotationError, PenaltyError

DEFAULT_LABEL_SET = Path(__file__).with_name("labels.yaml")
NO_PENALTY = "none"
NO_PENALTY_ZH = "无"  # the primary penalty of a unit without penalties is no label of the set, so it has no zh: line
KINDS = ("offense", "penalty", "party")
# What ``display`` can show: ``zh`` the label set's Chinese names (``zh:`` in the file), ``en`` the identifiers.
LANGS = ("zh", "en")
# Chinese by default, for analysts; a label set without names then shows identifiers, exactly as ``en`` would.
DEFAULT_LANG = "zh"


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
    # kind ("offense", "penalty", "party") -> label -> Chinese name; display only, so not part of equality either
    zh_names: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)

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

        offense, penalty, party = entries("offense"), entries("penalties"), entries("party")
        for key, items in (("offense", offense), ("penalties", penalty), ("party", party)):
            names = [e.get("name") for e in items]
            if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
                raise PenaltyError(f"{origin}: '{key}' names must be unique non-empty strings, found {names}")
            shown = [e["zh"] for e in items if "zh" in e]
            if not all(isinstance(z, str) and z.strip() for z in shown):
                raise PenaltyError(f"{origin}: '{key}' zh names must be non-empty strings, found {shown}")
        return cls(
            name=str(raw.get("name", origin)),
            offenses=tuple(e["name"] for e in offense),
            penalties=tuple(e["name"] for e in penalty),
            parties=tuple(e["name"] for e in party),
            offense_cues={e["name"]: tuple(e.get("cues") or ()) for e in offense},
            penalty_cues={e["name"]: tuple(e.get("cues") or ()) for e in penalty},
            offense_statutes={e["name"]: tuple(e.get("statutes") or ()) for e in offense},
            zh_names={
                kind: {e["name"]: e["zh"].strip() for e in items if "zh" in e}
                for kind, items in zip(KINDS, (offense, penalty, party), strict=True)
            },
        )

    def to_dict(self) -> dict:
        """The YAML mapping that ``from_dict`` reads back; saved with every model, names included."""
        return {
            "name": self.name,
            "offense": [
                self._named("offense", n)
                | {"cues": list(self.offense_cues.get(n, ())), "statutes": list(self.offense_statutes.get(n, ()))}
                for n in self.offenses
            ],
            "penalties": [
                self._named("penalty", n) | {"cues": list(self.penalty_cues.get(n, ()))} for n in self.penalties
            ],
            # a party without a name stays a plain string, as label sets wrote it before names existed
            "party": [self._named("party", n) if n in self.zh_names.get("party", {}) else n for n in self.parties],
        }

    def _named(self, kind: str, label: str) -> dict:
        zh = self.zh_names.get(kind, {}).get(label)
        return {"name": label, "zh": zh} if zh else {"name": label}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")

    @property
    def fingerprint(self) -> str:
        """Identifies the label vocabularies (not the cues, not the names), so a model trained on another set is
        refused while one whose label set only gained names or new cues keeps loading."""
        key = "|".join([",".join(self.offenses), ",".join(self.penalties), ",".join(self.parties)])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def has_names(self) -> bool:
        """Whether any label has a Chinese name (label sets written before names existed have none)."""
        return any(self.zh_names.values())

    def display(self, kind: str, label: str, lang: str) -> str:
        """The name people read for a label: the one way every output and report turns an identifier into text.

        Args:
            kind: ``offense``, ``penalty`` or ``party``.
            label: the identifier (``admin_detention``).
            lang: ``zh`` for the label set's Chinese name (``行政拘留``), ``en`` for the identifier itself.

        Returns:
            The name; the identifier where the label set gives no name in ``lang`` (a user's own label set may have
            none at all), so every label always shows as something.

        Raises:
            ValueError: ``lang`` is not one of ``LANGS`` or ``kind`` not one of ``KINDS``.
        """
        if lang not in LANGS or kind not in KINDS:
            raise ValueError(f"display needs lang in {LANGS} and kind in {KINDS}, found lang={lang!r} kind={kind!r}")
        if lang == "en":
            return label
        if kind == "penalty" and label == NO_PENALTY and label not in self.penalties:
            return NO_PENALTY_ZH
        return self.zh_names.get(kind, {}).get(label, label)

    def with_names_of(self, other: LabelSet) -> LabelSet:
        """This label set, with ``other``'s names when it has none of its own and both have the same labels.

        Why: a model trained before label sets had names stores a ``labels.yaml`` without them; its labels are the
        default set's, so it can show the default names (names never change the fingerprint, see ``fingerprint``).
        """
        if self.has_names or other.fingerprint != self.fingerprint:
            return self
        return dataclasses.replace(self, zh_names=other.zh_names)

    def primary_penalty(self, penalties: object) -> str:
        """The most severe imposed penalty (spec: derived, never annotated); ``none`` for an empty set."""
        chosen = set(penalties)
        return next((p for p in self.penalties if p in chosen), NO_PENALTY)

    def check(self, kind: str, value: str, where: str) -> None:
        """Raise AnnotationError naming ``where`` (file:line) when ``value`` is not a known ``kind`` label."""
        known = {"offense": self.offenses, "penalty": self.penalties, "party": self.parties}[kind]
        if value not in known:
            raise AnnotationError(f"unknown {kind} {value!r} at {where}; known: {list(known)}")
