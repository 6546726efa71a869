"""The Markdown side of an evaluation's results: the comparison table, ``report.md``, and the rows both the Markdown
and the HTML report (``eval.html_report``) are built from. ``eval.report_files`` writes them all.
"""

from __future__ import annotations

import logging

from eval.metrics import HEADLINE_METRICS
from eval.slices import SLICE_FIGURES

logger = logging.getLogger(__name__)

MODE_TITLES = {
    "end_to_end": "End-to-end: each model segments the bulletins, then labels its units "
    "(gold units matched at IoU ≥ 0.5; a missed gold unit counts wrong in every label metric)",
    "unit": "Unit level: each model labels the gold case units",
}
FIGURE_NAMES = {
    "segmentation_f1": "segmentation F1",
    "offense_accuracy": "offense acc.",
    "offense_macro_f1": "offense macro-F1",
    "penalty_micro_f1": "penalty micro-F1",
    "penalty_macro_f1": "penalty macro-F1",
    "primary_penalty_accuracy": "primary penalty acc.",
    "fine_exact_match": "fines exact",
    "party_accuracy": "party acc.",
    "fully_correct": "fully correct",
    "offense_ece": "offense ECE (lower is better)",
    "flagged_share": "flagged for review",
    "unflagged_offense_accuracy": "offense acc. (unflagged)",
    "unflagged_fully_correct": "fully correct (unflagged)",
}
REVIEW_FIGURES = ("flagged_share", "unflagged_offense_accuracy", "unflagged_fully_correct")
_MODE_COLUMNS = {"end_to_end": ("segmentation_f1", *HEADLINE_METRICS), "unit": HEADLINE_METRICS}
_DETAIL_FIGURES = (
    "segmentation_precision",
    "segmentation_recall",
    "offense_micro_f1",
    "offense_weighted_f1",
    "penalty_exact_match",
    "penalty_hamming_loss",
)


def format_figure(value: float, interval: list[float] | None = None) -> str:
    """``0.796 [0.712, 0.870]``: the point estimate with its interval when there is one."""
    if interval is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def modes_of(result: dict) -> list[str]:
    """The modes some model was scored in, in report order."""
    return [mode for mode in MODE_TITLES if any(mode in entry for entry in result["models"].values())]


def mode_caption(result: dict, mode: str) -> str:
    """Which data, how much of it, and how the intervals were made: the line under each comparison table."""
    data, bootstrap = result["data"], result["bootstrap"]
    intervals = (
        f"{bootstrap['confidence']:.0%} bootstrap intervals over bulletins ({bootstrap['resamples']} resamples, "
        f"seed {bootstrap['seed']})"
        if bootstrap["resamples"]
        else "no bootstrap intervals (--bootstrap 0)"
    )
    bulletins, units = data["n_bulletins"][mode], data["n_units"][mode]
    # End-to-end counts every bulletin (one without gold units can still get spurious ones); unit level only those
    # that have gold units, since those are what it resamples.
    amount = (
        f"{bulletins} bulletins, {units} gold case units"
        if mode == "end_to_end"
        else f"{units} gold case units from {bulletins} bulletins"
    )
    return f"Data: {', '.join(data['specs'])}: {amount} (sha256 {data['sha256'][:12]}…); {intervals}."


