import pytest

from data.errors import AnnotationError, PenaltyError
from data.labels import LabelSet


def test_label_set_default_mirrors_spec(label_set):
    assert len(label_set.offenses) == 16 and len(label_set.penalties) == 12
    assert label_set.parties == ("organization", "individual", "both")
    assert label_set.penalties[0] == "sentence" and label_set.penalties[-1] == "interview"


def test_label_set_primary_penalty_follows_severity_order(label_set):
    assert label_set.primary_penalty({"warning", "fine", "admin_detention"}) == "admin_detention"
    assert label_set.primary_penalty({"interview", "rectification"}) == "rectification"
    assert label_set.primary_penalty(set()) == "none"


def test_label_set_custom_file_is_used(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\noffense: [a, b]\npenalties: [severe, mild]\nparty: [x]\n", encoding="utf-8")
    mine = LabelSet.load(path)
    assert mine.offenses == ("a", "b") and mine.primary_penalty({"mild", "severe"}) == "severe"


def test_label_set_rejects_file_without_sections(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("offense: [a]\n", encoding="utf-8")
    with pytest.raises(PenaltyError, match="penalties"):
        LabelSet.load(path)


def test_label_set_check_names_place_and_label(label_set):
    with pytest.raises(AnnotationError, match=r"unknown penalty 'fines' at f.jsonl:3"):
        label_set.check("penalty", "fines", "f.jsonl:3")


def test_label_set_round_trips_through_dict(label_set):
    assert LabelSet.from_dict(label_set.to_dict()) == label_set
    assert LabelSet.from_dict(label_set.to_dict()).fingerprint == label_set.fingerprint
