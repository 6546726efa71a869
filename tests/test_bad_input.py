"""Bad and hostile input (issue 13): every input is accounted for, nothing crashes, nothing runs away.

Every bulletin here was written for these tests; none is copied from a real one.
"""

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import data.reader
from cli import main
from data.errors import InputError
from data.inputs import InputFailure, read_inputs
from data.reader import read_bulletin, read_bulletin_bytes
from models.predictor import Predictor
from web.app import create_app

SIMPLIFIED = (
    "某县公安局通报执法案例\n\n案例一：某网络科技公司未落实网络安全保护制度案\n"
    "经查，该公司未按规定留存网络日志，公安机关对其处以警告，并责令改正。\n\n"
    "案例二：王某利用VPN翻墙案\n王某擅自使用VPN软件访问境外网站，公安机关对其处以警告，并处罚款五百元。\n"
)
TRADITIONAL = (
    "某縣公安局通報執法案例\n\n案例一：某網絡科技公司未落實網絡安全保護制度案\n"
    "經查，該公司未按規定留存網絡日誌，公安機關對其處以警告，並責令改正。\n\n"
    "案例二：王某利用VPN翻牆案\n王某擅自使用VPN軟件訪問境外網站，公安機關對其處以警告，並處罰款五百元。\n"
)


