"""Confidence of a model's labels: temperature scaling of offense and party probabilities, and the ``needs_review``
band, all fitted on the validation split at training time (training/calibration.py) and stored in ``penalty.yaml``.

Why: a fine-tuned network is over-confident (its offense scores sit near 1 even where it is wrong), and blending with
the rules' constant scores distorts them further, so a raw score cannot tell a user which cases to check. Temperature
scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks") divides the log-probabilities by one fitted
number: the ranking and so the labels never change, only how sure the scores say they are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from data.types import LabelScores


@dataclass(frozen=True)
class Calibration:
    """Temperatures and the uncertain band; the defaults change nothing and flag nothing (rules, older models)."""

    offense_temperature: float = 1.0
    party_temperature: float = 1.0
    offense_margin: float = 0.0  # flag when top1 - top2 of the calibrated offense scores is below this
    penalty_band: float = 0.0  # flag when a penalty score lies within this distance of its threshold

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, record: dict | None) -> Calibration:
        return cls(**{k: float(v) for k, v in (record or {}).items()})

    def apply(self, scores: LabelScores) -> LabelScores:
        """Offense and party probabilities at their temperatures; penalties (independent sigmoids) unchanged."""
        return LabelScores(
            offense=scale_temperature(scores.offense, self.offense_temperature),
            penalties=scores.penalties,
            party=scale_temperature(scores.party, self.party_temperature),
        )

    def needs_review(self, scores: LabelScores, thresholds: dict[str, float], default_threshold: float) -> bool:
        """Whether calibrated ``scores`` fall in the uncertain band: a close offense call or a penalty near its
        threshold."""
        if offense_margin(scores.offense) < self.offense_margin:
            return True
        return any(
            abs(score - thresholds.get(label, default_threshold)) < self.penalty_band
            for label, score in scores.penalties.items()
        )


def scale_temperature(probabilities: dict[str, float], temperature: float) -> dict[str, float]:
    """``softmax(log p / T)``: the same as dividing the logits by ``T`` (a blend with the rules has no logits)."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.clip(np.array(list(probabilities.values()), dtype=float), 1e-12, None)) / temperature
    scaled = np.exp(logits - logits.max())
    scaled /= scaled.sum()
    return dict(zip(probabilities, scaled.tolist(), strict=True))


def offense_margin(probabilities: dict[str, float]) -> float:
    """Top-1 minus top-2 probability: how clearly the winning label won."""
    top = sorted(probabilities.values(), reverse=True)
    return top[0] - (top[1] if len(top) > 1 else 0.0)
