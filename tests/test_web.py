import csv
import io
import json
import re
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

import data.inputs
from data.inputs import read_archive_bytes
from models.predictor import Predictor
from models.rules import RuleLabeler
from web.app import PAGE, create_app

# Written for these tests, not taken from a real bulletin.
BULLETIN = (
    "某区公安分局通报网络安全执法案例\n\n"
    "案例一：某网络科技公司未落实网络安全保护制度案\n"
    "经查，该公司未按规定留存网络日志，公安机关依据《中华人民共和国网络安全法》对其处以警告。\n\n"
    "案例二：王某利用VPN翻墙案\n"
    "王某擅自使用VPN软件访问境外网站，公安机关对其处以警告，并处罚款五百元。\n"
)


@pytest.fixture(scope="module")
def predictor(label_set) -> Predictor:
    return Predictor.from_pretrained("rules", label_set)


@pytest.fixture
def client(predictor) -> TestClient:
    return TestClient(create_app(predictor, max_bytes=10_000))


def test_web_health_names_the_model(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "model": "rules",
        "model_type": "rules",
        "probabilities": False,
        "lang": "zh",
    }


def test_web_predict_labels_each_case_unit_with_offsets_into_text(client):
    response = client.post("/predict", json={"text": BULLETIN, "source": "demo"})
    body = response.json()
    assert response.status_code == 200 and body["n_cases"] == len(body["cases"]) == 2
    assert body["text"] == BULLETIN
    for case in body["cases"]:
        assert BULLETIN[case["start"] : case["end"]] == case["text"] and case["source"] == "demo"
        assert all(BULLETIN[c["start"] : c["end"]] == c["cue"] for c in case["cues"])
    assert body["cases"][1]["offense"] == "vpn_circumvention" and 500 in body["cases"][1]["fine_amounts"]


def test_web_predict_file_decodes_gbk_upload(client):
    files = {"file": ("通报.txt", BULLETIN.encode("gbk"), "text/plain")}
    body = client.post("/predict/file", files=files).json()
    assert body["n_cases"] == 2 and body["source"] == "通报.txt" and body["text"] == BULLETIN


def test_web_predict_file_reads_html_and_points_offsets_into_extracted_text(client):
    paragraphs = "".join(f"<p>{line}</p>" for line in BULLETIN.splitlines())
    html = f"<html><body><nav>首页</nav>{paragraphs}</body></html>"
    body = client.post("/predict/file", files={"file": ("b.html", html.encode(), "text/html")}).json()
    assert body["n_cases"] == 2 and "首页" not in body["text"]
    assert all(body["text"][c["start"] : c["end"]] == c["text"] for c in body["cases"])


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_web_predict_rejects_empty_text(client, text):
    response = client.post("/predict", json={"text": text})
    assert response.status_code == 422 and "text is empty" in response.json()["detail"]


def test_web_predict_rejects_missing_text_field(client):
    assert client.post("/predict", json={"source": "x"}).status_code == 422


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\x00\x01\x02\x03binary", "binary"), (b"abc\x80\xff\xff\xff" * 3, "cannot decode")],
)
def test_web_predict_file_rejects_unreadable_upload_with_input_error_message(client, content, message):
    response = client.post("/predict/file", files={"file": ("bad.txt", content, "application/octet-stream")})
    assert response.status_code == 422
    assert "bad.txt" in response.json()["detail"] and message in response.json()["detail"]


def test_web_predict_file_rejects_broken_pdf(client):
    response = client.post("/predict/file", files={"file": ("scan.pdf", b"%PDF-1.4\n broken", "application/pdf")})
    assert response.status_code == 422 and "not a readable PDF" in response.json()["detail"]


def test_web_rejects_body_over_limit_with_413(client):
    response = client.post("/predict", json={"text": "案" * 5000})
    assert response.status_code == 413 and "limit" in response.json()["detail"]


def test_web_rejects_chunked_upload_over_limit_with_413(client):
    def chunks():
        for _ in range(20):
            yield b"x" * 1000

    response = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_web_openapi_documents_the_response_schema(client):
    schema = client.get("/openapi.json").json()
    assert {"/predict", "/predict/file", "/health"} <= set(schema["paths"])
    case = schema["components"]["schemas"]["Case"]["properties"]
    assert {"offense", "penalties", "penalty_scores", "start", "end", "cues"} <= set(case)


