"""Training-time augmentation (data/augment.py): each perturbation, its labels, its seed, what normalize() undoes."""

import dataclasses
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from data.augment import AUGMENT_KINDS, NORMALIZED_KINDS, augment_cases, perturb_case
from data.labels import LabelSet
from data.layouts import to_mirror_script
from data.normalize import normalize
from data.types import GoldCase
from training.config import ConfigError, load_config

FIXTURES = Path(__file__).parent / "fixtures"
# Invented for these tests: a heading, a title line and a body of three sentences with digits and a disposal.
UNIT = GoldCase(
    doc="invented",
    text="案例三：\n某网络公司未落实安全保护义务案\n2023年5月，网安部门检查发现该公司网站存在高危漏洞。经查，该公司未按规定"
    "留存日志。公安机关依法对该公司处以警告，并处罚款5000元。",
    offense="security_duty",
    penalties=("warning", "fine"),
    fine_amounts=(5000,),
    party="organization",
)
PINYIN_GLOSS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]+\)")


def _copy(kind: str, seed: int = 0, case: GoldCase = UNIT) -> GoldCase:
    return perturb_case(case, kind, random.Random(seed))


def _no_space(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_augment_traditional_copy_is_in_traditional_script():
    text = _copy("traditional").text
    assert "網絡公司" in text and "發現" in text and "處以警告" in text
    assert "网络" not in text and len(text) == len(UNIT.text)


def test_augment_pinyin_copy_glosses_characters_and_nothing_else():
    text = _copy("pinyin").text
    assert PINYIN_GLOSS.search(text)
    assert PINYIN_GLOSS.sub("", text) == UNIT.text


def test_augment_pinyin_never_glosses_a_character_twice():
    # a unit copied from a mirror page already carries glosses; a second one would survive normalize()
    glossed = to_mirror_script("该公司发(fā)现漏洞", random.Random(0), traditional=False, pinyin_rate=1.0)
    assert glossed == "该(gāi)公(gōng)司(sī)发(fā)现(xiàn)漏洞"
    assert normalize(glossed).text == "该公司发现漏洞"


def test_augment_fullwidth_copy_prints_digits_in_full_width():
    text = _copy("fullwidth").text
    assert "２０２３年５月" in text and "５０００元" in text
    assert not re.search(r"[0-9]", text)


def test_augment_furniture_copy_puts_furniture_lines_inside_the_unit():
    for seed in range(10):
        text = _copy("furniture", seed).text
        lines = text.split("\n")
        new = [i for i, line in enumerate(lines) if line not in UNIT.text]
        assert 1 <= len(new) <= 2
        assert all(0 < i < len(lines) - 1 for i in new)  # inside: case text above and below
        kept = "".join(line for i, line in enumerate(lines) if i not in new)
        assert _no_space(kept) == _no_space(UNIT.text)


def test_augment_cutoff_copy_is_a_shorter_prefix_marked_incomplete():
    for seed in range(10):
        copy = _copy("cutoff", seed)
        assert UNIT.text.startswith(copy.text)
        assert 0.6 * len(UNIT.text) - 1 <= len(copy.text) <= 0.9 * len(UNIT.text) + 1
        assert copy.complete is False and copy.penalties == () and copy.fine_amounts == ()


def test_augment_background_copy_puts_context_between_title_and_conduct():
    copy = _copy("background")
    head = "案例三：\n某网络公司未落实安全保护义务案\n"
    body = UNIT.text[len(head) :]
    assert copy.text.startswith(head) and copy.text.endswith("\n" + body)
    background = copy.text[len(head) : -len(body)]
    assert len(background) >= 40 and background.count("。") >= 2


def test_augment_background_copy_of_an_unheaded_unit_starts_with_the_background():
    case = GoldCase(
        doc="d", text="张某在网上散布不实信息，被处以行政拘留五日。", offense="rumor_and_cyberbullying", penalties=()
    )
    copy = _copy("background", case=case)
    assert copy.text.endswith("\n" + case.text) and not copy.text.startswith("张某")


@pytest.mark.parametrize("kind", AUGMENT_KINDS)
def test_augment_keeps_doc_offense_and_party(kind):
    copy = _copy(kind)
    assert (copy.doc, copy.offense, copy.party) == (UNIT.doc, UNIT.offense, UNIT.party)
    assert copy.meta["augmented"] == kind and copy.text != UNIT.text
    if kind != "cutoff":
        assert (copy.penalties, copy.fine_amounts, copy.complete) == (UNIT.penalties, UNIT.fine_amounts, True)


def test_augment_normalize_undoes_script_pinyin_and_width_but_not_furniture_cutoff_or_background():
    original = normalize(UNIT.text).text
    undone = {kind for kind in AUGMENT_KINDS if normalize(_copy(kind).text).text == original}
    assert undone == {"traditional", "pinyin", "fullwidth"} == set(NORMALIZED_KINDS)


def test_augment_cases_same_seed_same_copies_other_seed_other_copies():
    cases = [UNIT] * 20
    first = augment_cases(cases, 0.5, seed=7, kinds=AUGMENT_KINDS)
    assert first == augment_cases(cases, 0.5, seed=7, kinds=AUGMENT_KINDS)
    assert [c.text for c in first] != [c.text for c in augment_cases(cases, 0.5, seed=8, kinds=AUGMENT_KINDS)]


def test_augment_cases_copies_the_requested_share_with_the_requested_kinds():
    cases = [UNIT] * 9
    copies = augment_cases(cases, 0.5, seed=0, kinds=["furniture", "cutoff"])
    assert len(copies) == round(0.5 * 9)
    assert {c.meta["augmented"] for c in copies} <= {"furniture", "cutoff"}
    assert augment_cases(cases, 0.0, seed=0) == []


def test_augment_cases_rejects_unknown_kinds_and_bad_fractions():
    with pytest.raises(ValueError, match="unknown augmentation kinds"):
        augment_cases([UNIT], 0.5, seed=0, kinds=["rotate"])
    with pytest.raises(ValueError, match="fraction"):
        augment_cases([UNIT], 1.5, seed=0)


def test_config_augment_is_validated():
    with pytest.raises(ConfigError, match="data.augment "):
        load_config(None, ["--data.augment", "2"])
    with pytest.raises(ConfigError, match="data.augment_kinds"):
        load_config(None, ["--data.augment_kinds", "[furniture, rotate]"])
    assert load_config(None, ["--data.augment", "0.5"]).data.augment == 0.5


def test_cli_cv_passes_data_overrides_through():
    from cli import build_parser

    args, extra = build_parser().parse_known_args(["cv", "--data", "some/dir", "--data.augment", "0.5"])
    assert args.data == ["some/dir"] and extra == ["--data.augment", "0.5"]
    assert load_config(None, extra).data.augment == 0.5


def test_tfidf_penalty_head_learns_from_complete_units_only():
    from data.gold import read_gold_jsonl
    from models.tfidf import TfidfLabeler

    label_set = LabelSet.load()
    complete = read_gold_jsonl(FIXTURES / "units.jsonl", label_set).cases
    marker = "锟斤拷锟斤拷"  # an n-gram only the incomplete units have (twice: the vectoriser's min_df is 2)
    cut = [dataclasses.replace(UNIT, text=UNIT.text[:30] + marker + str(i), complete=False) for i in range(2)]
    labeler = TfidfLabeler(label_set).fit(complete + cut)
    assert "锟斤拷" in labeler.pipelines["offense"]["tfidf"].vocabulary_
    assert "锟斤拷" not in labeler.pipelines["penalties"]["tfidf"].vocabulary_


def test_multitask_loss_masks_the_penalties_of_incomplete_units(tiny_multitask):
    import torch
    from torch import nn

    label_set = LabelSet.load()
    model = tiny_multitask().eval()
    n = len(label_set.penalties)
    inputs = {"input_ids": torch.tensor([[2, 5, 6, 3], [2, 7, 8, 3]]), "attention_mask": torch.ones(2, 4, dtype=int)}
    offense, party = torch.tensor([0, 1]), torch.tensor([0, 1])
    known = torch.zeros(n)
    known[1] = 1.0
    penalties = torch.stack([known, torch.full((n,), -1.0)])  # the second unit is incomplete
    out = model(**inputs, offense_labels=offense, penalty_labels=penalties, party_labels=party)
    expected = (
        nn.functional.cross_entropy(out.offense_logits, offense)
        + model.config.penalty_loss_weight
        * nn.functional.binary_cross_entropy_with_logits(out.penalty_logits[0], known)
        + 0.5 * nn.functional.cross_entropy(out.party_logits, party)
    )
    assert torch.allclose(out.loss, expected, atol=1e-6)


def test_train_with_augment_records_the_copies_in_summary_and_config(tmp_path, tiny_overrides):
    from training.train import train

    steps = ["--training.batch_size", "4", "--training.max_steps", "2", "--training.eval_steps", "2"]
    config = load_config(
        None,
        tiny_overrides(tmp_path / "model", *steps, "--data.augment", "0.5", "--data.augment_kinds", "[cutoff]"),
    )
    result = train(config)
    units = len((FIXTURES / "units.jsonl").read_text(encoding="utf-8").splitlines())
    assert result.summary["augmented_cases"] == round(0.5 * units)
    assert result.summary["train_cases"] == units + round(0.5 * units)
    saved = yaml.safe_load((result.model_dir / "config.yaml").read_text(encoding="utf-8"))
    assert saved["data"]["augment"] == 0.5 and saved["data"]["augment_kinds"] == ["cutoff"]


def test_augment_module_does_not_import_torch():
    # style.md §1: nothing in data/ imports torch or transformers
    code = "import data.augment, sys; print('torch' in sys.modules or 'transformers' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
