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


def test_fusion_scores_offense_with_the_harness_macro_f1(label_set: LabelSet) -> None:
    # Gold hacking, filing. The rules say hacking twice; the model says hacking, then other (absent from gold).
    # Macro-F1 over the labels present (eval.metrics.present_macro_f1, as penalty evaluate reports it):
    #   rules' vote:  hacking F1 2/3, filing 0        -> 1/3
    #   model's vote: hacking F1 1, filing 0, other 0 -> 1/3   a tie, so the smaller weight, 0.0, is kept.
    # Averaged over all 16 labels instead, the model's vote would win (1/16 > (2/3)/16) from weight 0.5 on.
    gold = [GoldCase("d", "甲", "hacking", ()), GoldCase("e", "乙", "filing", ())]
    learned = [_scores(label_set, "hacking", "individual", 0.9), _scores(label_set, "other", "individual", 0.9)]
    rules = [_scores(label_set, "hacking", "individual", 0.8), _scores(label_set, "hacking", "individual", 0.8)]
    assert tune_fusion(gold, learned, rules, label_set)["offense"] == 0.0


def test_organization_becomes_both_only_when_the_rules_see_a_person_punished_too(label_set: LabelSet) -> None:
    from models.fusion import both_when_rules_see_both

    def party(top: str) -> LabelScores:
        return _scores(label_set, "hacking", top, 0.7)

    organization, individual, both = party("organization"), party("individual"), party("both")
    turned = both_when_rules_see_both(organization, both)
    assert max(turned.party, key=turned.party.get) == "both"
    assert turned.party["both"] == organization.party["organization"]  # swapped, still a distribution
    assert sum(turned.party.values()) == sum(organization.party.values())
    assert (
        both_when_rules_see_both(individual, both) == individual
    )  # the rules' both is not trusted against individual
    assert both_when_rules_see_both(organization, organization) == organization
