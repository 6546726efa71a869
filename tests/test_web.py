import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.predictor import Predictor
from web.app import create_app

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
    assert response.status_code == 200 and response.json() == {"status": "ok", "model": "rules"}


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
    assert 'id="text"' in page and 'type="file"' in page and "Download CSV" in page
    assert "http://" not in page and "https://" not in page  # no CDN: the page must work offline


@pytest.fixture
def live_server(predictor):
    """uvicorn on a free port of 127.0.0.1 in a thread, stopped after the test."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(predictor), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.slow
def test_web_page_highlights_case_units_in_headless_chromium(live_server, chromium, tmp_path):
    flags = ["--window-size=1400,1000", "--virtual-time-budget=10000"]
    url = f"{live_server}/?demo=1"  # the page fills in its sample bulletin and submits it
    screenshot = tmp_path / "page.png"
    chromium(*flags, f"--screenshot={screenshot}", url)
    dom = chromium(*flags, "--dump-dom", url)
    print(f"screenshot: {screenshot}")  # noqa: T201 — the path is the test's output: look at the page
    if os.environ.get("PENALTY_SCREENSHOT_DIR"):
        target = Path(os.environ["PENALTY_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        print(f"screenshot copied to {shutil.copy(screenshot, target / 'web-demo.png')}")  # noqa: T201
    assert screenshot.stat().st_size > 10_000
    assert dom.count('<mark class="unit') == 3, "expected the three sample case units highlighted"
    assert 'class="cue"' in dom and "vpn_circumvention" in dom and "3 个案例" in dom
    assert '<button id="csv">' in dom, "the Download CSV button is enabled once there are cases"
