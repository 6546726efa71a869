from pathlib import Path

import pytest
import yaml

from cli import main
from data.errors import ModelError
from models.export import export_onnx
from models.predictor import Predictor
from training.config import load_config
from training.train import train

FIXTURES = Path(__file__).parent / "fixtures"
UNITS = str(FIXTURES / "units.jsonl")
# Short texts and one long enough for several 32-token windows, so unit pooling (mean/max over windows) is exercised.
TEXTS = [
    "某公司未备案案。对其处以警告。",
    "王某使用VPN翻墙，被处以罚款五百元。" * 6,
    "网站未落实保护制度。",
    "张某" * 90,
]
INT8_SHARE = 0.3  # the largest score change int8 may make, as a share of the spread of one text's scores


def _network(predictor: Predictor):
    """The exported network's labeler, without the rule fusion wrapped around it."""
    return getattr(predictor.labeler, "labeler", predictor.labeler)


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory, tiny_base_dir: Path) -> Path:
    """A tiny fine-tuned model (4 steps): enough for weights that differ from initialisation."""
    out = tmp_path_factory.mktemp("export") / "model"
    overrides = {
        "data.train": f"[{UNITS}]",
        "data.validation": f"[{UNITS}]",
        "data.real": "[]",
        "data.max_length": "32",
        "data.stride": "8",
        "model.base_model": str(tiny_base_dir),
        "training.output_dir": str(out),
        "training.batch_size": "4",
        "training.max_steps": "4",
        "training.eval_steps": "2",
    }
    config = load_config(None, [item for key, value in overrides.items() for item in (f"--{key}", value)])
    return train(config).model_dir


@pytest.fixture(scope="module")
def onnx_dir(trained_dir: Path) -> Path:
    return export_onnx(trained_dir)


def test_export_writes_self_contained_onnx_directory(trained_dir, onnx_dir):
    assert onnx_dir == trained_dir / "onnx"
    assert {"model.onnx", "labels.yaml", "penalty.yaml", "tokenizer.json"} <= {p.name for p in onnx_dir.iterdir()}
    source = yaml.safe_load((trained_dir / "penalty.yaml").read_text(encoding="utf-8"))
    meta = yaml.safe_load((onnx_dir / "penalty.yaml").read_text(encoding="utf-8"))
    assert meta["model_type"] == "onnx"
    for key in ("penalty_thresholds", "windows", "label_set_fingerprint"):
        assert meta[key] == source[key], key


def test_export_onnx_fp32_scores_match_pytorch(trained_dir, onnx_dir):
    torch_predictor = Predictor.from_pretrained(trained_dir)
    onnx_predictor = Predictor.from_pretrained(onnx_dir)
    assert onnx_predictor.labeler.model_type == "onnx"
    expected = torch_predictor.labeler.score_texts(TEXTS)
    found = onnx_predictor.labeler.score_texts(TEXTS)
    for want, got in zip(expected, found, strict=True):
        for field in ("offense", "penalties", "party"):
            want_scores, got_scores = getattr(want, field), getattr(got, field)
            assert want_scores.keys() == got_scores.keys()
            assert max(abs(want_scores[k] - got_scores[k]) for k in want_scores) < 1e-4, field
    assert [p.to_dict() for p in onnx_predictor.predict_units(TEXTS)] == [
        p.to_dict() for p in torch_predictor.predict_units(TEXTS)
    ]


def test_export_onnx_predicts_bulletins_like_pytorch(trained_dir, onnx_dir):
    bulletin = (FIXTURES / "sample_bulletin.txt").read_text(encoding="utf-8")
    expected = Predictor.from_pretrained(trained_dir).predict_bulletin(bulletin)
    found = Predictor.from_pretrained(onnx_dir).predict_bulletin(bulletin)
    assert [(p.unit, p.offense, p.penalties) for p in found] == [(p.unit, p.offense, p.penalties) for p in expected]


