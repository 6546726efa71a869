"""The learned segmenter: sentence tags, decoding, training, resuming, loading, and its place in the commands."""

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

from cli import main
from data.corpus import BUILD_DIR
from data.errors import ModelError
from data.segment_features import FEATURE_NAMES, Sentence, decode_tags, sentence_bulletin, sentence_tags
from eval.segmentation import match_spans
from models.predictor import Predictor
from models.segmenter import LearnedSegmenter, SentenceTagger, TaggerEnsemble, TaggerShape, best_tags
from models.segmenters import RuleSegmenter, load_segmenter
from training.config import load_config
from training.train_segmenter import train_segmenter

BULLETINS = 16


def _sentence(start: int, end: int) -> Sentence:
    return Sentence(start, end, 0, tuple(0.0 for _ in FEATURE_NAMES))


def test_sentence_tags_mark_the_first_sentence_of_each_unit_and_what_lies_outside():
    sentences = [_sentence(0, 10), _sentence(10, 30), _sentence(30, 42), _sentence(42, 60), _sentence(60, 70)]
    # unit 1 covers sentences 1-2 (a few characters short of sentence 2's end), unit 2 covers sentence 3 only
    assert sentence_tags(sentences, [(10, 40), (42, 60)]) == [0, 1, 2, 1, 0]


def test_decode_tags_opens_units_at_begin_and_at_an_orphan_inside():
    assert decode_tags([0, 1, 2, 2, 0, 1, 1, 0]) == [(1, 3), (5, 5), (6, 6)]
    assert decode_tags([2, 2, 0, 0, 2]) == [(0, 1), (4, 4)]
    assert decode_tags([0, 0]) == []


def _valid(tags: tuple[int, ...]) -> bool:
    return tags[0] != 2 and all(not (a == 0 and b == 2) for a, b in itertools.pairwise(tags))


def test_best_tags_never_opens_a_unit_with_inside():
    # per sentence log-probabilities of (outside, begin, inside)
    scores = np.log(np.array([[0.6, 0.1, 0.3], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.5, 0.1, 0.4]]))

    # argmax would give O I I O (a unit without a beginning); the best valid sequence, by brute force:
    expected = max(
        (t for t in itertools.product(range(3), repeat=4) if _valid(t)),
        key=lambda t: sum(scores[i, tag] for i, tag in enumerate(t)),
    )
    assert best_tags(scores) == list(expected) == [0, 1, 2, 0]
    assert best_tags(np.zeros((0, 3))) == []


def _path_score(scores: np.ndarray, transitions: np.ndarray, start: np.ndarray, tags: tuple[int, ...]) -> float:
    total = start[tags[0]] + scores[0, tags[0]]
    for index in range(1, len(tags)):
        total += transitions[tags[index - 1], tags[index]] + scores[index, tags[index]]
    return float(total)


