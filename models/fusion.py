"""Blend a learned labeler's probabilities with the rule baseline's: ``w * model + (1 - w) * rules`` per task.

Why: the rules read statutes and disposal words that a model trained on a few thousand authored units can miss on real
text, while the model reads conduct the cue lists never name. The weights are tuned on the validation split at
training time (never on evaluation data) and stored in ``penalty.yaml``; ``w = 1`` is the model alone.

The rules' penalty scores are constants (0.95 when a cue fires, else 0.05), so any blend with ``w`` below about 0.45
is the rules' vote. Where real annotated units were trained on, each penalty's constants are replaced by the rates
seen there (``rule_rates``: how often the penalty is gold when its cue fires and when it does not): a cue that is
often wrong on real text then scores lower and the network can outvote it, a reliable cue keeps its say.
"""

from __future__ import annotations

from dataclasses import replace

from data.labels import LabelSet
from data.types import LabelScores
from models.rules import RuleLabeler

TASKS = ("offense", "penalties", "party")


def blend(model: LabelScores, rules: LabelScores, weights: dict[str, float]) -> LabelScores:
    """The per-task weighted average of two score sets over the same labels."""

    def mix(task: str, a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
        w = weights.get(task, 1.0)
        return {label: w * a[label] + (1 - w) * b[label] for label in a}

    return LabelScores(
        offense=mix("offense", model.offense, rules.offense),
        penalties=mix("penalties", model.penalties, rules.penalties),
        party=mix("party", model.party, rules.party),
    )


def rate_rules(rules: LabelScores, rates: dict[str, list[float]]) -> LabelScores:
    """The rules' scores with each rated penalty's constant replaced by its rate: ``rates[label]`` is
    ``[P(gold | no cue), P(gold | cue fired)]``; unrated labels keep their constants."""
    penalties = {
        label: rates[label][score >= 0.5] if label in rates else score for label, score in rules.penalties.items()
    }
    return LabelScores(offense=rules.offense, penalties=penalties, party=rules.party)


class FusedLabeler:
    """A labeler whose scores are blended with the rule baseline's; behaves like the labeler it wraps."""

    def __init__(self, labeler, weights: dict[str, float], rule_rates: dict[str, list[float]] | None = None) -> None:
        self.labeler = labeler
        self.label_set: LabelSet = labeler.label_set
        self.model_type = labeler.model_type
        self.weights = weights
        self.rule_rates = rule_rates or {}
        self.rules = RuleLabeler(self.label_set)

    def score_texts(self, texts: list[str]) -> list[LabelScores]:
        learned = self.labeler.score_texts(texts)
        rules = [rate_rules(r, self.rule_rates) for r in self.rules.score_texts(texts)]
        return [both_when_rules_see_both(blend(a, b, self.weights), b) for a, b in zip(learned, rules, strict=True)]


def both_when_rules_see_both(mixed: LabelScores, rules: LabelScores) -> LabelScores:
    """``mixed`` with its ``organization`` and ``both`` party scores swapped when it picks ``organization`` and the
    rules pick ``both``.

    Why (labels.md: ``both`` when a unit and a person are each punished): the learned party reads that a unit was
    punished, but a blend cannot express "organization, and a person fined beside it", which the rules' pattern finds
    (主管人员 / 责任人 / 负责人 fined, detained or warned). In grouped CV on real-train, where the model said
    organization and the rules both, gold was both in 7 of 9 units; where the model said individual, the rules' both
    was wrong every time, so only organization is turned.
    """
    party = mixed.party
    if not {"both", "organization"} <= party.keys() or max(rules.party, key=rules.party.get) != "both":
        return mixed
    if max(party, key=party.get) != "organization":
        return mixed
    return replace(mixed, party=party | {"both": party["organization"], "organization": party["both"]})
