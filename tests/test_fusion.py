"""Rule-fusion weights are tuned on validation data; a tie keeps the rules' vote."""

from __future__ import annotations

from data.labels import LabelSet
from data.types import GoldCase, LabelScores
from training.fusion import tune_fusion


def _scores(label_set: LabelSet, offense: str, party: str, confidence: float) -> LabelScores:
    rest = (1 - confidence) / (len(label_set.offenses) - 1)
    party_rest = (1 - confidence) / (len(label_set.parties) - 1)
    return LabelScores(
        offense={label: confidence if label == offense else rest for label in label_set.offenses},
        penalties={label: 0.05 for label in label_set.penalties},
        party={label: confidence if label == party else party_rest for label in label_set.parties},
    )


def test_fusion_tie_keeps_rules_and_a_better_model_wins(label_set: LabelSet) -> None:
    gold = [GoldCase("d", "甲", "hacking", (), party="individual"), GoldCase("e", "乙", "filing", (), party="both")]
    # the model gets every offense right and the rules none; for party both are right: a tie at every weight
    learned = [_scores(label_set, "hacking", "individual", 0.9), _scores(label_set, "filing", "both", 0.9)]
    rules = [_scores(label_set, "other", "individual", 0.8), _scores(label_set, "other", "both", 0.8)]
    weights = tune_fusion(gold, learned, rules, label_set)
    assert weights["party"] == 0.0
    assert weights["offense"] >= 0.5  # the smallest weight at which the model outvotes the rules
