"""The one entry point for labelling: load any model (fine-tuned, TF-IDF, ``rules``), label bulletins or units.

Every labeler returns ``LabelScores``; the Predictor calibrates them (temperatures), applies the model's tuned penalty
thresholds, derives the primary penalty, flags uncertain units for review, and attaches the evidence (statutes, fines,
cue spans) found in the original text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from data.errors import ModelError
from data.evidence import extract_evidence
from data.labels import LabelSet
from data.normalize import normalize
from data.reader import Bulletin, header_end
from data.types import CaseUnit, Evidence, LabelScores, Prediction
from models.calibration import Calibration
from models.fusion import FusedLabeler
from models.rules import RULES, RuleLabeler
from models.segmenters import AUTO, RuleSegmenter, Segmenter, load_segmenter
from models.store import read_meta

logger = logging.getLogger(__name__)
DEFAULT_THRESHOLD = 0.5
# labels.md: other_criminal_measure is used only when no criminal_detention, arrest or sentence is stated.
_SUPERSEDING = ("criminal_detention", "arrest", "sentence")


class Labeler(Protocol):
    model_type: str
    label_set: LabelSet

    def score_texts(self, texts: list[str]) -> list[LabelScores]: ...


class Predictor:
    """Labels case units with one labeler; thresholds and calibration come from the model directory."""

    def __init__(
        self,
        labeler: Labeler,
        thresholds: dict[str, float] | None = None,
        name: str = "",
        calibration: Calibration | None = None,
    ) -> None:
        self.labeler = labeler
        self.label_set = labeler.label_set
        self.thresholds = thresholds or {}
        self.name = name or labeler.model_type
        self.calibration = calibration or Calibration()
        self.segmenter: Segmenter = RuleSegmenter()  # from_pretrained picks the trained one ("auto")

    @property
    def probabilities(self) -> bool:
        """Whether the scores are probabilities worth showing as a confidence.

        The rule labeler's are not: its offense score is a softmax over cue weights and its penalty scores are the
        constants 0.95 / 0.05 (cue found or not), so a "95%" would claim a certainty nobody measured. The web page and
        ``--readable`` leave the scores out for it; the JSONL, CSV and XLSX fields stay, for programs.
        """
        return getattr(self.labeler, "model_type", None) != RULES

    @classmethod
    def from_pretrained(
        cls, model: str | Path, label_set: LabelSet | None = None, *, threads: int = 0, segmenter: str = AUTO
    ) -> Predictor:
        """``rules`` or a model directory written by ``penalty train`` or ``penalty export``.

        Args:
            model: ``"rules"`` or a path.
            label_set: only for ``rules`` (a model directory carries its own).
            threads: intra-op threads of an ONNX session (0: PyTorch's count, which follows ``OMP_NUM_THREADS``).
                PyTorch's own count is process-wide; set it with ``torch.set_num_threads``.
            segmenter: ``auto`` (the model directory's trained segmenter, else the default one, else the rules),
                ``rules`` or a segmenter directory (``models.segmenters``).

        Raises:
            ModelError: missing, incomplete or corrupt model or segmenter directory.
        """
        if str(model) == RULES:
            predictor = cls(RuleLabeler(label_set or LabelSet.load()), name=RULES)
            predictor.segmenter = load_segmenter(segmenter)
            return predictor
        meta, model_labels = read_meta(model)
        predictor = cls._load_model_dir(Path(model), meta, model_labels, threads)
        if meta.get("rule_fusion"):
            predictor.labeler = FusedLabeler(predictor.labeler, meta["rule_fusion"], meta.get("rule_rates"))
        predictor.calibration = Calibration.from_dict(meta.get("calibration"))
        predictor.segmenter = load_segmenter(segmenter, model)
        return predictor

    @classmethod
    def _load_model_dir(cls, model_dir: Path, meta: dict, model_labels: LabelSet, threads: int) -> Predictor:
        model = str(model_dir)
        thresholds = meta.get("penalty_thresholds") or {}
        if meta["model_type"] == "tfidf":
            from models.tfidf import TfidfLabeler

            return cls(TfidfLabeler.load(model_dir, model_labels), thresholds, name=str(model))
        if meta["model_type"] == "bert":
            from models.bert_labeler import BertLabeler

            windows = meta.get("windows", {})
            max_length, stride = windows.get("max_length", 256), windows.get("stride", 64)
            labeler = BertLabeler.load(model_dir, model_labels, max_length, stride)
            return cls(labeler, thresholds, name=str(model))
        if meta["model_type"] == "onnx":
            from models.onnx_labeler import OnnxLabeler

            windows = meta.get("windows", {})
            max_length, stride = windows.get("max_length", 256), windows.get("stride", 64)
            labeler = OnnxLabeler.load(model_dir, model_labels, max_length, stride, threads=threads)
            return cls(labeler, thresholds, name=str(model))
        raise ModelError(f"{model}: unknown model_type {meta['model_type']!r} in penalty.yaml")

    def predict_units(self, texts: Sequence[str], source: str = "") -> list[Prediction]:
        """Label case-unit texts directly (no segmentation); offsets are within each text."""
        units = [CaseUnit(source, i, 0, len(t), t) for i, t in enumerate(texts, start=1)]
        return self.label_units(units)

    def predict_bulletin(self, text: str, source: str = "") -> list[Prediction]:
        """Segment a bulletin's text and label each case unit; offsets point into ``text``."""
        return self.predict_bulletins([Bulletin(source=source, text=text, body_start=header_end(text))])[0]

    def predict_bulletins(self, bulletins: Iterable[Bulletin]) -> list[list[Prediction]]:
        """Segment and label several bulletins in one batch (faster than one at a time)."""
        return [[prediction for prediction, _ in units] for units in self.score_bulletins(bulletins)]

    def score_bulletins(self, bulletins: Iterable[Bulletin]) -> list[list[tuple[Prediction, LabelScores]]]:
        """``predict_bulletins`` with the calibrated scores behind each label (``score_units``), per bulletin."""
        per_bulletin = self.segmenter.segment_many([(b.text, b.source, b.body_start) for b in bulletins])
        flat = self.score_units([u for units in per_bulletin for u in units])
        out, cursor = [], 0
        for units in per_bulletin:
            out.append(flat[cursor : cursor + len(units)])
            cursor += len(units)
        return out

    def label_units(self, units: list[CaseUnit]) -> list[Prediction]:
        """Label segmented units, keeping their order and offsets."""
        return [prediction for prediction, _ in self.score_units(units)]

    def score_units(self, units: list[CaseUnit]) -> list[tuple[Prediction, LabelScores]]:
        """Label segmented units and keep the calibrated scores behind each label.

        Why: a ``Prediction`` keeps only the winning offense's score; uncertainty sampling (``penalty annotate``)
        needs the runner-up too, and scoring the units a second time would double the cost of a large crawl.
        """
        raw = self.labeler.score_texts([u.text for u in units]) if units else []
        scored = [self.calibration.apply(score) for score in raw]
        return [(self._prediction(unit, score), score) for unit, score in zip(units, scored, strict=True)]

    def record(self, prediction: Prediction, lang: str) -> dict:
        """The output record of one prediction: ``Prediction.to_dict()`` (identifiers, what programs read) plus
        ``offense_name``, ``penalty_names``, ``primary_penalty_name`` and ``party_name`` in ``lang`` (what analysts
        read; ``LabelSet.display``).
        """
        names = self.label_set
        return prediction.to_dict() | {
            "offense_name": names.display("offense", prediction.offense, lang),
            "penalty_names": [names.display("penalty", p, lang) for p in prediction.penalties],
            "primary_penalty_name": names.display("penalty", prediction.primary_penalty, lang),
            "party_name": names.display("party", prediction.party, lang),
        }

    def decide_penalties(self, scores: dict[str, float]) -> tuple[str, ...]:
        """Penalties whose score reaches the label's threshold, in label-set order."""
        chosen = [p for p, s in scores.items() if s >= self.thresholds.get(p, DEFAULT_THRESHOLD)]
        if any(p in chosen for p in _SUPERSEDING):
            chosen = [p for p in chosen if p != "other_criminal_measure"]
        return tuple(p for p in self.label_set.penalties if p in chosen)

    def _prediction(self, unit: CaseUnit, scores: LabelScores) -> Prediction:
        """The labels of one unit from its calibrated ``scores``."""
        offense = max(scores.offense, key=scores.offense.get)
        party = max(scores.party, key=scores.party.get)
        penalties = self.decide_penalties(scores.penalties)
        return Prediction(
            unit=unit,
            offense=offense,
            offense_score=scores.offense[offense],
            penalties=penalties,
            penalty_scores=scores.penalties,
            primary_penalty=self.label_set.primary_penalty(penalties),
            party=party,
            party_score=scores.party[party],
            needs_review=self.calibration.needs_review(scores, self.thresholds, DEFAULT_THRESHOLD),
            evidence=_evidence(unit, self.label_set),
        )


def _evidence(unit: CaseUnit, label_set: LabelSet) -> Evidence:
    """Evidence found in the normalised text, with cue offsets mapped back into the original bulletin."""
    normalised = normalize(unit.text)
    found = extract_evidence(normalised.text, label_set)
    cues = []
    for label, cue, start, end in found.cues:
        original_start, original_end = normalised.to_original(start, end)
        cues.append((label, cue, unit.start + original_start, unit.start + original_end))
    return Evidence(statutes=found.statutes, fine_amounts=found.fine_amounts, cues=tuple(cues))
