"""``benchmarks/active_learning.py`` end to end on authored corpus bulletins standing in for the real sets."""

import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from data.corpus import BUILD_DIR

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "active_learning.py"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("active_learning", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: dataclasses look their module up in sys.modules to resolve string annotations.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture
def folders(tmp_path):
    """Authored bulletins split three ways: base training data, the pool to pick from, the evaluation set."""
    txts = sorted(BUILD_DIR.glob("*.txt"))
    out = {}
    for name, chosen in (("base", txts[:4]), ("pool", txts[4:8]), ("eval", txts[8:10])):
        folder = tmp_path / name
        folder.mkdir()
        for txt in chosen:
            shutil.copy(txt, folder / txt.name)
            shutil.copy(txt.with_suffix(".jsonl"), folder / txt.with_suffix(".jsonl").name)
        out[name] = folder
    return out


def test_round_sizes_end_with_the_whole_pool_or_the_cap(study):
    assert study.round_sizes(25, 10, None, None) == [0, 10, 20, 25]
    assert study.round_sizes(25, 10, 1, None) == [0, 10]
    assert study.round_sizes(25, 10, None, 15) == [0, 10, 15]


def test_active_learning_study_writes_curves_report_and_target_line(study, folders, tiny_base_dir, tmp_path, capsys):
    report = tmp_path / "report"
    argv = [
        "--train", str(folders["base"]), "--pool", str(folders["pool"]), "--eval", str(folders["eval"]),
        "--round-size", "3", "--seeds", "1", "--vectors-from", str(tiny_base_dir),
        "--output", str(report), "--work-dir", str(tmp_path / "work"),
    ]  # fmt: skip
    assert study.main(argv) == 0
    result = json.loads((report / "points.json").read_text(encoding="utf-8"))
    assert result["setup"]["sizes"] == [0, 3, 4]
    for strategy in ("random", "uncertainty", "diverse"):
        curve = [p for p in result["points"] if p["strategy"] == strategy]
        assert [p["bulletins"] for p in curve] == [0, 3, 4]
        assert all(0 <= p["offense_macro_f1"] <= 1 and 0 <= p["fully_correct"] <= 1 for p in curve)
        assert len({d for p in curve for d in p.get("picked_next", [])}) == 4  # every pool bulletin, once
    # Round 0 and the whole pool are the same model for every strategy: trained once, then reused.
    assert sum(not p["cached"] for p in result["points"] if p["bulletins"] in (0, 4)) == 2
    html = (report / "index.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2 and "tfidf" in html
    out = capsys.readouterr().out
    assert "target (offense macro-F1): random's final mean" in out and "seconds per trained round" in out


def test_parse_seeds_reads_one_count_or_one_per_strategy(study):
    assert study.parse_seeds("3") == {"*": 3}
    assert study.parse_seeds("random=3,diverse=2") == {"random": 3, "diverse": 2}
    with pytest.raises(argparse.ArgumentTypeError, match="found 'uncertain=2'"):
        study.parse_seeds("uncertain=2")


def test_study_base_validation_holds_out_the_same_base_bulletins_every_round(study, folders, tmp_path, label_set):
    from data.formats import load_valid_cases
    from training.config import load_config

    base = load_valid_cases([str(folders["base"])], label_set)
    config = load_config(None, ["--data.validation_fraction", "0.25"])
    held = study.Study(config, label_set, base, [], [], None, tmp_path, False, study.BASE)
    train_cases, files = held.base_for(0)
    validation = load_valid_cases(files, label_set)
    assert {c.doc for c in validation} and not {c.doc for c in validation} & {c.doc for c in train_cases}
    assert len(train_cases) + len(validation) == len(base)
    assert held.base_for(0)[0] == train_cases
    assert study.Study(config, label_set, base, [], [], None, tmp_path, False).base_for(0) == (base, [])
