"""Metrics, calibration bins, threshold tuning, penalty decisions, bootstrap resampling and rule labels, each checked
against values worked out by hand in the comments (never by calling the code under test).
"""

import numpy as np
import pytest

from data.labels import LabelSet
from data.types import CaseUnit, Evidence, GoldCase, LabelScores, Prediction
from eval.bootstrap import bootstrap_intervals, group_rows
from eval.metrics import CaseCounts, CaseLabels, compute_metrics, encode_cases, headline_metrics, reliability_bins
from models.predictor import Predictor
from models.rules import RuleLabeler
from training.thresholds import tune_thresholds

# offenses a-d; penalties in severity order (fine before warning); two parties
TINY = LabelSet.from_dict(
    {"name": "tiny", "offense": ["a", "b", "c", "d"], "penalties": ["fine", "warning"], "party": ["one", "org"]}
)
GOLD = [
    GoldCase("d1", "t1", "a", ("fine",), (100,), "one"),
    GoldCase("d1", "t2", "a", ("fine", "warning"), (), "one"),
    GoldCase("d2", "t3", "b", ("warning",), (), "org"),
    GoldCase("d2", "t4", "c", (), (), "org", complete=False),
]
# (offense, penalties, party, fines, offense score); case 4 was missed by the segmenter
PREDICTED = [
    ("a", ("fine", "warning"), "one", (100,), 0.9),
    ("b", ("fine", "warning"), "one", (200,), 0.6),
    ("b", ("warning",), "org", (), 0.8),
    None,
]
# Offense, gold a a b c / predicted a b b (missed):
#   accuracy 2/4; F1 a = 2/3 (P 1, R 1/2), b = 2/3 (P 1/2, R 1), c = 0; d absent from both, so left out:
#   macro-F1 (2/3 + 2/3 + 0) / 3 = 4/9; micro over the labels: tp 2, fp 1, fn 2 -> P 2/3, R 1/2, F1 4/7.
# Penalties on the complete cases 1-3, gold {f} {f,w} {w} / predicted {f,w} {f,w} {w}:
#   fine tp 2 -> F1 1; warning tp 2, fp 1 -> P 2/3, R 1, F1 0.8; macro 0.9; micro tp 4, fp 1, fn 0 -> F1 8/9;
#   exact match 2/3 (cases 2 and 3); Hamming loss 1 wrong cell of 6.
# Primary penalty fine, fine, warning right, missed wrong: 3/4. Fines: case 1 right, case 2 wrong, case 3 right
#   (none), missed wrong: 1/2. Party: one one org right, missed wrong: 3/4. Fully correct: case 3 only: 1/4.
# ECE over found units: scores 0.9 (right), 0.6 (wrong), 0.8 (right) fall in three bins: (0.1 + 0.6 + 0.2) / 3.
EXPECTED = {
    "offense_accuracy": 0.5,
    "offense_macro_f1": 4 / 9,
    "offense_micro_f1": 4 / 7,
    "penalty_micro_f1": 8 / 9,
    "penalty_macro_f1": 0.9,
    "penalty_exact_match": 2 / 3,
    "penalty_hamming_loss": 1 / 6,
    "primary_penalty_accuracy": 0.75,
    "fine_exact_match": 0.5,
    "party_accuracy": 0.75,
    "fully_correct": 0.25,
}


def _case_labels(predicted: tuple | None) -> CaseLabels:
    if predicted is None:
        return CaseLabels(None, frozenset(), None)
    offense, penalties, party, fines, _ = predicted
    return CaseLabels(offense, frozenset(penalties), party, fines)


def _prediction(index: int, predicted: tuple | None) -> Prediction | None:
    if predicted is None:
        return None
    offense, penalties, party, fines, score = predicted
    return Prediction(
        unit=CaseUnit("s", index, 0, 1, "x"),
        offense=offense,
        offense_score=score,
        penalties=penalties,
        penalty_scores={},
        primary_penalty=TINY.primary_penalty(penalties),
        party=party,
        party_score=1.0,
        evidence=Evidence(fine_amounts=fines),
    )


