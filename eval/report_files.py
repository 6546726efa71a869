"""Write an evaluation's reports: ``metrics.json``, ``report.md`` (``eval.report``) and ``report.html``
(``eval.html_report``), all from the same result dict, so they cannot disagree.

Why a module of its own: the HTML report reuses the Markdown report's rows, so the writer of both sits above the two
rather than inside one of them (they used to import each other).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from eval.report import render_markdown

logger = logging.getLogger(__name__)

METRICS_NAME = "metrics.json"
MARKDOWN_NAME = "report.md"
HTML_NAME = "report.html"


def write_reports(result: dict, report_dir: Path) -> None:
    """Write ``metrics.json``, ``report.md`` and ``report.html`` into ``report_dir`` (created if needed)."""
    from eval.html_report import render_html  # matplotlib is only needed when a report is written

    report_dir.mkdir(parents=True, exist_ok=True)
    machine = {key: value for key, value in result.items() if key != "table"}
    # allow_nan=False: a NaN would make the file invalid JSON for strict readers; better to fail here.
    (report_dir / METRICS_NAME).write_text(
        json.dumps(machine, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8"
    )
    (report_dir / MARKDOWN_NAME).write_text(render_markdown(result), encoding="utf-8")
    (report_dir / HTML_NAME).write_text(render_html(result), encoding="utf-8")
    logger.info("wrote %s, %s and %s to %s", METRICS_NAME, MARKDOWN_NAME, HTML_NAME, report_dir)
