"""``models.selection``'s ``diverse`` strategy: the least sure bulletin of each cluster of similar bulletins."""

import json
import math

import numpy as np
import pytest
from safetensors import safe_open
from transformers import AutoTokenizer

from cli import main
from models.selection import Doubt, embed_bulletins, pick_bulletins

# Nine bulletins in three obvious clusters (directions 0°, 120° and 240°, slightly jittered), interleaved in input
# order so that neither input order nor the ranking alone gives the answer.
ANGLES = [0, 120, 240, 3, 118, 243, -2, 122, 238]
MARGINS = [0.5, 0.1, 0.9, 0.2, 0.15, 0.8, 0.6, 0.05, 0.3]


@pytest.fixture
def doubts():
    return [(f"b{i}", Doubt(0, (), margin, 0.4)) for i, margin in enumerate(MARGINS)]


def _positions(*args) -> list[int]:
    return [pick.position for pick in pick_bulletins(*args)]


@pytest.fixture
def vectors():
    return np.array([[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in ANGLES]) * 5 + [1.0, 2.0]


def test_pick_bulletins_diverse_takes_the_least_sure_of_each_cluster(doubts, vectors):
    # By hand: cluster 0° holds 0, 3, 6 (margins 0.5, 0.2, 0.6) → 3; 120° holds 1, 4, 7 (0.1, 0.15, 0.05) → 7;
    # 240° holds 2, 5, 8 (0.9, 0.8, 0.3) → 8. Most unsure first: 7 (0.05), 3 (0.2), 8 (0.3).
    assert _positions(doubts, 3, "diverse", 0, vectors) == [7, 3, 8]
    assert _positions(doubts, 3, "uncertainty", 0) == [7, 1, 4]  # all three from the 120° cluster


def test_pick_bulletins_diverse_reason_names_the_cluster_and_the_doubt(doubts, vectors):
    reasons = [pick.reason for pick in pick_bulletins(doubts, 3, "diverse", 4, vectors)]
    assert reasons[0] == (
        "cluster 1 of 3 (3 bulletin(s)); offense margin 0.05; penalty score 0.40 from its threshold "
        "(picked by diverse, seed 4)"
    )
    assert reasons[2].startswith("cluster 3 of 3 (3 bulletin(s)); offense margin 0.30;")


def test_pick_bulletins_diverse_is_reproducible_for_a_seed(doubts):
    rng = np.random.default_rng(7)
    noise = rng.normal(size=(len(doubts), 8))
    runs = [_positions(doubts, 4, "diverse", 3, noise) for _ in range(2)]
    assert runs[0] == runs[1] and len(set(runs[0])) == 4


def test_pick_bulletins_diverse_fills_with_the_most_unsure_when_vectors_repeat(doubts):
    twins = np.array([[0.0, 1.0] if i % 2 else [1.0, 0.0] for i in range(len(doubts))])
    picks = pick_bulletins(doubts, 3, "diverse", 0, twins)
    # Odd positions (1, 3, 5, 7): least sure 7 (0.05); even (0, 2, 4, 6, 8): 4 (0.15); then the next most unsure: 1.
    assert [pick.position for pick in picks] == [7, 4, 1]
    assert picks[2].reason.startswith("beyond the 2 cluster(s) of distinct vectors: next most unsure; offense margin")


def test_pick_bulletins_diverse_without_vectors_is_an_error(doubts):
    with pytest.raises(ValueError, match="one vector per candidate"):
        pick_bulletins(doubts, 3, "diverse", 0)


def test_embed_bulletins_averages_every_token_of_a_long_text(tiny_base_dir):
    text = "公安机关对该公司处以警告并处罚款。" * 30  # far beyond a 256-token window
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_base_dir))
    ids = [t for t in tokenizer(text, add_special_tokens=False)["input_ids"] if t not in tokenizer.all_special_ids]
    with safe_open(str(tiny_base_dir / "model.safetensors"), framework="np") as tensors:
        name = next(n for n in tensors.keys() if n.endswith("word_embeddings.weight"))
        expected = tensors.get_tensor(name)[ids].mean(axis=0)
    assert len(ids) > 256
    np.testing.assert_allclose(embed_bulletins([text], str(tiny_base_dir))[0], expected, rtol=1e-5, atol=1e-6)


def test_annotate_diverse_selection_says_which_cluster(tmp_path, monkeypatch):
    # Invented bulletins: two about unregistered websites, one about a VPN; the fake embedding puts them in 2 clusters.
    texts = {
        "a": "案例一：某公司网站未备案案\n公安机关对该公司处以警告。\n",
        "b": "案例一：某网站未履行备案手续案\n公安机关对该网站开办者处以警告。\n",
        "c": "案例一：王某使用翻墙软件案\n王某通过翻墙软件访问境外网站，公安机关对其给予警告。\n",
    }
    for name, text in texts.items():
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    monkeypatch.setattr(
        "models.annotate.embed_bulletins", lambda xs: np.array([[1.0, 0.0] if "翻墙" in x else [0.0, 1.0] for x in xs])
    )
    out = tmp_path / "tasks.json"
    args = ["annotate", "--model", "rules", "--segmenter", "rules", str(tmp_path), "-o", str(out)]
    assert main([*args, "--select", "2", "--strategy", "diverse", "--seed", "1"]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    sources = {task["meta"]["source"] for task in tasks}
    assert str(tmp_path / "c.txt") in sources and len(sources) == 2
    assert all(" of 2 (" in task["meta"]["reason"] and "diverse, seed 1" in task["meta"]["reason"] for task in tasks)
