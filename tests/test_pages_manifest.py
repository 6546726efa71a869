"""The pages manifest keeps offsets, hashes and labels only, and rebuilds the annotated pages exactly from a copy."""

import hashlib
import json
from pathlib import Path

import pytest

from data.errors import AnnotationError
from data.labels import LabelSet
from data.pages_manifest import main, read_manifest, rebuild, write_manifest

HEADER = "SOURCE: https://example.org/p1\nTITLE: 某市网警通报两起案例\nDATE: 2024-05-01\n---\n"
LEAD = "为营造清朗网络空间，现通报两起案例。\n"
CASE_1 = "案例一：\n某科技公司未落实网络安全等级保护制度，公安机关依法给予警告并处罚款一万元。"
MIDDLE = "\n（编辑：张三）\n"
CASE_2 = "案例二：\n网民李某在网上散布谣言，被依法行政拘留五日。"
PAGE_1 = HEADER + LEAD + CASE_1 + MIDDLE + CASE_2 + "\n"
PAGE_2 = (
    "SOURCE: https://example.org/p2\nTITLE: 网络安全提示\nDATE: unknown\n---\n请广大网民提高警惕，保护个人信息。\n"
)

GOLD_1 = [
    {
        "doc": "p1",
        "text": CASE_1,
        "offense": "security_duty",
        "penalties": ["warning", "fine"],
        "fine_amounts": [10000],
        "party": "organization",
        "complete": True,
    },
    {
        "doc": "p1",
        "text": CASE_2,
        "offense": "rumor_and_cyberbullying",
        "penalties": ["admin_detention"],
        "fine_amounts": [],
        "party": "individual",
        "complete": True,
    },
]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_pages(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "p1.txt").write_text(PAGE_1, encoding="utf-8")
    (directory / "p1.jsonl").write_text(
        "".join(json.dumps(g, ensure_ascii=False) + "\n" for g in GOLD_1), encoding="utf-8"
    )
    (directory / "p2.txt").write_text(PAGE_2, encoding="utf-8")
    (directory / "p2.jsonl").write_text("", encoding="utf-8")
    return directory


@pytest.fixture
def label_set() -> LabelSet:
    return LabelSet.load()


def test_write_records_offsets_and_hashes_but_no_text(tmp_path: Path, label_set: LabelSet) -> None:
    pages = _write_pages(tmp_path / "pages")
    manifest = tmp_path / "m.jsonl"
    write_manifest([pages], "dev", manifest, label_set)
    lines = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    assert [line["name"] for line in lines] == ["p1", "p2"]
    first = lines[0]
    start_1 = len(HEADER) + len(LEAD)
    start_2 = start_1 + len(CASE_1) + len(MIDDLE)
    assert (first["url"], first["title"], first["date"], first["role"]) == (
        "https://example.org/p1",
        "某市网警通报两起案例",
        "2024-05-01",
        "dev",
    )
    assert first["sha256"] == _sha(PAGE_1) and first["chars"] == len(PAGE_1)
    assert [(u["start"], u["end"]) for u in first["units"]] == [
        (start_1, start_1 + len(CASE_1)),
        (start_2, start_2 + len(CASE_2)),
    ]
    assert [u["offset_sha256"] for u in first["units"]] == [_sha(CASE_1), _sha(CASE_2)]
    assert first["units"][0]["fine_amounts"] == [10000] and first["units"][1]["penalties"] == ["admin_detention"]
    assert lines[1]["units"] == [] and lines[1]["date"] == "unknown"
    raw = manifest.read_text(encoding="utf-8")
    assert "谣言" not in raw and "等级保护" not in raw  # no page text in the manifest


def test_rebuild_round_trips_exactly(tmp_path: Path, label_set: LabelSet) -> None:
    pages = _write_pages(tmp_path / "pages")
    manifest = tmp_path / "m.jsonl"
    write_manifest([pages], "dev", manifest, label_set)
    copy = tmp_path / "copy"
    copy.mkdir()
    # a re-collected copy saved as GBK decodes to the same text, so it matches
    (copy / "p1.txt").write_bytes(PAGE_1.encode("gbk"))
    (copy / "p2.txt").write_text(PAGE_2, encoding="utf-8")
    out = tmp_path / "out"
    report = rebuild(manifest, copy, out, label_set)
    assert report.ok and report.rebuilt == ["p1", "p2"]
    assert (out / "p1.txt").read_text(encoding="utf-8") == PAGE_1
    rebuilt_gold = [json.loads(line) for line in (out / "p1.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rebuilt_gold == GOLD_1
    assert (out / "p2.jsonl").read_text(encoding="utf-8") == ""


def test_modified_copy_is_a_mismatch_and_skipped(tmp_path: Path, label_set: LabelSet) -> None:
    pages = _write_pages(tmp_path / "pages")
    manifest = tmp_path / "m.jsonl"
    write_manifest([pages], "dev", manifest, label_set)
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "p1.txt").write_text(PAGE_1.replace("一万元", "二万元"), encoding="utf-8")
    out = tmp_path / "out"
    report = rebuild(manifest, copy, out, label_set)
    assert report.mismatched == ["p1"] and report.missing == ["p2"] and report.rebuilt == []
    assert not (out / "p1.txt").exists() and not (out / "p1.jsonl").exists()
    assert main(["rebuild", str(manifest), str(copy), "-o", str(out)]) == 1


def test_writing_one_role_keeps_the_other(tmp_path: Path, label_set: LabelSet) -> None:
    dev = _write_pages(tmp_path / "dev")
    held = tmp_path / "held"
    held.mkdir()
    (held / "h1.txt").write_text(PAGE_2.replace("p2", "h1"), encoding="utf-8")
    (held / "h1.jsonl").write_text("", encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    assert main(["write", str(dev), "--role", "dev", "-o", str(manifest)]) == 0
    assert main(["write", str(held), "--role", "heldout", "-o", str(manifest)]) == 0
    (dev / "p2.txt").unlink()
    (dev / "p2.jsonl").unlink()
    write_manifest([dev], "dev", manifest, label_set)  # rewriting dev replaces dev's lines only
    assert [(e.role, e.name) for e in read_manifest(manifest)] == [("dev", "p1"), ("heldout", "h1")]
    only_held = tmp_path / "out"
    report = rebuild(manifest, held, only_held, label_set, role="heldout")
    assert report.ok and report.rebuilt == ["h1"]


def test_unknown_label_or_missing_text_stops_the_write(tmp_path: Path, label_set: LabelSet) -> None:
    pages = _write_pages(tmp_path / "pages")
    bad = dict(GOLD_1[0], offense="no_such_offense")
    (pages / "p1.jsonl").write_text(json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError):
        write_manifest([pages], "dev", tmp_path / "m.jsonl", label_set)
    absent = dict(GOLD_1[0], text="这段文字不在页面里")
    (pages / "p1.jsonl").write_text(json.dumps(absent, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError):
        write_manifest([pages], "dev", tmp_path / "m.jsonl", label_set)
    assert not (tmp_path / "m.jsonl").exists()