def test_web_page_is_offline_utf8_and_has_the_controls(client):
    response = client.get("/")
    page = response.text
    assert response.status_code == 200 and "charset=utf-8" in response.headers["content-type"]
    assert '<meta charset="utf-8">' in page and "Noto Sans CJK SC" in page
    assert 'id="text"' in page and 'type="file"' in page and "Download CSV" in page and "Download XLSX" in page
    assert "http://" not in page and "https://" not in page  # no CDN: the page must work offline


def test_web_page_takes_several_files_a_folder_or_a_zip(client):
    page = client.get("/").text
    files = re.search(r'<input type="file" id="files"[^>]*>', page).group(0)
    assert " multiple" in files and ".zip" in files
    assert re.search(r'<input type="file" id="folder"[^>]*webkitdirectory', page)


def test_web_page_labels_every_input_and_filter(client):
    page = client.get("/").text
    controls = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page)
    assert {"text", "files", "folder", "f-offense", "f-penalty", "f-party", "f-review"} <= set(controls)
    for control in controls:
        assert f'<label for="{control}"' in page or f'<label class="over" for="{control}"' in page, control


# ---- several files, .zip archives ------------------------------------------------------------------------------


def _zip(members: dict[str, bytes | str], utf8_names: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    raw = bytearray(buffer.getvalue())
    if not utf8_names:  # as a zip made on Chinese Windows: GBK names without the UTF-8 flag (zipfile cannot write one)
        for name in members:
            stem, suffix = name.rsplit(".", 1)
            utf8, gbk = name.encode(), stem.encode("gbk")
            raw = raw.replace(utf8, gbk + b"_" * (len(utf8) - len(gbk) - len(suffix) - 1) + b"." + suffix.encode())
        for header, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = raw.index(header) + flags
            raw[at : at + 2] = (int.from_bytes(raw[at : at + 2], "little") & ~0x800).to_bytes(2, "little")
    return bytes(raw)


def _batch(client: TestClient, *files: tuple[str, bytes]) -> dict:
    response = client.post("/predict/batch", files=[("files", (name, content)) for name, content in files])
    assert response.status_code == 200, response.text
    return response.json()


def test_web_batch_labels_several_files_in_one_response(client):
    body = _batch(client, ("一.txt", BULLETIN.encode("gbk")), ("二.html", f"<p>{BULLETIN}</p>".encode()))
    assert [r["source"] for r in body["results"]] == ["一.txt", "二.html"] and body["failures"] == []
    assert body["n_bulletins"] == 2 and body["n_cases"] == 4 == sum(r["n_cases"] for r in body["results"])
    for result in body["results"]:
        assert all(result["text"][c["start"] : c["end"]] == c["text"] for c in result["cases"])


def test_web_batch_keeps_the_folder_path_of_each_file(client):
    """The page sends a chosen folder's files under their path inside it (webkitRelativePath)."""
    body = _batch(client, ("通报/sub/a.txt", BULLETIN.encode()), ("通报/b.txt", BULLETIN.encode()))
    assert [r["source"] for r in body["results"]] == ["通报/sub/a.txt", "通报/b.txt"]


def test_web_batch_reads_a_zipped_folder_and_reports_each_failed_member(client):
    archive = _zip(
        {
            "通报/a.txt": BULLETIN,
            "通报/sub/b.txt": BULLETIN.encode("gbk"),
            "通报/broken.txt": b"\x00\x01\x02binary",
            "通报/inner.zip": _zip({"c.txt": BULLETIN}),
            "通报/photo.png": b"\x89PNG",  # not a bulletin: skipped, as a directory walk skips it
            "__MACOSX/通报/._a.txt": b"\x00\x05",  # macOS metadata: skipped
        }
    )
    body = _batch(client, ("folder.zip", archive), ("plain.txt", BULLETIN.encode()))
    assert [r["source"] for r in body["results"]] == [
        "folder.zip/通报/a.txt",
        "folder.zip/通报/sub/b.txt",
        "plain.txt",
    ]
    failures = {f["source"]: f["error"] for f in body["failures"]}
    assert set(failures) == {"folder.zip/通报/broken.txt", "folder.zip/通报/inner.zip"}
    assert (
        "binary" in failures["folder.zip/通报/broken.txt"]
        and "unpack it first" in failures["folder.zip/通报/inner.zip"]
    )


def test_web_batch_reports_an_unreadable_archive_and_labels_the_other_files(client):
    body = _batch(client, ("broken.zip", b"PK\x03\x04 not really"), ("ok.txt", BULLETIN.encode()))
    assert [r["source"] for r in body["results"]] == ["ok.txt"]
    assert body["failures"][0]["source"] == "broken.zip" and "not a readable .zip" in body["failures"][0]["error"]


def test_web_batch_reports_an_archive_without_bulletins(client):
    body = _batch(client, ("pictures.zip", _zip({"a.png": b"\x89PNG"})))
    assert body["results"] == [] and "no bulletin files" in body["failures"][0]["error"]


def test_web_batch_decodes_gbk_member_names_of_windows_zips(client):
    body = _batch(client, ("win.zip", _zip({"网安通报.txt": BULLETIN}, utf8_names=False)))
    assert body["results"][0]["source"].startswith("win.zip/网安通报")


def test_archive_member_unpacking_beyond_the_bulletin_limit_is_refused(monkeypatch):
    monkeypatch.setattr(data.inputs, "MAX_BYTES", 1_000)
    archive = _zip({"big.txt": "案" * 1_000, "ok.txt": BULLETIN[:300]})
    items = list(read_archive_bytes(archive, "a.zip"))
    assert "limit for one bulletin" in items[0].error and items[1].source == "a.zip/ok.txt"


def test_archive_stops_when_the_whole_unpacks_beyond_its_limit(monkeypatch):
    monkeypatch.setattr(data.inputs, "MAX_UNPACKED_BYTES", len(BULLETIN.encode()) * 5 // 2)  # two and a half
    archive = _zip({f"{i}.txt": BULLETIN for i in range(5)})
    items = list(read_archive_bytes(archive, "a.zip"))
    assert [type(i).__name__ for i in items] == ["Bulletin", "Bulletin", "InputFailure"]
    assert "more than" in items[2].error and "2 later file(s)" in items[2].error


def test_archive_member_with_forged_size_is_refused_not_inflated():
    """A zip bomb declares a small size; zipfile stops at the declared size and the checksum then fails."""
    content = ("案例一：某公司未留存网络日志，公安机关处以警告。\n" * 200).encode()
    raw = bytearray(_zip({"bomb.txt": content}))
    real = len(content).to_bytes(4, "little")
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size in both headers
        at = raw.index(header) + offset
        assert raw[at : at + 4] == real
        raw[at : at + 4] = (100).to_bytes(4, "little")
    (failure,) = read_archive_bytes(bytes(raw), "bomb.zip")
    assert failure.source == "bomb.zip/bomb.txt" and "damaged in the archive" in failure.error


def test_web_batch_body_over_the_batch_limit_gets_413(predictor):
    client = TestClient(create_app(predictor, max_bytes=10_000, max_batch_bytes=20_000))
    response = client.post("/predict/batch", files=[("files", ("a.txt", b"x" * 30_000))])
    assert response.status_code == 413 and "20,000-byte limit" in response.json()["detail"]


def test_web_batch_takes_more_than_the_single_request_limit(client):
    body = _batch(client, *[(f"{i}.txt", BULLETIN.encode()) for i in range(50)])  # ~16 KB > max_bytes 10,000
    assert body["n_bulletins"] == 50 and body["failures"] == []


# ---- names, scores -------------------------------------------------------------------------------------------


def test_web_lang_en_gives_identifiers_as_names(predictor):
    client = TestClient(create_app(predictor, lang="en"))
    case = client.post("/predict", json={"text": BULLETIN}).json()["cases"][1]
    assert case["offense_name"] == "vpn_circumvention" and case["penalty_names"] == case["penalties"]
    assert client.get("/health").json()["lang"] == "en"


def test_web_create_app_refuses_an_unknown_lang(predictor):
    with pytest.raises(ValueError, match="lang"):
        create_app(predictor, lang="fr")


def test_web_cases_carry_the_primary_penalty_name(client):
    cases = client.post("/predict", json={"text": BULLETIN}).json()["cases"]
    assert [(c["primary_penalty"], c["primary_penalty_name"]) for c in cases] == [
        ("warning", "警告"),
        ("fine", "罚款"),
    ]


def test_web_rules_responses_say_their_scores_are_no_probabilities(client):
    assert client.post("/predict", json={"text": BULLETIN}).json()["probabilities"] is False
    assert _batch(client, ("a.txt", BULLETIN.encode()))["probabilities"] is False


class _ScoredLabeler(RuleLabeler):
    """The rules' scores presented as a learned model's, to see what the service says for one."""

    model_type = "tfidf"


def test_web_learned_model_responses_carry_probabilities(label_set):
    client = TestClient(create_app(Predictor(_ScoredLabeler(label_set), name="learned")))
    assert client.post("/predict", json={"text": BULLETIN}).json()["probabilities"] is True
    assert client.get("/health").json()["probabilities"] is True


# ---- downloads -----------------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x.invalid")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_web_export_csv_has_the_cli_columns_and_neutralises_formulas(client):
    cases = client.post("/predict", json={"text": BULLETIN, "source": "demo"}).json()["cases"]
    records = [dict(cases[0], text=text) for text in FORMULAS] + [{"source": "bad.txt", "error": "binary"}]
    response = client.post("/export/csv", json={"records": records})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert [row["text"] for row in rows[:-1]] == ["'" + text for text in FORMULAS]
    assert rows[0]["offense_name"] == "未履行网络安全保护义务" and rows[0]["primary_penalty_name"] == "警告"
    assert rows[-1]["source"] == "bad.txt" and rows[-1]["error"] == "binary"


def test_web_export_xlsx_writes_formulas_as_text_and_survives_control_characters(client):
    from openpyxl import load_workbook

    cases = client.post("/predict", json={"text": BULLETIN}).json()["cases"]
    records = [dict(cases[0], text=text) for text in FORMULAS] + [dict(cases[1], text="第一页\x0c第二页")]
    response = client.post("/export/xlsx", json={"records": records})
    assert response.status_code == 200 and "spreadsheetml" in response.headers["content-type"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *values = list(sheet.iter_rows(values_only=True))
    texts = [dict(zip(header, row, strict=True))["text"] for row in values]
    assert texts == ["'" + text for text in FORMULAS] + ["第一页 第二页"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_web_export_refuses_an_unknown_format_and_bad_records(client):
    assert client.post("/export/pdf", json={"records": []}).status_code == 422
    assert client.post("/export/csv", json={"records": "nope"}).status_code == 422
    lone = '{"records": [{"source": "\\ud800"}]}'
    response = client.post("/export/csv", content=lone, headers={"content-type": "application/json"})
    assert response.status_code == 422 and "surrogate" in response.json()["detail"]


@pytest.fixture
def probe_script() -> dict[str, str]:
    """The script a browser test adds to the page served at ``/probe`` (set ``probe_script["script"]``)."""
    return {"script": ""}


@pytest.fixture
def live_server(predictor, probe_script):
    """uvicorn on a free port of 127.0.0.1 in a thread, stopped after the test. Besides the app, ``/probe`` serves the
    page with the test's ``probe_script`` added: same origin, so the page's requests work unchanged."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(predictor)

    @app.get("/probe", response_class=HTMLResponse)
    def page_with_probe() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8").replace("</body>", probe_script["script"] + "</body>"))

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


# Runs in the page once the ?demo=files batch is shown: counts the table's rows under each filter, reads what a person
# would see, and measures whether Chinese renders (cjkRendering, tests/conftest.py); the result goes into the DOM.
_PAGE_PROBE = """<script>
%(cjk)s
function probePage() {
  if (!document.querySelector("#rows tr[data-case]")) { setTimeout(probePage, 100); return; }
  const rows = () => document.querySelectorAll("#rows tr[data-case]").length;
  const pick = (id, value) => {
    const select = document.getElementById(id);
    select.value = value;
    select.dispatchEvent(new Event("change"));
  };
  const counts = { all: rows() };
  pick("f-offense", "vpn_circumvention"); counts.vpn = rows(); pick("f-offense", "");
  pick("f-penalty", "fine"); counts.fine = rows(); pick("f-penalty", "");
  pick("f-party", "individual"); counts.individual = rows(); pick("f-party", "");
  pick("f-review", "yes"); counts.review = rows(); pick("f-review", "");
  const table = document.getElementById("table");
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    counts: counts,
    failures: [...document.querySelectorAll("#failure-list li")].map((li) => li.textContent),
    headers: [...document.querySelectorAll("#table-head th")].map((th) => th.textContent),
    tableText: table.textContent,
    cardText: document.getElementById("cases").textContent,
    unlabelled: [...document.querySelectorAll("input, select, textarea")].filter((c) => !c.labels.length)
      .map((c) => c.id),
    buttons: [...document.querySelectorAll("button")].filter((b) => b.tabIndex < 0).map((b) => b.id),
    exportDisabled: document.getElementById("csv").disabled || document.getElementById("xlsx").disabled,
    fits: document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth,
    render: cjkRendering(getComputedStyle(document.body).fontFamily),
  });
  document.body.append(probe);
}
window.addEventListener("load", probePage);
</script>"""


def _probe_result(dom: str) -> dict:
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert match, f"the probe did not run; chromium printed: {dom[-500:]!r}"
    return json.loads(match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


@pytest.mark.slow
def test_web_page_highlights_case_units_in_headless_chromium(live_server, chromium, tmp_path, keep_screenshot):
    flags = ["--window-size=1400,1000", "--virtual-time-budget=10000"]
    url = f"{live_server}/?demo=1"  # the page fills in its sample bulletin and submits it
    screenshot = tmp_path / "page.png"
    chromium(*flags, f"--screenshot={screenshot}", url)
    dom = chromium(*flags, "--dump-dom", url)
    print(f"screenshot: {keep_screenshot(screenshot, 'web-demo.png')}")  # noqa: T201 — look at the page
    assert screenshot.stat().st_size > 10_000
    assert dom.count('<mark class="unit') == 3, "expected the three sample case units highlighted"
    assert 'class="cue"' in dom and "vpn_circumvention" in dom and "3 个案例" in dom
    assert re.search(r'<button id="csv" type="button">', dom), "Download CSV is enabled once there are cases"
    assert "%" not in re.search(r'<aside id="cases".*?</aside>', dom, re.DOTALL).group(0), "rules: no confidence"


@pytest.mark.slow
def test_web_page_shows_files_in_one_filterable_table_in_chromium(live_server, probe_script, chromium, cjk_render_js):
    """?demo=files uploads two bulletins and a broken file together, as a person choosing three files would."""
    probe_script["script"] = _PAGE_PROBE % {"cjk": cjk_render_js}
    flags = ["--window-size=1280,1000", "--virtual-time-budget=15000"]
    seen = _probe_result(chromium(*flags, "--dump-dom", f"{live_server}/probe?demo=files"))
    assert seen["counts"] == {"all": 3, "vpn": 1, "fine": 1, "individual": 1, "review": 0}
    assert (
        len(seen["failures"]) == 1 and seen["failures"][0].startswith("损坏.txt：") and "binary" in seen["failures"][0]
    )
    assert "通报一.txt" in seen["tableText"] and "通报二.txt" in seen["tableText"]
    assert "行政拘留" in seen["tableText"] and "未履行网络安全保护义务" in seen["tableText"]  # names, not identifiers
    assert "置信度 · confidence" not in seen["headers"] and "%" not in seen["tableText"] + seen["cardText"]
    assert seen["unlabelled"] == [] and seen["buttons"] == [] and not seen["exportDisabled"]
    assert seen["fits"], "the page scrolls sideways at 1280 px"


@pytest.mark.slow
def test_web_page_renders_chinese_in_chromium(
    live_server, probe_script, chromium, tmp_path, cjk_fonts, cjk_render_js, check_cjk_renders, keep_screenshot
):
    """Fails where Chinese shows as boxes; skips (with the reason) only where no CJK font is installed outside CI."""
    probe_script["script"] = _PAGE_PROBE % {"cjk": cjk_render_js}
    flags = ["--window-size=1280,1000", "--virtual-time-budget=15000"]
    seen = _probe_result(chromium(*flags, "--dump-dom", f"{live_server}/probe?demo=files"))
    check_cjk_renders(seen["render"])
    screenshot = tmp_path / "web-files.png"
    chromium("--window-size=1280,1100", "--virtual-time-budget=15000", f"--screenshot={screenshot}",
             f"{live_server}/?demo=files")  # fmt: skip
    print(f"screenshot with Chinese names: {keep_screenshot(screenshot, 'web-files.png')}")  # noqa: T201
    assert screenshot.stat().st_size > 10_000


@pytest.mark.slow
def test_web_chinese_render_check_fails_without_a_cjk_font(
    live_server, probe_script, chromium, tmp_path, cjk_render_js
):
    """The check above can fail: Chromium given only matplotlib's DejaVu fonts (no CJK) draws boxes, and it says so."""
    import matplotlib

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>{fonts}</dir>'
        f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    probe_script["script"] = _PAGE_PROBE % {"cjk": cjk_render_js}
    flags = ["--window-size=1280,1000", "--virtual-time-budget=15000", "--dump-dom", f"{live_server}/probe?demo=files"]
    render = _probe_result(chromium(*flags, env={"FONTCONFIG_FILE": str(conf)}))["render"]
    assert abs(render["width"] - render["boxWidth"]) <= 1 and abs(render["width"] - render["fullWidth"]) > 10
    assert not render["distinct"] and not render["notBox"]
