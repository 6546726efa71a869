"""Tune the rule-fusion weights (models/fusion.py) on validation data only."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from data.labels import LabelSet
from data.types import GoldCase, LabelScores
from eval.metrics import offense_macro_f1
from models.fusion import TASKS, blend

_GRID = np.round(np.arange(0.0, 1.01, 0.1), 2)


def tune_fusion(
    gold: list[GoldCase], learned: list[LabelScores], rules: list[LabelScores], label_set: LabelSet
) -> dict[str, float]:
    """Per task, the model weight with the best validation score (offense macro-F1, penalty micro-F1 at 0.5, party
    accuracy).

    Ties go to the smaller model weight: a tie says the model adds nothing on validation (real units when training
    had some, else authored text like the training data), while the rules' cue words are known to carry over to real
    bulletins.
    """
    weights = {}
    for task in TASKS:
        best = max(_GRID, key=lambda w: (round(_score(task, gold, learned, rules, label_set, float(w)), 6), -w))
        weights[task] = float(best)
    return weights


def _score(
    task: str,
    gold: list[GoldCase],
    learned: list[LabelScores],
    rules: list[LabelScores],
    label_set: LabelSet,
    w: float,
) -> float:
    mixed = [blend(a, b, {task: w}) for a, b in zip(learned, rules, strict=True)]
    if task == "offense":
        predicted = [max(m.offense, key=m.offense.get) for m in mixed]
        return offense_macro_f1([g.offense for g in gold], predicted, label_set.offenses)  # as penalty evaluate
    if task == "party":
        return accuracy_score([g.party for g in gold], [max(m.party, key=m.party.get) for m in mixed])
    complete = [i for i, g in enumerate(gold) if g.complete]
    truth = np.array([[p in gold[i].penalties for p in label_set.penalties] for i in complete])
    predicted = np.array([[mixed[i].penalties[p] >= 0.5 for p in label_set.penalties] for i in complete])
    return f1_score(truth, predicted, average="micro", zero_division=0)
