import dataclasses

import pytest

from cli import main
from training.config import DEFAULT_CONFIG, ConfigError, RunConfig, load_config


def test_config_default_yaml_matches_dataclass_defaults():
    assert load_config(DEFAULT_CONFIG) == RunConfig()


def test_config_overrides_take_precedence_over_file(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("training:\n  learning_rate: 1.0e-4\n  seed: 3\n", encoding="utf-8")
    config = load_config(path, ["--training.learning_rate", "3e-5", "--data.train=[a.jsonl, b]"])
    assert config.training.learning_rate == 3e-5 and config.training.seed == 3
    assert config.data.train == ["a.jsonl", "b"]


def test_config_unknown_key_is_an_error():
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['lr'\] in config.training"):
        load_config(None, ["--training.lr", "1"])


def test_config_wrong_type_names_the_field():
    with pytest.raises(ConfigError, match="config.training.seed must be int"):
        load_config(None, ["--training.seed", "many"])


def test_config_invalid_value_is_rejected_in_post_init():
    with pytest.raises(ConfigError, match="learning_rate"):
        load_config(None, ["--training.learning_rate", "-1"])


def test_config_saved_yaml_loads_back(tmp_path):
    config = load_config(None, ["--model.model_type", "tfidf"])
    config.save(tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == config


def test_cli_train_help_lists_every_config_key_with_its_help(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse may rewrap; compare word sequences
    for section in dataclasses.fields(RunConfig):
        for option in dataclasses.fields(getattr(RunConfig(), section.name)):
            assert f"--{section.name}.{option.name} [" in shown
            assert " ".join(option.metadata["help"].split()) in shown, option.name
