"""``penalty train --init-from MODEL_DIR`` (``training.init_from``): continue from a trained model's weights, encoder
and heads, on the same label set. Expected weights are read straight from the old model's ``model.safetensors``."""

import json
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from cli import main
from data.formats import load_valid_cases
from data.labels import DEFAULT_LABEL_SET, LabelSet
from models.predictor import Predictor
from training.config import ConfigError, load_config
from training.train import build_model, train

UNITS = str(Path(__file__).parent / "fixtures" / "units.jsonl")
STEPS = ["--training.batch_size", "4", "--training.max_steps", "2", "--training.eval_steps", "2"]


@pytest.fixture(scope="module")
def old_model(tmp_path_factory, tiny_overrides) -> Path:
    """A tiny model trained for two steps: the model that corrections continue from."""
    out = tmp_path_factory.mktemp("old") / "model"
    return train(load_config(None, tiny_overrides(out, *STEPS))).model_dir


@pytest.mark.slow
def test_warm_start_model_starts_with_every_weight_of_the_old_model(old_model, tmp_path, tiny_overrides, label_set):
    config = load_config(None, tiny_overrides(tmp_path / "new", "--training.init_from", str(old_model)))
    cases = load_valid_cases([UNITS], label_set)
    model, _ = build_model(config, label_set, cases)
    saved = load_file(old_model / "model.safetensors")
    state = model.state_dict()
    assert {name for name, _ in model.named_parameters()} <= saved.keys()
    assert all(torch.equal(state[name], tensor) for name, tensor in saved.items())
    fresh, _ = build_model(load_config(None, tiny_overrides(tmp_path / "fresh")), label_set, cases)
    assert not torch.equal(fresh.state_dict()["offense_head.weight"], saved["offense_head.weight"])  # heads trained


@pytest.mark.slow
def test_warm_start_one_step_from_the_cli_stays_at_the_old_weights(old_model, tmp_path, tiny_overrides, capsys):
    new = tmp_path / "new"
    tiny = ["--training.learning_rate", "1e-9", "--training.head_learning_rate", "1e-9"]
    args = tiny_overrides(new, "--training.batch_size", "4", "--training.max_steps", "1", *tiny)
    assert main(["train", *args, "--init-from", str(old_model)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["init_from"] == str(old_model)  # after the log lines
    before, after = load_file(old_model / "model.safetensors"), load_file(new / "model.safetensors")
    assert before.keys() == after.keys()
    assert max(float((after[k] - before[k]).abs().max()) for k in before) < 1e-6
    saved = yaml.safe_load((new / "config.yaml").read_text(encoding="utf-8"))
    assert saved["training"]["init_from"] == str(old_model)
    assert f"started from the trained model `{old_model}`" in (new / "README.md").read_text(encoding="utf-8")
    [prediction] = Predictor.from_pretrained(new).predict_units(["某公司未备案案。对其处以警告。"])
    assert prediction.offense in LabelSet.load().offenses


@pytest.mark.slow
def test_warm_start_refuses_a_model_trained_on_other_labels_naming_them(old_model, tmp_path, tiny_overrides, capsys):
    raw = yaml.safe_load(DEFAULT_LABEL_SET.read_text(encoding="utf-8"))
    raw["offense"].append({"name": "crypto_mining"})
    raw["penalties"] = [p for p in raw["penalties"] if p["name"] != "interview"]
    labels = tmp_path / "labels.yaml"
    labels.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    args = tiny_overrides(tmp_path / "new", "--data.label_set", str(labels))
    assert main(["train", *args, "--init-from", str(old_model)]) == 1
    err = capsys.readouterr().err
    assert "offense only in data.label_set: ['crypto_mining']" in err
    assert "penalty only in the model: ['interview']" in err
    assert not (tmp_path / "new").exists()  # refused before anything was trained or written


def test_warm_start_refuses_tfidf_and_writing_over_the_model_it_starts_from(tmp_path):
    model = tmp_path / "old"
    tfidf = load_config(None, ["--model.model_type", "tfidf", "--training.init_from", str(model)])
    with pytest.raises(ConfigError, match="model_type 'bert'"):
        train(tfidf)
    same = load_config(None, ["--training.init_from", str(model), "--training.output_dir", str(model)])
    with pytest.raises(ConfigError, match="same directory"):
        train(same)


def test_warm_start_option_is_listed_in_train_help(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--init-from MODEL_DIR" in out and "--training.init_from [None]" in out