def test_best_tags_with_learned_transitions_is_the_best_valid_sequence_by_brute_force():
    rng = np.random.default_rng(0)
    scores, transitions, start = rng.normal(size=(5, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)
    paths = [t for t in itertools.product(range(3), repeat=5) if _valid(t)]
    expected = max(paths, key=lambda t: _path_score(scores, transitions, start, t))
    assert best_tags(scores, transitions, start) == list(expected)


def test_crf_loss_is_minus_log_of_the_gold_path_share_over_all_valid_paths():
    torch.manual_seed(0)
    tagger = SentenceTagger(TaggerShape(embedding_dim=4, feature_count=2))
    with torch.no_grad():
        tagger.transitions.copy_(torch.randn(3, 3))
        tagger.start.copy_(torch.randn(3))
    scores = torch.randn(2, 4, 3)
    tags = torch.tensor([[0, 1, 2, 0], [1, 1, 2, -100]])  # the second bulletin has 3 sentences and one padding slot
    mask = tags >= 0
    losses = tagger.sequence_nll(scores, tags, mask).detach().numpy()
    transitions, start = tagger.chain()
    for row, length in enumerate((4, 3)):
        emitted = scores[row, :length].numpy()
        paths = [t for t in itertools.product(range(3), repeat=length) if _valid(t)]
        log_total = np.logaddexp.reduce([_path_score(emitted, transitions, start, t) for t in paths])
        gold = tuple(tags[row, :length].tolist())
        assert losses[row] == pytest.approx(log_total - _path_score(emitted, transitions, start, gold), abs=1e-4)


def test_sentences_cover_the_body_and_map_back_to_the_original_text():
    text = (
        "SOURCE: x\n---\n一、某公司未落实日志留存制度。\n公安机关对其处以警告。\n\n二、張某編造謠言，被行政拘留5日。"
    )
    sentenced = sentence_bulletin(text, text.index("---") + 4)
    pieces = sentenced.texts()
    assert pieces[0].startswith("一、某公司") and len(pieces) == 3
    assert all(s.start >= sentenced.normalized.to_normalized(text.index("---") + 4) for s in sentenced.sentences)
    assert all(len(s.features) == len(FEATURE_NAMES) for s in sentenced.sentences)


@pytest.fixture(scope="module")
def annotated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few authored corpus bulletins as an annotated directory (stands in for real ones)."""
    out = tmp_path_factory.mktemp("annotated")
    for txt in sorted(BUILD_DIR.glob("*.txt"))[:BULLETINS]:
        shutil.copy(txt, out / txt.name)
        shutil.copy(txt.with_suffix(".jsonl"), out / txt.with_suffix(".jsonl").name)
    return out


def _overrides(out: Path, annotated_dir: Path, tiny_base_dir: Path, *extra: str) -> list[str]:
    return [
        "--data.train", f"[{annotated_dir}]", "--data.real", f"[{annotated_dir}]", "--data.real_validation_fraction",
        "0.25", "--model.base_model", str(tiny_base_dir), "--training.output_dir", str(out),
        "--segmenter.layout_pages", "4", "--segmenter.hidden_size", "32",
        "--segmenter.patience", "0", "--segmenter.ensemble", "2", "--segmenter.workers", "1", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory, annotated_dir, tiny_base_dir) -> Path:
    out = tmp_path_factory.mktemp("segmenter")
    config = load_config(None, _overrides(out, annotated_dir, tiny_base_dir, "--segmenter.epochs", "12"))
    train_segmenter(config)
    return out


def test_trained_segmenter_learns_the_units_of_its_training_bulletins(trained, annotated_dir):
    segmenter = LearnedSegmenter.load(trained)
    found = gold = matched = 0
    for txt in sorted(annotated_dir.glob("*.txt")):
        text = txt.read_text(encoding="utf-8")
        spans = []
        for line in txt.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines():
            start = text.index(json.loads(line)["text"], spans[-1][1] if spans else 0)
            spans.append((start, start + len(json.loads(line)["text"])))
        units = segmenter.segment(text, txt.name)
        assert all(u.text == text[u.start : u.end] for u in units)
        found, gold = found + len(units), gold + len(spans)
        matched += len(match_spans([(u.start, u.end) for u in units], spans))
    assert matched / gold > 0.8 and matched / found > 0.8


def test_saved_segmenter_says_what_it_was_trained_on(trained):
    meta = (trained / "segmenter.yaml").read_text(encoding="utf-8")
    assert "base_model" in meta and "features" in meta and "versions" in meta
    assert (trained / "config.yaml").is_file() and (trained / "segmenter.safetensors").is_file()


def test_resume_after_a_kill_ends_where_an_uninterrupted_run_ends(tmp_path, annotated_dir, tiny_base_dir):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train_segmenter(load_config(None, _overrides(straight, annotated_dir, tiny_base_dir, "--segmenter.epochs", "3")))
    train_segmenter(load_config(None, _overrides(resumed, annotated_dir, tiny_base_dir, "--segmenter.epochs", "1")))
    config = load_config(None, _overrides(resumed, annotated_dir, tiny_base_dir, "--segmenter.epochs", "3"))
    train_segmenter(config, resume=True)
    a = load_file(str(straight / "segmenter.safetensors"))
    b = load_file(str(resumed / "segmenter.safetensors"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_members_trained_in_worker_processes_equal_members_trained_in_turn(tmp_path, annotated_dir, tiny_base_dir):
    in_turn, in_workers = tmp_path / "in_turn", tmp_path / "in_workers"
    overrides = ("--segmenter.epochs", "2", "--segmenter.ensemble", "2")
    train_segmenter(load_config(None, _overrides(in_turn, annotated_dir, tiny_base_dir, *overrides)))
    config = load_config(
        None, _overrides(in_workers, annotated_dir, tiny_base_dir, *overrides, "--segmenter.workers", "2")
    )
    train_segmenter(config)
    a = load_file(str(in_turn / "segmenter.safetensors"))
    b = load_file(str(in_workers / "segmenter.safetensors"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    # two seeds, two different taggers
    assert not (a["members.0.head.weight"] == a["members.1.head.weight"]).all()


def test_ensemble_decodes_with_the_mean_of_its_members_scores():
    torch.manual_seed(0)
    members = [SentenceTagger(TaggerShape(embedding_dim=4, feature_count=len(FEATURE_NAMES))) for _ in range(3)]
    for member in members:
        with torch.no_grad():
            member.transitions.copy_(torch.randn(3, 3))
            member.start.copy_(torch.randn(3))
    ensemble = TaggerEnsemble(members).eval()
    batch = {
        "embeddings": torch.randn(2, 5, 4),
        "features": torch.randn(2, 5, len(FEATURE_NAMES)),
        "mask": torch.tensor([[True] * 5, [True] * 3 + [False] * 2]),
    }
    with torch.no_grad():
        each = [member.eval()(batch).numpy() for member in members]
        together = ensemble(batch).numpy()
    assert np.allclose(together, sum(each) / 3, atol=1e-6)
    transitions, start = ensemble.chain()
    assert np.allclose(transitions, sum(m.transitions.detach().numpy() for m in members) / 3)
    assert np.allclose(start, sum(m.start.detach().numpy() for m in members) / 3)


def test_a_segmenter_saved_before_ensembles_asks_to_be_retrained(tmp_path, trained):
    old = tmp_path / "old"
    shutil.copytree(trained, old)
    weights = load_file(str(old / "segmenter.safetensors"))
    save_file({k.removeprefix("members.0."): v for k, v in weights.items() if k.startswith("members.0.")},
              str(old / "segmenter.safetensors"))  # fmt: skip
    meta = yaml.safe_load((old / "segmenter.yaml").read_text(encoding="utf-8"))
    del meta["members"]
    (old / "segmenter.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ModelError, match="retrain"):
        LearnedSegmenter.load(old)


def test_missing_or_corrupt_segmenter_directories_are_clear_errors(tmp_path, trained):
    with pytest.raises(ModelError, match="not a segmenter"):
        LearnedSegmenter.load(tmp_path / "nothing")
    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / "segmenter.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match="corrupt"):
        load_segmenter(broken)


def test_auto_uses_the_model_directory_segmenter_then_the_rules(tmp_path, trained, monkeypatch):
    monkeypatch.delenv("PENALTY_SEGMENTER", raising=False)
    monkeypatch.chdir(tmp_path)  # no runs/default/segmenter here
    assert isinstance(load_segmenter("auto", tmp_path), RuleSegmenter)
    shutil.copytree(trained, tmp_path / "segmenter")
    assert isinstance(load_segmenter("auto", tmp_path), LearnedSegmenter)
    monkeypatch.setenv("PENALTY_SEGMENTER", "rules")
    assert isinstance(load_segmenter("auto"), RuleSegmenter)


def test_predictor_and_cli_segment_with_the_trained_segmenter(tmp_path, trained, annotated_dir, capsys):
    predictor = Predictor.from_pretrained("rules", segmenter=str(trained))
    assert isinstance(predictor.segmenter, LearnedSegmenter)
    txt = sorted(annotated_dir.glob("*.txt"))[0]
    units = predictor.segmenter.segment(txt.read_text(encoding="utf-8"), txt.name)
    expected = [[u.start, u.end] for u in units]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    status = main(["-q", "segment", "--segmenter", str(trained), str(txt), str(bad)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[r["start"], r["end"]] for r in records if r.get("source") == str(txt)] == expected
    assert any(r.get("source") == str(bad) and "error" in r for r in records) and status == 1


def test_segment_cv_scores_each_bulletin_once_and_writes_its_spans(tmp_path, annotated_dir, tiny_base_dir, label_set):
    from data.annotated import load_annotated_dir
    from data.segment import segment_bulletin
    from training.segment_cv import cross_validate_segmenter

    overrides = _overrides(tmp_path / "unused", annotated_dir, tiny_base_dir, "--segmenter.epochs", "1")
    config = load_config(None, [*overrides, "--segmenter.ensemble", "1"])
    summary = cross_validate_segmenter(config, [str(annotated_dir)], 4, str(tmp_path / "cv"))
    records = {}
    for line in (tmp_path / "cv" / "predictions.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert record["name"] not in records  # scored in exactly one fold
        records[record["name"]] = record
    items = {f"{annotated_dir}:{item.doc}": item for item in load_annotated_dir(annotated_dir, label_set)}
    assert records.keys() == items.keys() and {r["fold"] for r in records.values()} == {1, 2, 3, 4}
    for name, item in items.items():
        assert [tuple(span) for span in records[name]["gold"]] == [tuple(span) for span in item.spans]
        rules = segment_bulletin(item.bulletin.text, name, item.bulletin.body_start)
        assert [tuple(span) for span in records[name]["rules"]] == [(u.start, u.end) for u in rules]
    for model in ("rules", "learned"):  # the pooled counts are those of the written spans
        pooled = summary["pooled"][model]
        assert pooled["tp"] + pooled["fp"] == sum(len(r[model]) for r in records.values())