def comparison_rows(result: dict, mode: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one mode's comparison table: one row per model, one column per headline figure."""
    columns = _MODE_COLUMNS[mode]
    header = ["model", *(FIGURE_NAMES[c] for c in columns)]
    rows = []
    for name, entry in result["models"].items():
        scored = entry.get(mode)
        if scored is None:
            continue
        rows.append([name, *(format_figure(scored["metrics"][c], scored["ci"].get(c)) for c in columns)])
    return header, rows


def review_rows(result: dict, mode: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one mode's review table: how much the ``needs_review`` flag flags and what it leaves."""
    header = ["model", *(FIGURE_NAMES[c] for c in REVIEW_FIGURES)]
    rows = [
        [name, *(format_figure(entry[mode]["metrics"][c]) for c in REVIEW_FIGURES)]
        for name, entry in result["models"].items()
        if mode in entry
    ]
    return header, rows


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def comparison_tables(result: dict) -> str:
    """One Markdown table per mode (rows = models, columns = headline figures with intervals), with its data line."""
    parts = []
    for mode in modes_of(result):
        parts += [
            f"### {MODE_TITLES[mode]}",
            "",
            mode_caption(result, mode),
            "",
            _markdown_table(*comparison_rows(result, mode)),
            "",
            "needs_review (share of found units flagged; figures of the units left unflagged):",
            "",
            _markdown_table(*review_rows(result, mode)),
            "",
        ]
    problems = result["data"]["problems"]
    if problems:
        parts.append(
            f"{len(problems)} gold record(s) were left out (outside the label set or malformed); see the report."
        )
    return "\n".join(parts).rstrip() + "\n"


def render_markdown(result: dict) -> str:
    """``report.md``: data and models, the comparison tables, then per model and mode the detail figures, slices and
    calibration (the error tables are in ``report.html``)."""
    data = result["data"]
    lines = ["# Evaluation report", "", "## Data", ""]
    lines += [
        f"- specs: {', '.join(data['specs'])}",
        f"- sha256 over {len(data['files'])} file(s): `{data['sha256']}`",
    ]
    lines += [f"- label set: {result['label_set']['name']} (fingerprint `{result['label_set']['fingerprint']}`)"]
    if data["problems"]:
        lines += ["", f"### {len(data['problems'])} gold record(s) left out", ""]
        lines += [f"- {problem}" for problem in data["problems"]]
    lines += ["", "## Models", ""]
    identities = [
        [e["identity"][k] for k in ("name", "model_type", "label_set_fingerprint")] for e in result["models"].values()
    ]
    lines += [_markdown_table(["model", "model type", "label-set fingerprint"], identities), "", "## Comparison", ""]
    lines += [result["table"]]
    for name, entry in result["models"].items():
        lines += [_model_markdown(name, mode, entry[mode]) for mode in modes_of(result) if mode in entry]
    lines += ["## Versions", "", ", ".join(f"{k} {v}" for k, v in result["versions"].items()), ""]
    return "\n".join(lines)


def _model_markdown(name: str, mode: str, scored: dict) -> str:
    """One model in one mode: the remaining figures, the slices and the calibration bins."""
    detail = [
        [k, format_figure(scored["metrics"][k], scored["ci"].get(k))]
        for k in _DETAIL_FIGURES
        if k in scored["metrics"]
    ]
    calibration = scored["calibration"]
    bins = [
        [f"({b['lower']:.1f}, {b['upper']:.1f}]", str(b["count"]), f"{b['confidence']:.3f}", f"{b['accuracy']:.3f}"]
        for b in calibration["bins"]
        if b["count"]
    ]
    return "\n".join(
        [
            f"## {name}: {mode.replace('_', '-')}",
            "",
            _markdown_table(["figure", "value"], detail),
            "",
            "### Slices",
            "",
            _markdown_table(*slice_rows(scored)),
            "",
            "### Calibration of the offense score",
            "",
            f"ECE ({len(calibration['bins'])} bins) {calibration['ece']:.3f} over {calibration['n']} predicted units.",
            "",
            _markdown_table(["confidence", "units", "mean confidence", "accuracy"], bins),
            "",
        ]
    )


def slice_rows(scored: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a mode's slice table: family, value, n and the slice figures."""
    header = ["slice", "value", "n", *(FIGURE_NAMES[k] for k in SLICE_FIGURES)]
    rows = []
    for family, values in scored["slices"].items():
        for value, figures in values.items():
            rows.append([family, value, str(figures["n"]), *(format_figure(figures[k]) for k in SLICE_FIGURES)])
    return header, rows
