"""report.html renders in a real browser: figures decode, tables are there, the page is read as UTF-8.

Runs headless Chromium with ``--dump-dom`` on a copy of the report to which a small probe script is added (the report
itself carries no script); the probe writes what the browser saw into the DOM.
"""

import json
import re
import shutil
from pathlib import Path

import pytest

from data.corpus import BUILD_DIR
from eval.harness import evaluate_predictors
from models.predictor import Predictor

_PROBE = """<script>
window.addEventListener("load", () => {
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    charset: document.characterSet,
    images: [...document.images].map(img => [img.complete, img.naturalWidth, img.naturalHeight]),
    comparison: document.querySelectorAll("table.comparison tbody tr").length,
    review: document.querySelectorAll("table.review tbody tr").length,
    errors: document.querySelectorAll("table.errors").length,
    title: document.title,
  });
  document.body.appendChild(probe);
});
</script>"""
# Bulletins the team wrote for the authored corpus (data/corpus), one of them in traditional script.
_DOCS = ("a001_zhejiang_jinhua_2019_jingwang", "a007_fujian_xiamen_2020_mirror", "a009_hubei_yichang_2017_broken")


@pytest.fixture
def report_html(tmp_path, label_set) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for doc in _DOCS:
        for suffix in (".txt", ".jsonl"):
            shutil.copy(BUILD_DIR / f"{doc}{suffix}", data / f"{doc}{suffix}")
    rules = Predictor.from_pretrained("rules", label_set)
    evaluate_predictors({"rules": rules}, [str(data)], label_set, tmp_path / "report", n_bootstrap=10)
    return tmp_path / "report" / "report.html"


def _browser_view(html_path: Path, chromium) -> dict:
    probe = html_path.with_name("probe.html")
    probe.write_text(html_path.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    dom = chromium("--dump-dom", probe.as_uri())
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert match, f"the probe did not run; chromium printed: {dom[:300]!r}"
    return json.loads(match.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


@pytest.mark.slow
def test_report_browser_loads_every_figure_and_table(report_html, chromium):
    seen = _browser_view(report_html, chromium)
    assert seen["charset"] == "UTF-8" and "rules" in seen["title"]
    assert len(seen["images"]) == 4  # confusion matrix and reliability diagram, for each of the two modes
    assert all(complete and width > 100 and height > 100 for complete, width, height in seen["images"])
    assert seen["comparison"] == 2 and seen["review"] == 2 and seen["errors"] == 2  # one model, two modes
