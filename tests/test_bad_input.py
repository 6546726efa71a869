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
