"""A setting tuned on validation replaces its default only when its win holds across bulletin resamples: fusion
weights and penalty thresholds fall back when the win comes from one bulletin, and keep a win spread over many."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from data.labels import LabelSet
from data.types import GoldCase, LabelScores
from eval.bootstrap import paired_win_rate
from training.fusion import tune_fusion
from training.noise import MIN_WIN_RATE
from training.thresholds import tune_thresholds


def test_paired_win_rate_is_the_chance_that_the_winning_bulletin_is_drawn() -> None:
    # Ten bulletins of one row; the candidate beats the default only on bulletin 0. A resample of ten draws misses it
    # with probability 0.9 ** 10, so the candidate wins on 1 - 0.9 ** 10 = 0.651 of resamples (binomial sd over 400
    # resamples: 0.024).
    groups = list(range(10))
    rate = paired_win_rate(lambda rows: float(np.sum(rows == 0)), lambda rows: 0.0, groups, 400, seed=3)
    assert rate == pytest.approx(1 - 0.9**10, abs=0.08)
    assert paired_win_rate(lambda rows: 1.0, lambda rows: 1.0, groups, 50, seed=3) == 0.0  # a tie is no win


def _scores(label_set: LabelSet, fine: float) -> LabelScores:
    uniform = 1 / len(label_set.offenses)
    return LabelScores(
        offense=dict.fromkeys(label_set.offenses, uniform),
        penalties=dict.fromkeys(label_set.penalties, 0.05) | {"fine": fine},
        party=dict.fromkeys(label_set.parties, 1 / len(label_set.parties)),
    )


def _fine_cases(n_bulletins: int) -> list[GoldCase]:
    """One unit per bulletin; every unit was fined."""
    return [GoldCase(f"doc{i}", f"t{i}", "hacking", ("fine",)) for i in range(n_bulletins)]


@pytest.mark.parametrize(("rules_wrong", "expected"), [(1, 0.0), (6, 0.6)])
def test_fusion_keeps_the_rules_unless_the_model_wins_on_many_bulletins(
    label_set: LabelSet, rules_wrong: int, expected: float
) -> None:
    # Twelve fined units in twelve bulletins. The model says fine (0.9) on all; the rules miss the fine on the first
    # `rules_wrong` units (0.05) and find it on the rest (0.95). At weight 0.5 and above the model's vote wins the
    # missed units (0.5*0.9 + 0.5*0.05 = 0.475 < 0.5 at weight 0.5, so 0.6 is where it first wins; the rule's hits
    # stay hits at every weight), so weight 0.6 is best on validation. Missed unit on one bulletin: a resample lacks it
    # with probability (11/12) ** 12 = 0.35, a win rate of 0.65 < 0.9, so the rules' 0.0 stays. Six bulletins: a
    # resample lacks all six with probability (1/2) ** 12 < 0.001, and the model's 0.6 is kept.
    assert MIN_WIN_RATE == 0.9
    gold = _fine_cases(12)
    learned = [_scores(label_set, 0.9) for _ in gold]
    rules = [_scores(label_set, 0.05 if i < rules_wrong else 0.95) for i in range(len(gold))]
    weight = tune_fusion(gold, learned, rules, label_set)["penalties"]
    assert weight == expected


@pytest.mark.parametrize(("low_positives", "expected"), [(1, 0.5), (6, 0.45)])
def test_a_tuned_threshold_needs_a_win_on_many_bulletins(label_set: LabelSet, low_positives: int, expected: float):
    # Twelve fined units in twelve bulletins plus twelve unfined ones (0.1) in twelve more. Fined units score 0.45 on
    # the first `low_positives`, else 0.8. Any threshold in (0.1, 0.45] catches them all (F1 1); the grid's one
    # closest to 0.5 is 0.45. One low unit: a resample lacks its bulletin with probability (23/24) ** 24 = 0.36, so 0.5
    # stays; six: (18/24) ** 24 < 0.001, and 0.45 is kept.
    gold = _fine_cases(12) + [GoldCase(f"neg{i}", f"n{i}", "hacking", ()) for i in range(12)]
    fines = [0.45 if i < low_positives else 0.8 for i in range(12)] + [0.1] * 12
    scores = [_scores(label_set, f) for f in fines]
    threshold = tune_thresholds(gold, scores, ("fine",))["fine"]
    assert threshold == expected


def test_offense_weight_has_no_rules_default(label_set: LabelSet) -> None:
    # Twelve hacking units in twelve bulletins; the model says hacking on all (0.9, the rest 0.1 / 15 each), the rules
    # say `other` (0.8, the rest 0.2 / 15) on the first unit only. On that unit at weight w hacking scores
    # 0.9w + 0.0133(1 - w) and other 0.0067w + 0.8(1 - w): at 0.4, 0.368 < 0.484; at 0.5, 0.457 > 0.403, so 0.5 is the
    # best validation weight. A win on one bulletin of twelve is not "clear", but only penalties fall back to the
    # rules (fusion.DEFAULT_WEIGHTS), so 0.5 stays.
    def offense_scores(top: str, confidence: float) -> LabelScores:
        rest = (1 - confidence) / (len(label_set.offenses) - 1)
        offense = {o: confidence if o == top else rest for o in label_set.offenses}
        return replace(_scores(label_set, 0.05), offense=offense)

    gold = [GoldCase(f"doc{i}", f"t{i}", "hacking", ()) for i in range(12)]
    learned = [offense_scores("hacking", 0.9) for _ in gold]
    rules = [offense_scores("other", 0.8) if i == 0 else offense_scores("hacking", 0.8) for i in range(12)]
    assert tune_fusion(gold, learned, rules, label_set)["offense"] == 0.5