def _docx(lines: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _rewrite_member(raw: bytes, name: str, rewrite) -> bytes:
    """The same .docx with one member's bytes replaced by ``rewrite(old_bytes)`` (deflated, like Word)."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            content = source.read(member)
            archive.writestr(member.filename, rewrite(content) if member.filename == name else content)
    return out.getvalue()


def _malformed_docx() -> bytes:
    return _rewrite_member(_docx(SIMPLIFIED.splitlines()), "word/document.xml", lambda xml: xml[: len(xml) // 2])


def _bomb_docx(padding: int = 30_000_000) -> bytes:
    """A valid .docx whose document.xml holds ``padding`` spaces: ~30 KB on disk, 30 MB unpacked."""
    return _rewrite_member(
        _docx(["案例一"]), "word/document.xml", lambda xml: xml.replace(b"</w:body>", b" " * padding + b"</w:body>")
    )


@pytest.fixture(scope="module")
def predictor(label_set) -> Predictor:
    return Predictor.from_pretrained("rules", label_set)


@pytest.fixture
def client(predictor) -> TestClient:
    return TestClient(create_app(predictor, max_bytes=1_000_000))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- 2. A .docx with malformed XML is one failed input, not a crash ---------------------------------------------


def test_reader_malformed_docx_xml_is_input_error():
    with pytest.raises(InputError, match=r"b\.docx: not a valid \.docx"):
        read_bulletin_bytes(_malformed_docx(), "b.docx", ".docx")


@pytest.mark.parametrize("command", [["predict", "--model", "rules"], ["segment"]])
def test_cli_malformed_docx_fails_alone_and_good_files_keep_their_output(tmp_path, command):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.docx").write_bytes(_malformed_docx())
    (tmp_path / "in" / "good.txt").write_text(SIMPLIFIED, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["-q", *command, str(tmp_path / "in"), "-o", str(out)]) == 1
    records = _jsonl(out)
    bad = [r for r in records if r["source"].endswith("bad.docx")]
    assert len(bad) == 1 and "not a valid .docx" in bad[0]["error"]
    assert sum(r["source"].endswith("good.txt") for r in records) == 2


def test_web_malformed_docx_upload_is_422(client):
    response = client.post("/predict/file", files={"file": ("b.docx", _malformed_docx(), "application/octet-stream")})
    assert response.status_code == 422 and "not a valid .docx" in response.json()["detail"]


# --- 3. A .docx that unpacks hugely is refused on its unpacked size ---------------------------------------------


def test_reader_refuses_docx_that_unpacks_beyond_the_limit():
    bomb = _bomb_docx()
    assert len(bomb) < 200_000
    with pytest.raises(InputError, match="unpacks to more than"):
        read_bulletin_bytes(bomb, "bomb.docx", ".docx")


def _forge_declared_size(raw: bytes, name: str, size: int) -> bytes:
    """Rewrite ``name``'s uncompressed size in the zip's central directory (the size zipfile believes)."""
    forged = bytearray(raw)
    entry = forged.find(b"PK\x01\x02")
    while forged[entry + 46 : entry + 46 + int.from_bytes(forged[entry + 28 : entry + 30], "little")] != name.encode():
        entry = forged.find(b"PK\x01\x02", entry + 1)
    forged[entry + 24 : entry + 28] = size.to_bytes(4, "little")
    return bytes(forged)


def test_reader_refuses_docx_member_whose_declared_size_is_forged():
    forged = _forge_declared_size(_bomb_docx(3_000_000), "word/document.xml", 1000)  # claims 1 KB, inflates to 3 MB
    assert zipfile.ZipFile(io.BytesIO(forged)).getinfo("word/document.xml").file_size == 1000
    with pytest.raises(InputError, match="not a valid .docx"):
        read_bulletin_bytes(forged, "forged.docx", ".docx")


def test_reader_refuses_extracted_text_beyond_the_limit(monkeypatch):
    monkeypatch.setattr(data.reader, "MAX_TEXT_CHARS", 40)
    with pytest.raises(InputError, match="characters of text extracted"):
        read_bulletin_bytes(_docx(["案例一：" + "某" * 60]), "long.docx", ".docx")


def test_web_docx_bomb_upload_is_422(client):
    response = client.post("/predict/file", files={"file": ("bomb.docx", _bomb_docx(), "application/octet-stream")})
    assert response.status_code == 422 and "unpacks to more than" in response.json()["detail"]


# --- 9. Big5 bulletins decode as Big5, not as GB18030 garbage ---------------------------------------------------


def test_reader_decodes_big5_bulletin_exactly(tmp_path):
    path = tmp_path / "mirror.txt"
    path.write_bytes(("SOURCE: https://example.org/m\n---\n" + TRADITIONAL).encode("big5"))
    bulletin = read_bulletin(path)
    assert bulletin.encoding == "big5" and bulletin.text[bulletin.body_start :] == TRADITIONAL


def test_reader_decodes_short_big5_that_is_also_valid_gbk():
    raw = "網警通報".encode("big5")
    assert raw.decode("gbk") != "網警通報"  # the trap: GBK accepts these bytes as other characters
    assert read_bulletin_bytes(raw, "s.txt").text == "網警通報"


def test_reader_keeps_gbk_for_gbk_text_mixing_simplified_and_traditional():
    text = SIMPLIFIED + TRADITIONAL  # GBK holds traditional characters too
    bulletin = read_bulletin_bytes(text.encode("gbk"), "mixed.txt")
    assert bulletin.encoding == "gbk" and bulletin.text == text


def test_reader_refuses_file_mixing_gbk_and_big5_bytes():
    with pytest.raises(InputError, match="mixed"):
        read_bulletin_bytes(SIMPLIFIED.encode("gbk") + TRADITIONAL.encode("big5"), "mixed.txt")


def test_read_inputs_decodes_a_directory_of_mixed_encodings(tmp_path):
    files = {
        "utf8.txt": SIMPLIFIED.encode("utf-8"),
        "gbk.txt": SIMPLIFIED.encode("gbk"),
        "gb18030.txt": (SIMPLIFIED + "𠀀").encode("gb18030"),
        "big5.txt": TRADITIONAL.encode("big5"),
    }
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    decoded = {Path(b.source).name: b for b in read_inputs([str(tmp_path)])}
    assert {name: b.encoding for name, b in decoded.items()} == {
        "utf8.txt": "utf-8",
        "gbk.txt": "gbk",
        "gb18030.txt": "gb18030",
        "big5.txt": "big5",
    }
    assert decoded["big5.txt"].text == TRADITIONAL and decoded["gb18030.txt"].text == SIMPLIFIED + "𠀀"
    assert not any(isinstance(b, InputFailure) for b in decoded.values())


# --- 4. A lone surrogate in POST /predict is a 422, never a 500 -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"text": "\\ud800"}', "'text' holds an unpaired surrogate (U+D800)"),
        (b'{"text": "\\u6848\\u4f8b", "source": "a\\udfff"}', "'source' holds an unpaired surrogate (U+DFFF)"),
        (b'{"text": ["\\ud800"]}', "valid string"),
        (b'{"\\ud800": 1}', "Field required"),
        (b"Infinity", "valid dictionary"),  # found by tests/test_properties.py: the echo of inf was a 500 too
    ],
)
def test_web_lone_surrogate_is_422_naming_the_field(predictor, body, message):
    client = TestClient(create_app(predictor), raise_server_exceptions=False)
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and message in response.text


# --- 8. The server log cannot be forged through 'source' --------------------------------------------------------


def test_web_rejection_log_escapes_newlines_in_source(client, caplog):
    forged = "a.txt\nCRITICAL web.app: forged line"
    with caplog.at_level("WARNING", logger="web.app"):
        response = client.post("/predict", json={"text": "SOURCE: x\n---\n", "source": forged})
    assert response.status_code == 422
    logged = [record.getMessage() for record in caplog.records if record.name == "web.app"]
    assert logged and all("\n" not in line for line in logged) and "forged line" in logged[0]


# --- 5. penalty evaluate: empty gold, gold without its bulletin, duplicated gold lines ---------------------------


def _gold_line(doc: str, text: str, offense: str = "vpn_circumvention") -> str:
    record = {"doc": doc, "text": text, "offense": offense, "penalties": ["warning"], "party": "individual"}
    return json.dumps(record, ensure_ascii=False)


UNIT_ONE = "案例一：某网络科技公司未落实网络安全保护制度案"
UNIT_TWO = "案例二：王某利用VPN翻墙案"


@pytest.mark.parametrize("layout", ["annotated directory", "annotation file"])
def test_cli_evaluate_with_only_an_empty_gold_file_fails_cleanly(tmp_path, capsys, layout):
    (tmp_path / "a.jsonl").write_text("", encoding="utf-8")
    if layout == "annotated directory":
        (tmp_path / "a.txt").write_text(SIMPLIFIED, encoding="utf-8")
    data = tmp_path if layout == "annotated directory" else tmp_path / "a.jsonl"
    assert main(["-q", "evaluate", "--model", "rules", "--data", str(data), "--bootstrap", "0"]) == 1
    assert "no gold case unit to score" in capsys.readouterr().err


def test_evaluate_scores_a_gold_file_without_its_bulletin_at_unit_level(tmp_path, predictor, label_set, caplog):
    from eval.harness import evaluate_predictors

    (tmp_path / "a.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (tmp_path / "a.jsonl").write_text(_gold_line("a", UNIT_ONE, "security_duty") + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(_gold_line("b", UNIT_TWO) + "\n", encoding="utf-8")  # b.txt is missing
    result = evaluate_predictors({"rules": predictor}, [str(tmp_path)], label_set, None, n_bootstrap=0)
    assert result["data"]["n_units"] == {"end_to_end": 1, "unit": 2}
    assert any("b.jsonl: no bulletin b.txt" in record.getMessage() for record in caplog.records)


def test_evaluate_counts_a_duplicated_gold_line_once_and_reports_it(tmp_path, predictor, label_set):
    from eval.harness import evaluate_predictors

    (tmp_path / "a.txt").write_text(SIMPLIFIED, encoding="utf-8")
    lines = [_gold_line("a", UNIT_ONE, "security_duty"), _gold_line("a", UNIT_TWO), _gold_line("a", UNIT_TWO)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = evaluate_predictors({"rules": predictor}, [str(tmp_path)], label_set, None, n_bootstrap=0)
    assert result["data"]["n_units"] == {"end_to_end": 2, "unit": 2}
    assert len(result["data"]["problems"]) == 1 and "a.jsonl:3: same doc and text as" in result["data"]["problems"][0]


# --- 6. The directory walk accounts for what it cannot read ------------------------------------------------------


def _predict_dir(directory: Path, out: Path) -> tuple[int, dict[str, list[dict]]]:
    code = main(["-q", "predict", "--model", "rules", str(directory), "-o", str(out)])
    by_source: dict[str, list[dict]] = {}
    for record in _jsonl(out):
        by_source.setdefault(str(Path(record["source"]).relative_to(directory)), []).append(record)
    return code, by_source


def test_walk_reports_dangling_link_and_link_loop(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "good.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (root / "gone.txt").symlink_to(root / "deleted.txt")
    (root / "loop.txt").symlink_to(root / "loop.txt")
    code, by_source = _predict_dir(root, tmp_path / "out.jsonl")
    assert code == 1 and len(by_source["good.txt"]) == 2
    assert "No such file" in by_source["gone.txt"][0]["error"]
    assert "symbolic links" in by_source["loop.txt"][0]["error"]


def test_walk_follows_linked_directory_once_and_reports_the_cycle(tmp_path):
    root = tmp_path / "crawl"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "inner.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (root / "sub" / "up").symlink_to(root)  # a cycle back to the top
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "linked.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (root / "mirror").symlink_to(elsewhere)
    code, by_source = _predict_dir(root, tmp_path / "out.jsonl")
    assert code == 1
    assert len(by_source["sub/inner.txt"]) == 2 and len(by_source["mirror/linked.txt"]) == 2
    assert by_source["sub/up"] == [{"source": str(root / "sub" / "up"), "error": by_source["sub/up"][0]["error"]}]
    assert "already being read" in by_source["sub/up"][0]["error"]


def test_walk_reports_unreadable_subdirectory(tmp_path, monkeypatch):
    import os

    root = tmp_path / "crawl"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "hidden.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (root / "good.txt").write_text(SIMPLIFIED, encoding="utf-8")
    scandir = os.scandir

    def refusing(path=".", *args):  # chmod 000 does not stop root, so the refusal is simulated
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path, *args)

    monkeypatch.setattr(os, "scandir", refusing)
    code, by_source = _predict_dir(root, tmp_path / "out.jsonl")
    assert code == 1 and len(by_source["good.txt"]) == 2
    assert by_source["locked"][0]["error"] == "cannot list directory (Permission denied)"


def test_walk_reports_bulletin_named_fifo_instead_of_blocking(tmp_path):
    import os

    root = tmp_path / "crawl"
    root.mkdir()
    os.mkfifo(root / "pipe.txt")
    code, by_source = _predict_dir(root, tmp_path / "out.jsonl")
    assert code == 1 and by_source["pipe.txt"][0]["error"] == "not a regular file"


# --- 7. Annotation checks ----------------------------------------------------------------------------------------


def _validate(capsys, *paths: Path) -> tuple[int, str]:
    code = main(["data", "validate", *map(str, paths)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("complete", "false", "'complete' must be true or false"), ("fine_amounts", [-500], "must not be negative")],
)
def test_gold_refuses_quoted_complete_and_negative_fines(tmp_path, label_set, field, value, message):
    from data.gold import read_gold_jsonl

    record = json.loads(_gold_line("a", UNIT_TWO)) | {field: value}
    loaded = read_gold_jsonl(_write(tmp_path / "g.jsonl", [json.dumps(record, ensure_ascii=False)]), label_set)
    assert loaded.cases == [] and message in loaded.problems[0] and "g.jsonl:1" in loaded.problems[0]


def _label_studio_task(task_id: int, fines: list[str], complete: str = "true") -> dict:
    def choices(name: str, values: list[str]) -> dict:
        return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": values}}

    result = [
        choices("offense", ["vpn_circumvention"]),
        choices("penalties", ["fine"]),
        choices("party", ["individual"]),
    ]
    result += [choices("complete", [complete]), {"from_name": "fine_amounts", "value": {"text": fines}}]
    return {"id": task_id, "data": {"doc": "d", "text": f"{UNIT_TWO}{task_id}"}, "annotations": [{"result": result}]}


def test_label_studio_reads_grouped_and_yuan_fines_and_reports_unreadable_ones(tmp_path, label_set):
    from data.formats import read_annotations

    tasks = [_label_studio_task(1, ["1,500", "2000元"]), _label_studio_task(2, ["3千"]), _label_studio_task(3, ["5k"])]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    loaded = read_annotations(path, label_set)
    assert [case.fine_amounts for case in loaded.cases] == [(1500, 2000)]
    assert len(loaded.problems) == 2 and "'3千'" in loaded.problems[0] and "task 3" in loaded.problems[1]


def test_doccano_bad_line_does_not_stop_checking_the_rest(tmp_path, label_set):
    from data.formats import read_annotations

    good = {"doc": "d", "text": UNIT_TWO, "label": ["offense:vpn_circumvention", "party:individual"]}
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{broken",
        json.dumps(["not", "an", "object"]),
        json.dumps(good | {"text": UNIT_ONE, "label": ["hacking"]}, ensure_ascii=False),
        json.dumps(good | {"text": UNIT_ONE, "label": [*good["label"], "complete:yes"]}, ensure_ascii=False),
        json.dumps(good | {"text": UNIT_ONE + "。"}, ensure_ascii=False),
    ]
    path = _write(tmp_path / "d.jsonl", lines)
    loaded = read_annotations(path, label_set)
    assert len(loaded.cases) == 2 and len(loaded.problems) == 4
    assert all(f"{path}:{number}" in problem for number, problem in zip(range(2, 6), loaded.problems, strict=True))


def test_annotations_flag_duplicate_units_and_empty_files(tmp_path, capsys):
    duplicate = _write(tmp_path / "dup.jsonl", [_gold_line("a", UNIT_TWO), _gold_line("a", UNIT_TWO)])
    empty = _write(tmp_path / "empty.jsonl", [""])
    code, output = _validate(capsys, duplicate, empty)
    assert code == 1 and f"{duplicate}:2: same doc and text as {duplicate}:1" in output
    assert f"{empty}: no annotation records" in output


def test_cli_validate_reports_unreadable_files_without_traceback(tmp_path, capsys):
    doccano = _write(tmp_path / "d.jsonl", [json.dumps({"label": []}), "[1, 2]"])
    latin = tmp_path / "ls.json"
    latin.write_bytes(b'[{"data": {"text": "caf\xe9"}}]')
    code, output = _validate(capsys, doccano, latin, tmp_path / "missing.jsonl")
    assert code == 1
    assert f"{doccano}:2" in output and "expected a JSON object" in output
    assert f"{latin}: not UTF-8" in output and "missing.jsonl" in output and "No such file" in output


def test_cli_predict_units_reports_a_non_utf8_file_and_labels_the_next(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "\xb0\xb8\xc0\xfd"}\n')  # GBK bytes
    good = _write(tmp_path / "good.jsonl", [_gold_line("a", UNIT_TWO)])
    out = tmp_path / "out.jsonl"
    assert main(["-q", "predict", "--model", "rules", "--units", str(bad), str(good), "-o", str(out)]) == 1
    records = _jsonl(out)
    assert records[0]["source"] == str(bad) and "not UTF-8" in records[0]["error"]
    assert records[1]["source"] == f"{good}:1" and records[1]["offense"] == "vpn_circumvention"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx"])
def test_cli_output_into_missing_directory_fails_before_reading(tmp_path, capsys, suffix):
    (tmp_path / "b.txt").write_text(SIMPLIFIED, encoding="utf-8")
    out = tmp_path / "missing" / f"out{suffix}"
    assert main(["-q", "predict", "--model", "rules", str(tmp_path / "b.txt"), "-o", str(out)]) == 1
    assert "does not exist; create it first" in capsys.readouterr().err


# --- 8. stdin is bounded and named alike; spreadsheet cells never run as formulas ---------------------------------


class _CountingStdin:
    """A stdin whose ``buffer`` counts the bytes handed out."""

    def __init__(self, content: bytes) -> None:
        self.buffer = self
        self.stream = io.BytesIO(content)
        self.handed_out = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.handed_out += len(chunk)
        return chunk


def test_stdin_is_read_no_further_than_the_size_limit(monkeypatch):
    import sys

    import data.inputs

    monkeypatch.setattr(data.inputs, "MAX_BYTES", 1_000)
    monkeypatch.setattr(data.reader, "MAX_BYTES", 1_000)
    stdin = _CountingStdin(SIMPLIFIED.encode() * 100)
    monkeypatch.setattr(sys, "stdin", stdin)
    (failure,) = read_inputs(["-"])
    assert isinstance(failure, InputFailure) and "limit" in failure.error
    assert stdin.handed_out <= 1_001


def test_stdin_records_are_named_alike_on_success_and_error(monkeypatch, capsys):
    import sys

    sources = []
    for content in (SIMPLIFIED.encode(), b""):
        monkeypatch.setattr(sys, "stdin", _CountingStdin(content))
        main(["-q", "predict", "--model", "rules", "-"])
        sources += [json.loads(line)["source"] for line in capsys.readouterr().out.splitlines()]
    assert sources == ["<stdin>", "<stdin>", "<stdin>"]


FORMULAS = ['=HYPERLINK("http://x.invalid")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_and_xlsx_cells_starting_like_a_formula_are_text(tmp_path):
    import csv

    from openpyxl import load_workbook

    from data.output import RecordWriter

    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"out{suffix}"
        with RecordWriter(path) as out:
            for text in FORMULAS:
                out.write({"source": text, "case": 1, "text": text, "offense_score": -0.5, "penalties": [text]})
        if suffix == ".csv":
            rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
        else:
            sheet = load_workbook(path).active
            header, *values = list(sheet.iter_rows(values_only=True))
            rows = [dict(zip(header, row, strict=True)) for row in values]
            assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
        assert [row["text"] for row in rows] == ["'" + text for text in FORMULAS], suffix
        assert [row["penalties"] for row in rows] == ["'" + text for text in FORMULAS], suffix
        assert {str(row["offense_score"]) for row in rows} == {"-0.5"}  # numbers stay numbers
