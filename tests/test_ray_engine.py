"""``penalty predict --engine ray`` in Ray's local mode: the plain CLI's records, as shards in a directory."""

import json
import sys
from pathlib import Path

import pytest

from cli import main

# Short bulletins written for these tests (never copied from real ones); one has no case unit at all.
COMPANIES = ["某网络科技公司", "某信息技术公司", "某数据服务公司", "某网吧", "某软件公司"]


def _bulletin(number: int) -> str:
    company = COMPANIES[number % len(COMPANIES)]
    return (
        f"某县公安局网安大队通报第{number + 1}期执法案例\n\n"
        f"案例一：{company}未落实网络安全保护制度案\n"
        f"经查，{company}未按规定留存网络日志，公安机关依据《中华人民共和国网络安全法》对其处以警告，并责令改正。\n"
        + "日志留存不少于六个月。\n"
        * number
        + "\n案例二：王某利用VPN翻墙案\n"
        f"王某擅自使用VPN软件访问境外网站，公安机关对其处以警告，并处罚款{number + 1}百元。\n"
    )


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (starting it takes seconds); shut down after the last test."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def crawl(tmp_path: Path) -> Path:
    """Good bulletins of different lengths, an empty, an undecodable one and one without any case."""
    root = tmp_path / "crawl"
    (root / "sub").mkdir(parents=True)
    for number in range(5):
        (root / ("sub" if number % 2 else "") / f"good{number}.txt").write_text(_bulletin(number), encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "undecodable.txt").write_bytes(b"abc\x80\xff\xff\xff" * 4)
    (root / "no_case.txt").write_text("某县公安局网安大队关于开展网络安全宣传周活动的通知。\n", encoding="utf-8")
    return root


def _plain_records(inputs: list[str], output: Path) -> list[dict]:
    assert main(["-q", "predict", "--segmenter", "rules", *inputs, "-o", str(output)]) == 1
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


def _by_source(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: (r["source"], r.get("case") or 0))


@pytest.mark.slow  # Ray's local start and its actors take ~15 s on 2 cores
def test_ray_engine_writes_the_plain_cli_records_once_each(local_ray, crawl: Path, tmp_path: Path) -> None:
    inputs = [str(crawl), str(tmp_path / "missing.txt")]
    out = tmp_path / "shards"
    command = ["-q", "predict", "--engine", "ray", "--workers", "2", "--segmenter", "rules", *inputs, "-o", str(out)]
    assert main(command) == 1
    shards = {path.name: path.read_text(encoding="utf-8").splitlines() for path in sorted(out.iterdir())}
    assert len(shards) > 1 and all(name.startswith("part-") and name.endswith(".jsonl") for name in shards)
    records = [json.loads(line) for lines in shards.values() for line in lines]
    shard_of = {}
    for name, lines in shards.items():
        for record in map(json.loads, lines):
            assert shard_of.setdefault(record["source"], name) == name  # a bulletin's records stay in one shard
    assert len(shard_of) == 9  # 5 good, empty, undecodable, no case, missing
    errors = {Path(r["source"]).name for r in records if "error" in r}
    assert errors == {"empty.txt", "undecodable.txt", "missing.txt"}
    assert [Path(r["source"]).name for r in records if r.get("case", 0) is None] == ["no_case.txt"]
    assert _by_source(records) == _by_source(_plain_records(inputs, tmp_path / "plain.jsonl"))


@pytest.mark.slow  # Ray's local start and its actors take ~15 s on 2 cores
def test_ray_engine_parquet_shards_hold_the_same_records(local_ray, crawl: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "shards"
    command = [
        "-q",
        "predict",
        "--engine",
        "ray",
        "--format",
        "parquet",
        "--segmenter",
        "rules",
        str(crawl),
        "-o",
        str(out),
    ]
    assert main(command) == 1
    assert {path.suffix for path in out.iterdir()} == {".parquet"}
    rows = pq.read_table(out).to_pylist()
    for row in rows:  # Parquet has one column per field: a record's absent fields read back as null
        row["penalty_scores"] = dict(row["penalty_scores"]) if row["penalty_scores"] is not None else None
    plain = _plain_records([str(crawl)], tmp_path / "plain.jsonl")
    assert _by_source([{k: v for k, v in row.items() if v is not None} for row in rows]) == _by_source(
        [{k: v for k, v in record.items() if v is not None} for record in plain]
    )


def test_ray_engine_refuses_a_directory_that_already_holds_shards(crawl: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "shards"
    out.mkdir()
    (out / "part-00000.jsonl").write_text("", encoding="utf-8")
    assert main(["predict", "--engine", "ray", str(crawl), "-o", str(out)]) == 1
    assert "already holds shards" in capsys.readouterr().err


def test_ray_engine_without_ray_names_the_extra(crawl: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes ``import ray`` fail, as where the extra is not installed
    assert main(["predict", "--engine", "ray", str(crawl), "-o", str(tmp_path / "shards")]) == 1
    assert "pip install '.[ray]'" in capsys.readouterr().err


def test_predict_ray_options_need_the_ray_engine(crawl: Path, capsys) -> None:
    assert main(["predict", "--workers", "2", str(crawl)]) == 1
    assert "options of --engine ray" in capsys.readouterr().err
