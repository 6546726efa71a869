"""Fit the confidence side of a model on held-apart data: the rules' penalty rates (models/fusion.py) on the real
training units, temperatures and the ``needs_review`` band (models/calibration.py) on validation."""

from __future__ import annotations

import numpy as np

from data.types import GoldCase, LabelScores
from models.calibration import Calibration, offense_margin, scale_temperature
from models.predictor import DEFAULT_THRESHOLD, Predictor

_TEMPERATURES = np.round(np.exp(np.linspace(np.log(0.25), np.log(8.0), 71)), 4)
_MARGINS = np.round(np.arange(0.0, 0.51, 0.05), 2)
_PENALTY_BANDS = np.round(np.arange(0.0, 0.41, 0.05), 2)
# Rule rates are shrunk towards the rules' constants by this many pseudo-units: a cue seen firing twice keeps most of
# its 0.95, one seen fifty times gets its own rate.
_RATE_PRIOR = 4.0


def fit_rule_rates(cases: list[GoldCase], rules: list[LabelScores]) -> dict[str, list[float]]:
    """Per penalty, ``[P(gold | no cue), P(gold | cue fired)]`` of the rule labeler on ``cases`` (complete units),
    shrunk towards its constants (0.05, 0.95) so that a cue rarely seen keeps the rules' vote.

    Fit on the real training units: the rules were not fitted to them, and validation stays free for fusion weights.
    """
    complete = [(g, r) for g, r in zip(cases, rules, strict=True) if g.complete]
    if not complete:
        return {}
    rates = {}
    for label in complete[0][1].penalties:
        fired = np.array([r.penalties[label] >= 0.5 for _, r in complete])
        gold = np.array([label in g.penalties for g, _ in complete])
        rates[label] = [
            round(float((gold[fired == on].sum() + _RATE_PRIOR * prior) / ((fired == on).sum() + _RATE_PRIOR)), 4)
            for on, prior in ((False, 0.05), (True, 0.95))
        ]
    return rates


def fit_calibration(
    gold: list[GoldCase],
    scores: list[LabelScores],
    predictor: Predictor,
    review_accuracy: float,
    review_max_share: float,
) -> Calibration:
    """Temperatures minimising validation log-loss, then the uncertain band (offense margin, penalty distance from
    threshold) that flags the fewest validation units while the unflagged ones reach ``review_accuracy`` (offense and
    penalty set right), flagging at most ``review_max_share``; where no band reaches the target within that share,
    the one whose unflagged units are most often right.

    ``scores`` are the model's final (fused) scores; ``predictor`` gives the tuned thresholds and penalty decisions.
    Why both knobs in one search: a unit is useful to check when any of its labels may be wrong, and a flag on most
    units (what a target alone gives a weak model) tells a user nothing.
    """
    offense_t = _fit_temperature([s.offense for s in scores], [g.offense for g in gold])
    party_t = _fit_temperature([s.party for s in scores], [g.party for g in gold])
    calibrated = [Calibration(offense_t, party_t).apply(s) for s in scores]
    margins = np.array([offense_margin(s.offense) for s in calibrated])
    distances = np.array([_threshold_distance(s.penalties, predictor) for s in calibrated])
    right = np.array(
        [
            max(s.offense, key=s.offense.get) == g.offense
            and (not g.complete or set(predictor.decide_penalties(s.penalties)) == set(g.penalties))
            for g, s in zip(gold, calibrated, strict=True)
        ],
        dtype=bool,
    )
    if not len(right):
        return Calibration(offense_t, party_t)
    candidates = []
    for margin in _MARGINS:
        for band in _PENALTY_BANDS:
            flagged = (margins < margin) | (distances < band)
            share = float(flagged.mean())
            accuracy = float(right[~flagged].mean()) if (~flagged).any() else 1.0
            if share <= review_max_share:
                candidates.append((accuracy >= review_accuracy, share, accuracy, float(margin), float(band)))
    reached = [c for c in candidates if c[0]]
    best = min(reached, key=lambda c: (c[1], -c[2])) if reached else min(candidates, key=lambda c: (-c[2], c[1]))
    return Calibration(offense_t, party_t, best[3], best[4])


def _threshold_distance(penalties: dict[str, float], predictor: Predictor) -> float:
    """How far the penalty score closest to its threshold lies from it."""
    return min((abs(v - predictor.thresholds.get(p, DEFAULT_THRESHOLD)) for p, v in penalties.items()), default=1.0)


def _fit_temperature(probabilities: list[dict[str, float]], gold: list[str]) -> float:
    """The grid temperature with the lowest negative log-likelihood of the gold labels (1.0 without data)."""
    if not probabilities:
        return 1.0

    def nll(temperature: float) -> float:
        return -float(
            np.mean(
                [
                    np.log(max(scale_temperature(p, temperature)[g], 1e-12))
                    for p, g in zip(probabilities, gold, strict=True)
                ]
            )
        )

    losses = [nll(float(t)) for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])
