import csv
import io
import json
import sys
from pathlib import Path

import pytest

from cli import main

# Short bulletins written for these tests (never copied from real ones): one or two cases each.
COMPANIES = ["某网络科技公司", "某信息技术公司", "某数据服务公司", "某网吧", "某软件公司", "某传媒公司"]
PEOPLE = ["王某", "刘某", "陈某", "赵某"]


def _bulletin(number: int) -> str:
    company = COMPANIES[number % len(COMPANIES)]
    person = PEOPLE[number % len(PEOPLE)]
    return (
        f"某县公安局网安大队通报第{number + 1}期执法案例\n\n"
        f"案例一：{company}未落实网络安全保护制度案\n"
        f"经查，{company}未按规定留存网络日志，公安机关依据《中华人民共和国网络安全法》对其处以警告，并责令改正。\n\n"
        f"案例二：{person}利用VPN翻墙案\n"
        f"{person}擅自使用VPN软件访问境外网站，公安机关对其处以警告，并处罚款{number + 1}百元。\n"
    )


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds ``lines``: a CID font with a ToUnicode map, no embedded glyphs."""
    chars = sorted({c for line in lines for c in line})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    bfchar = "\n".join(f"<{cid[c]:04X}> <{ord(c):04X}>" for c in chars)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Custom def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n{bfchar}\nendbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end"
    )
    shown = ["<" + "".join(f"{cid[c]:04X}" for c in line) + "> Tj T*" for line in lines]
    content = "\n".join(["BT", "/F1 12 Tf", "14 TL", "50 780 Td", *shown, "ET"])
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type0 /BaseFont /Song /Encoding /Identity-H /DescendantFonts [6 0 R] "
        "/ToUnicode 7 0 R >>",
        f"<< /Length {len(content.encode())} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Song "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        f"<< /Length {len(cmap.encode())} >>\nstream\n{cmap}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@pytest.fixture
def mixed_dir(tmp_path: Path) -> Path:
    """Good bulletins (UTF-8, GBK, PDF) beside an empty, a binary, an undecodable and a broken PDF file."""
    root = tmp_path / "crawl"
    (root / "sub").mkdir(parents=True)
    for number in range(3):
        (root / f"good{number}.txt").write_text(_bulletin(number), encoding="utf-8")
    (root / "sub" / "gbk.txt").write_bytes(_bulletin(7).encode("gbk"))
    (root / "good.pdf").write_bytes(_pdf(_bulletin(8).splitlines()))
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (root / "undecodable.txt").write_bytes(b"abc\x80\xff\xff\xff" * 4)
    (root / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    (root / "notes.md").write_text("not a bulletin suffix: ignored", encoding="utf-8")
    return root


GOOD = {"good0.txt", "good1.txt", "good2.txt", "gbk.txt", "good.pdf"}
BAD = {"empty.txt", "binary.txt", "undecodable.txt", "broken.pdf"}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_batch_predict_accounts_for_every_file_and_exits_1_on_failures(mixed_dir, tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["-q", "predict", "--model", "rules", str(mixed_dir), "-o", str(out)]) == 1
    records = _jsonl(out)
    by_file: dict[str, list[dict]] = {}
    for record in records:
        by_file.setdefault(Path(record["source"]).name, []).append(record)
    assert set(by_file) == GOOD | BAD
    for name in BAD:
        assert len(by_file[name]) == 1 and by_file[name][0]["error"], name
    for name in GOOD:
        cases = by_file[name]
        assert len(cases) == 2 and [c["offense"] for c in cases] == ["security_duty", "vpn_circumvention"], name
        assert "error" not in cases[0] and cases[1]["fine_amounts"], name


def test_batch_predict_clean_directory_exits_0(tmp_path):
    for number in range(2):
        (tmp_path / f"b{number}.txt").write_text(_bulletin(number), encoding="utf-8")
    assert main(["-q", "predict", "--model", "rules", str(tmp_path), "-o", str(tmp_path / "out.jsonl")]) == 0
    assert len(_jsonl(tmp_path / "out.jsonl")) == 4


def test_batch_predict_units_keeps_one_line_per_input_line_in_order(tmp_path):
    gold = tmp_path / "gold.jsonl"
    lines = [
        json.dumps({"doc": "d", "text": "某公司未落实网络安全保护制度，对其处以警告。", "offense": "security_duty"}),
        '{"doc": "d", "text": "truncated',
        json.dumps({"doc": "d", "text": "王某使用VPN翻墙，被处以罚款五百元。", "offense": "vpn_circumvention"}),
        json.dumps({"doc": "d", "offense": "other"}),
        json.dumps(["not", "an", "object"]),
    ]
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["-q", "predict", "--model", "rules", "--units", str(gold), "-o", str(out)]) == 1
    records = _jsonl(out)
    assert [r["source"] for r in records] == [f"{gold}:{n}" for n in range(1, 6)]
    assert ["error" in r for r in records] == [False, True, False, True, True]
    assert "malformed JSON" in records[1]["error"] and records[2]["offense"] == "vpn_circumvention"


def test_batch_predict_writes_csv_with_bom_and_columns(mixed_dir, tmp_path):
    out = tmp_path / "out.csv"
    main(["-q", "predict", "--model", "rules", str(mixed_dir), "-o", str(out)])
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read Chinese CSV as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 2 * len(GOOD) + len(BAD)
    assert {r["offense"] for r in rows if not r["error"]} == {"security_duty", "vpn_circumvention"}
    assert any("罚款" in r["text"] for r in rows)


def test_batch_predict_writes_xlsx(mixed_dir, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "out.xlsx"
    main(["-q", "predict", "--model", "rules", str(mixed_dir), "-o", str(out)])
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert header[:5] == ("source", "case", "start", "end", "offense") and len(data) == 2 * len(GOOD) + len(BAD)


def test_batch_predict_shards_partition_the_inputs_exactly(mixed_dir, tmp_path):
    for number in range(10):
        (mixed_dir / f"extra{number}.txt").write_text(_bulletin(number), encoding="utf-8")
    sources = []
    for index in range(2):
        out = tmp_path / f"shard{index}.jsonl"
        main(["-q", "predict", "--model", "rules", str(mixed_dir), "--shard", f"{index}/2", "-o", str(out)])
        sources.append({r["source"] for r in _jsonl(out)})
    assert sources[0].isdisjoint(sources[1])
    assert {Path(s).name for s in sources[0] | sources[1]} == GOOD | BAD | {f"extra{n}.txt" for n in range(10)}


def test_batch_predict_rejects_bad_shard_spec(mixed_dir, capsys):
    assert main(["-q", "predict", "--model", "rules", str(mixed_dir), "--shard", "2/2"]) == 1
    assert "--shard 2/2" in capsys.readouterr().err


def test_batch_predict_reads_stdin_dash(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_bulletin(3).encode("gbk")), encoding="utf-8"))
    assert main(["-q", "predict", "--model", "rules", "-"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["source"] for r in records] == ["<stdin>", "<stdin>"]
    assert [r["offense"] for r in records] == ["security_duty", "vpn_circumvention"]


def test_batch_predict_missing_model_directory_exits_1(tmp_path, capsys):
    assert main(["-q", "predict", "--model", str(tmp_path / "nowhere"), str(tmp_path)]) == 1
    assert "does not exist" in capsys.readouterr().err