def test_compute_metrics_match_hand_computed_values():
    gold = [CaseLabels(g.offense, frozenset(g.penalties), g.party, g.fine_amounts, g.complete) for g in GOLD]
    metrics = compute_metrics(gold, [_case_labels(p) for p in PREDICTED], TINY)
    assert {name: metrics[name] for name in EXPECTED} == pytest.approx(EXPECTED)


def test_headline_metrics_match_hand_computed_values():
    arrays = encode_cases(GOLD, [_prediction(i, p) for i, p in enumerate(PREDICTED)], TINY)
    figures = headline_metrics(arrays)
    assert {name: figures[name] for name in figures if name in EXPECTED} == pytest.approx(
        {name: EXPECTED[name] for name in figures if name in EXPECTED}
    )
    assert figures["offense_ece"] == pytest.approx((0.1 + 0.6 + 0.2) / 3)


def test_reliability_bins_match_hand_computed_values():
    # bins (lower, upper], the first one closed at 0: 0.0 and 0.05 -> bin 0; 0.15 -> bin 1; 0.95 and 1.0 -> bin 9
    confidence = np.array([0.05, 0.15, 0.95, 1.0, 0.0])
    correct = np.array([True, False, True, False, True])
    bins = reliability_bins(confidence, correct)
    assert [b["count"] for b in bins] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert [b["confidence"] for b in bins] == pytest.approx([0.025, 0.15, 0, 0, 0, 0, 0, 0, 0, 0.975])
    assert [b["accuracy"] for b in bins] == pytest.approx([1.0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0.5])
    assert [(b["lower"], b["upper"]) for b in bins][1] == pytest.approx((0.1, 0.2))


def _scores(fine: float, warning: float) -> LabelScores:
    return LabelScores(offense={}, penalties={"fine": fine, "warning": warning}, party={})


def test_tune_thresholds_matches_hand_computed_choice():
    # fine: positives 0.65 0.7 0.8, negatives 0.55 0.3 -> F1 1 for thresholds in (0.55, 0.65]: the grid has 0.6 and
    # 0.65, the tie goes to the one closer to 0.5. The incomplete unit (a negative at 0.62) must not count: counted,
    # it would push the choice to 0.65. warning: only two positives (< 3): the default 0.5 stays.
    gold = [GoldCase("d", f"t{i}", "a", p) for i, p in enumerate([("fine",), ("fine",), ("fine", "warning"), (), ()])]
    scores = [_scores(0.65, 0.1), _scores(0.7, 0.1), _scores(0.8, 0.9), _scores(0.55, 0.1), _scores(0.3, 0.1)]
    gold.append(GoldCase("d", "t5", "a", ("warning",), complete=False))
    scores.append(_scores(0.62, 0.9))
    assert tune_thresholds(gold, scores, ("fine", "warning")) == {"fine": 0.6, "warning": 0.5}


def test_predictor_decide_penalties_applies_thresholds_and_supersedes_other_criminal_measure(label_set):
    predictor = Predictor.from_pretrained("rules", label_set)
    predictor.thresholds = {"fine": 0.7}
    scores = dict.fromkeys(label_set.penalties, 0.0) | {
        "fine": 0.65,  # under its own threshold 0.7
        "warning": 0.5,  # exactly the default threshold: kept
        "other_criminal_measure": 0.9,  # labels.md: only when no detention, arrest or sentence
        "arrest": 0.6,
        "interview": 0.49,
    }
    assert predictor.decide_penalties(scores) == ("arrest", "warning")  # label-set order
    assert predictor.decide_penalties(scores | {"arrest": 0.0}) == ("other_criminal_measure", "warning")