@pytest.fixture(scope="module")
def int8_dir(trained_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exported through the CLI, so the command's wiring is exercised by the int8 tests too."""
    out = tmp_path_factory.mktemp("int8") / "onnx-int8"
    command = ["-q", "export", "--model", str(trained_dir), "--format", "onnx", "--quantize", "int8", "-o", str(out)]
    assert main(command) == 0
    return out


@pytest.mark.slow
def test_export_int8_scores_stay_close_to_pytorch(trained_dir, int8_dir):
    # The network's own scores (rule fusion would hide it): the tiny model's scores of one text lie within a few
    # hundredths of each other, so int8 may move each by a small part of that spread (measured: under a quarter
    # with the seeded fixture model).
    expected = _network(Predictor.from_pretrained(trained_dir)).score_texts(TEXTS)
    found = _network(Predictor.from_pretrained(int8_dir)).score_texts(TEXTS)
    for want, got in zip(expected, found, strict=True):
        for field in ("offense", "penalties", "party"):
            want_scores, got_scores = getattr(want, field), getattr(got, field)
            assert want_scores.keys() == got_scores.keys()
            spread = max(want_scores.values()) - min(want_scores.values())
            assert max(abs(want_scores[k] - got_scores[k]) for k in want_scores) < INT8_SHARE * spread, field
    meta = yaml.safe_load((int8_dir / "penalty.yaml").read_text(encoding="utf-8"))
    assert meta["model_type"] == "onnx" and meta["export"]["quantize"] == "int8"


@pytest.mark.slow
def test_export_int8_is_calibrated_on_the_models_training_data_and_smoothed(int8_dir):
    export = yaml.safe_load((int8_dir / "penalty.yaml").read_text(encoding="utf-8"))["export"]
    assert export["calibration"]["data"] == [UNITS]  # data.train of the fixture model's config.yaml
    assert export["calibration"]["units"] == len(Path(UNITS).read_text(encoding="utf-8").splitlines())  # all 8
    assert export["calibration"]["smoothed_linears"] == 4  # two feed-forward linears in each of the two layers


def test_export_fuses_attention_for_onnxruntime(onnx_dir):
    export = yaml.safe_load((onnx_dir / "penalty.yaml").read_text(encoding="utf-8"))["export"]
    assert export["exporter"] == "torchscript"
    assert export["fused_operators"].get("Attention") == 2 and export["fused_operators"].get("SkipLayerNormalization")


@pytest.mark.slow
def test_export_int8_with_missing_calibration_data_is_clear_error(trained_dir, tmp_path, capsys):
    command = ["-q", "export", "--model", str(trained_dir), "--quantize", "int8", "-o", str(tmp_path / "q")]
    assert main([*command, "--calibration", str(tmp_path / "absent.jsonl")]) == 1
    assert "int8 calibration data" in capsys.readouterr().err
    assert not (tmp_path / "q" / "model.onnx").exists()


def test_export_corrupt_onnx_model_is_model_error(onnx_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in onnx_dir.iterdir():
        broken.joinpath(path.name).write_bytes(path.read_bytes())
    model = broken / "model.onnx"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 3])
    with pytest.raises(ModelError, match="cannot load the ONNX model"):
        Predictor.from_pretrained(broken)
    model.unlink()
    with pytest.raises(ModelError, match="model.onnx is missing"):
        Predictor.from_pretrained(broken)


@pytest.mark.slow
def test_export_int8_model_is_smaller_than_fp32(onnx_dir, int8_dir):
    assert (int8_dir / "model.onnx").stat().st_size < (onnx_dir / "model.onnx").stat().st_size


def test_export_cli_refuses_non_transformer_models(onnx_dir, capsys):
    assert main(["-q", "export", "--model", str(onnx_dir)]) == 1  # an ONNX directory cannot be exported again
    assert "only fine-tuned transformer models" in capsys.readouterr().err


def test_export_cli_refuses_rules(capsys):
    assert main(["-q", "export", "--model", "rules"]) == 1
    assert "rule baseline has no weights" in capsys.readouterr().err
