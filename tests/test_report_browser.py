"""report.html renders in a real browser: figures decode, tables are there and fit the page, the page is read as UTF-8,
and its Chinese renders with real glyphs.

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
from models.rules import RuleLabeler

_PROBE = """<script>
%(cjk)s
window.addEventListener("load", () => {
  const page = document.scrollingElement;
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    charset: document.characterSet,
    images: [...document.images].map(img => [img.complete, img.naturalWidth, img.naturalHeight]),
    charts: [...document.images].filter(img => img.alt.includes("F1 per label")).length,
    comparison: document.querySelectorAll("table.comparison tbody tr").length,
    review: document.querySelectorAll("table.review tbody tr").length,
    errors: document.querySelectorAll("table.errors").length,
    title: document.title,
    scrollWidth: page.scrollWidth,
    clientWidth: page.clientWidth,
    wideTables: [...document.querySelectorAll("table")]
      .filter(table => table.getBoundingClientRect().right > page.clientWidth)
      .map(table => table.className + " " + Math.round(table.getBoundingClientRect().width)),
    render: cjkRendering(getComputedStyle(document.body).fontFamily),
  });
  document.body.appendChild(probe);
});
</script>"""
# Bulletins the team wrote for the authored corpus (data/corpus), one of them in traditional script.
_DOCS = ("a001_zhejiang_jinhua_2019_jingwang", "a007_fujian_xiamen_2020_mirror", "a009_hubei_yichang_2017_broken")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory, label_set) -> Path:
    """A report comparing two models (the rules, and the rules with a stricter rectification threshold, so that the
    per-label charts and comparison tables have two different rows); written once for the module's tests."""
    tmp_path = tmp_path_factory.mktemp("report")
    data = tmp_path / "data"
    data.mkdir()
    for doc in _DOCS:
        for suffix in (".txt", ".jsonl"):
            shutil.copy(BUILD_DIR / f"{doc}{suffix}", data / f"{doc}{suffix}")
    rules = Predictor.from_pretrained("rules", label_set)
    strict = Predictor(RuleLabeler(label_set), thresholds={"rectification": 0.99}, name="rules, strict rectification")
    strict.segmenter = rules.segmenter
    models = {"rules": rules, "rules, strict rectification": strict}
    evaluate_predictors(models, [str(data)], label_set, tmp_path / "report", n_bootstrap=10)
    return tmp_path / "report" / "report.html"


def _browser_view(html_path: Path, chromium, cjk_render_js: str) -> dict:
    probe = html_path.with_name("probe.html")
    script = _PROBE % {"cjk": cjk_render_js}
    probe.write_text(html_path.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
    dom = chromium("--window-size=1280,1000", "--dump-dom", probe.as_uri())
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert match, f"the probe did not run; chromium printed: {dom[:300]!r}"
    return json.loads(match.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


@pytest.mark.slow
def test_report_browser_loads_every_figure_and_table(report_html, chromium, cjk_render_js):
    seen = _browser_view(report_html, chromium, cjk_render_js)
    assert seen["charset"] == "UTF-8" and "rules" in seen["title"]
    # per model and mode: confusion matrix and reliability diagram (8); per mode: offense and penalty F1 charts (4)
    assert len(seen["images"]) == 12 and seen["charts"] == 4
    assert all(complete and width > 100 and height > 100 for complete, width, height in seen["images"])
    assert seen["comparison"] == 4 and seen["review"] == 4 and seen["errors"] == 4  # two models, two modes


@pytest.mark.slow
def test_report_browser_fits_a_1280_pixel_window(report_html, chromium, cjk_render_js):
    seen = _browser_view(report_html, chromium, cjk_render_js)
    assert seen["scrollWidth"] <= seen["clientWidth"], f"the page scrolls sideways: {seen}"
    assert seen["wideTables"] == [], "tables wider than the window (inside a scrolling box)"


@pytest.mark.slow
def test_report_browser_renders_chinese(
    report_html, chromium, tmp_path, cjk_fonts, cjk_render_js, check_cjk_renders, keep_screenshot
):
    """Fails where the report's Chinese shows as boxes, or where its figures fall back to identifiers although a CJK
    font is installed; skips (with the reason) only where no CJK font is installed outside CI."""
    check_cjk_renders(_browser_view(report_html, chromium, cjk_render_js)["render"])
    page = report_html.read_text(encoding="utf-8")
    assert "No font with Chinese glyphs" not in page, (
        f"fontconfig has {cjk_fonts} but matplotlib found no CJK font: its font cache predates the font "
        "(remove ~/.cache/matplotlib)"
    )
    screenshot = tmp_path / "report.png"
    chromium("--window-size=1280,3000", f"--screenshot={screenshot}", report_html.as_uri())
    print(f"screenshot of the report: {keep_screenshot(screenshot, 'report.png')}")  # noqa: T201
    assert screenshot.stat().st_size > 10_000


def test_per_label_f1_chart_draws_identifiers_without_a_cjk_font(monkeypatch):
    import eval.figures
    from eval.html_report import _figure_labels

    label_set = {"penalties": ["fine"], "names": {"penalty": {"fine": "罚款"}}}
    monkeypatch.setattr(eval.figures, "cjk_font", lambda: None)
    labels, note = _figure_labels(label_set, "penalty")
    assert labels == ["fine"] and "No font with Chinese glyphs" in note and "per-label F1" in note
    png = eval.figures.per_label_f1_png(labels, {"a": [0.5], "b": [1.0]}, "penalty F1")
    assert png.startswith(b"\x89PNG") and len(png) > 2_000
    monkeypatch.setattr(eval.figures, "cjk_font", lambda: "Noto Sans CJK SC")
    assert _figure_labels(label_set, "penalty") == (["罚款"], "")