def test_bootstrap_groups_rows_by_bulletin():
    rows = group_rows(["b1", "b2", "b1", "b3"])
    assert [r.tolist() for r in rows] == [[0, 2], [1], [3]]


def test_resample_counts_are_the_drawn_bulletins_counts_added_up():
    # The bootstrap scores a resample from per-bulletin counts; the same resample as concatenated units (a bulletin
    # drawn twice appears twice) must give the same figures. Includes a missed unit, an incomplete one, an empty draw.
    arrays = encode_cases(GOLD, [_prediction(i, p) for i, p in enumerate(PREDICTED)], TINY)
    bulletins = group_rows([i % 3 for i in range(len(GOLD))])
    per_bulletin = CaseCounts.stack([CaseCounts.of(arrays.take(rows)) for rows in bulletins])
    rng = np.random.default_rng(0)
    for _ in range(20):
        chosen = rng.integers(0, len(bulletins), size=len(bulletins))
        units = np.concatenate([bulletins[b] for b in chosen])
        drawn = np.bincount(chosen, minlength=len(bulletins))
        assert per_bulletin.weighted_sum(drawn).figures() == pytest.approx(headline_metrics(arrays.take(units)))
    assert per_bulletin.weighted_sum(np.zeros(len(bulletins), dtype=int)).figures() == pytest.approx(
        headline_metrics(arrays.take(np.zeros(0, dtype=int)))
    )


def test_bootstrap_intervals_are_percentiles_of_the_resampled_statistic():
    values = np.array([0.0, 1.0, 5.0, 9.0])
    seen: list[float] = []

    def statistic(chosen: np.ndarray) -> dict[str, float]:
        assert len(chosen) == len(values) and set(chosen.tolist()) <= {0, 1, 2, 3}
        seen.append(float(values[chosen].mean()))
        return {"mean": seen[-1]}

    intervals = bootstrap_intervals(statistic, len(values), n_resamples=400, seed=3)
    assert len(seen) == 400 and len(set(seen)) > 10
    assert intervals["mean"] == pytest.approx([np.quantile(seen, 0.025), np.quantile(seen, 0.975)])


def test_bootstrap_interval_of_one_bulletin_is_its_value():
    assert bootstrap_intervals(lambda chosen: {"x": 0.7 + len(chosen)}, 1, 50, 0) == {"x": [1.7, 1.7]}


@pytest.mark.parametrize(
    ("text", "offense", "party"),
    [
        (
            "案例一：王某使用VPN翻墙案\n王某私自使用翻墙软件浏览境外信息，公安机关对其处以警告。",
            "vpn_circumvention",
            "individual",
        ),
        (
            "案例二：某网络科技公司未落实网络安全等级保护制度案\n该公司未履行网络安全保护义务，"
            "公安机关依据《网络安全法》第五十九条对该公司处以警告。",
            "security_duty",
            "organization",
        ),
        (
            "案例三：李某某侵犯公民个人信息案\n李某某非法出售公民个人信息两万条，被公安机关刑事拘留。",
            "personal_info_crime",
            "individual",
        ),
        (
            "案例四：某网吧未落实实名登记制度案\n某网吧未核验上网人员身份，公安机关对该网吧处以罚款五千元，"
            "对其负责人处以罚款一千元。",
            "real_name",
            "both",
        ),
        (
            "案例五：张某散布谣言案\n张某在微信群编造散布虚假疫情信息，公安机关对其处以行政拘留五日。",
            "rumor_and_cyberbullying",
            "individual",
        ),
        (
            "案例六：赵某开设网络赌场案\n赵某搭建网络赌博平台，组织他人参赌，已被批准逮捕。",
            "online_gambling",
            "individual",
        ),
    ],
)
def test_rules_label_offense_and_party_as_labels_md_says(label_set, text, offense, party):
    scores = RuleLabeler(label_set).score_texts([text])[0]
    assert max(scores.offense, key=scores.offense.get) == offense
    assert max(scores.party, key=scores.party.get) == party
