"""``report.html``: one self-contained page (inline CSS, figures as base64 PNG data URIs) an analyst can mail around.

Everything taken from data or models is HTML-escaped: bulletin text, labels and file names are not trusted markup.
Labels show by the names the result carries (``label_set.names``, from ``LabelSet.display`` in the harness).

Layout: the page fits a 1280-pixel window without a horizontal scroll bar (tests/test_report_browser.py checks it in
Chromium): wide comparison tables get a fixed layout, a smaller font and cells that wrap; figures shrink to the width.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from eval.figures import can_draw, confusion_matrix_png, per_label_f1_png, reliability_png
from eval.report import MODE_TITLES, comparison_rows, format_figure, mode_caption, modes_of, review_rows, slice_rows

_CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Zen Hei", sans-serif;
       margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
th { background: #f2f2f2; }
.scroll { overflow-x: auto; max-width: 100%; }
table.comparison { table-layout: fixed; width: 100%; font-size: 0.78em; }
table.comparison th, table.comparison td { padding: 0.2em 0.3em; }
table.comparison th { font-size: 0.9em; }
table.comparison th:first-child { width: 12%; }
table.review td { white-space: nowrap; }
table.errors { table-layout: fixed; width: 100%; font-size: 0.85em; }
table.errors th:nth-child(1) { width: 12%; } table.errors th:nth-child(2) { width: 30%; }
table.errors th:nth-child(3) { width: 9%; }
.wrong { color: #b00020; font-weight: 600; }
.caption, .note { color: #555; font-size: 0.9em; }
figure { display: inline-block; margin: 0 1.5em 1em 0; max-width: 100%; vertical-align: top; }
img { max-width: 100%; height: auto; }
code { font-size: 0.85em; overflow-wrap: anywhere; }
"""
_ERROR_HEADER = ("bulletin", "excerpt", "wrong", "gold", "predicted (score)", "statutes found")
_PER_LABEL = ("precision", "recall", "f1", "support")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], css_class: str = "", raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then the caller has escaped them)."""
    cell = (lambda c: c) if raw else _e
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{_e(css_class)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}"></figure>'


def _labels(gold: dict, names: dict) -> str:
    penalties = ", ".join(names["penalty"][p] for p in gold["penalties"]) or "none"
    fines = ", ".join(str(f) for f in gold["fine_amounts"]) or "none"
    complete = "" if gold["complete"] else "; incomplete"
    offense, party = names["offense"][gold["offense"]], names["party"][gold["party"]]
    return f"{offense}; penalties: {penalties}; fines: {fines}; party: {party}{complete}"


def _predicted(predicted: dict, names: dict) -> str:
    shown = names["penalty"]
    penalties = (
        ", ".join(f"{shown[p]} ({s:.2f})" if s is not None else shown[p] for p, s in predicted["penalties"].items())
        or "none"
    )
    fines = ", ".join(str(f) for f in predicted["fine_amounts"]) or "none"
    offense, party = names["offense"][predicted["offense"]], names["party"][predicted["party"]]
    return (
        f"{offense} ({predicted['offense_score']:.2f}); penalties: {penalties}; fines: {fines}; "
        f"party: {party} ({predicted['party_score']:.2f})"
    )


def _error_rows(errors: list[dict], names: dict) -> list[list[str]]:
    rows = []
    for error in errors:
        predicted = error["predicted"]
        rows.append(
            [
                _e(error["doc"]),
                _e(error["excerpt"]),
                f'<span class="wrong">{_e(", ".join(error["wrong"]))}</span>',
                _e(_labels(error["gold"], names)) if error["gold"] else "<em>no gold unit</em>",
                _e(_predicted(predicted, names)) if predicted else "<em>missed: no predicted unit</em>",
                _e("; ".join(predicted["statutes"])) if predicted and predicted["statutes"] else "",
            ]
        )
    return rows


def _per_label_rows(labels: Sequence[str], shown: dict[str, str], detail: dict) -> list[list[str]]:
    per_label = detail.get("per_label")
    if not per_label:
        return []
    return [
        [
            shown[label],
            *(format_figure(per_label[k][i]) if k != "support" else str(per_label[k][i]) for k in _PER_LABEL),
        ]
        for i, label in enumerate(labels)
    ]


_KINDS = {"offense": "offenses", "penalty": "penalties"}


def _figure_labels(label_set: dict, kind: str = "offense") -> tuple[list[str], str]:
    """The axis labels of a figure (confusion matrix, per-label F1): the ``kind``'s names where a font can draw them,
    else the identifiers and a note saying why (no CJK font installed; the tables still show names)."""
    identifiers = list(label_set[_KINDS[kind]])
    names = [label_set["names"][kind][x] for x in identifiers]
    if can_draw(names):
        return names, ""
    note = (
        "No font with Chinese glyphs (e.g. Noto Sans CJK) is installed, so the figures (confusion matrices, per-label "
        "F1 charts) label their axes with label identifiers; the tables show the names."
    )
    return identifiers, note


def _per_label_f1_figures(result: dict, mode: str) -> str:
    """Per-label F1 of every model in ``mode``, one chart for offenses and one for penalties (complete units), over
    the labels with gold units in the data (F1 is not defined for a label nobody annotated)."""
    parts = []
    for kind, detail_key, unit_note in (
        ("offense", "offense_detail", ""),
        ("penalty", "penalty_detail", ", complete units"),
    ):
        shown, _ = _figure_labels(result["label_set"], kind)
        f1: dict[str, list[float]] = {}
        support: list[int] | None = None
        for name, entry in result["models"].items():
            per_label = (entry.get(mode) or {}).get("metrics", {}).get(detail_key, {}).get("per_label")
            if per_label:
                f1[name] = [float(value) for value in per_label["f1"]]
                support = support or [int(value) for value in per_label["support"]]
        if not f1 or not support or not any(support):
            continue
        keep = [i for i, n in enumerate(support) if n > 0]
        where = mode.replace("_", "-")
        png = per_label_f1_png(
            [shown[i] for i in keep],
            {name: [values[i] for i in keep] for name, values in f1.items()},
            f"{where}: {kind} F1 per label ({len(keep)} labels with gold units{unit_note})",
        )
        parts.append(_image(png, f"{kind} F1 per label and model, {where}"))
    if not parts:
        return ""
    caption = (
        "<p class='caption'>F1 per label, one bar per model; only labels with gold units in the data "
        "(the per-label tables of each model give precision, recall and support)</p>"
    )
    return "<h4>Per-label F1</h4>" + caption + "".join(parts)


def _model_section(name: str, entry: dict, result: dict, axis_labels: list[str]) -> str:
    label_set = result["label_set"]
    names = label_set["names"]
    identity = entry["identity"]
    parts = [f"<section><h2>{_e(name)}</h2>"]
    parts.append(
        f'<p class="note">model type {_e(identity["model_type"])}, label set {_e(identity["label_set"])} '
        f"(fingerprint <code>{_e(identity['label_set_fingerprint'])}</code>)</p>"
    )
    for mode in modes_of(result):
        scored = entry.get(mode)
        if scored is None:
            continue
        metrics = scored["metrics"]
        matrix = metrics["offense_detail"]["confusion_matrix"]
        missed = scored["n_units"] - sum(map(sum, matrix))
        calibration = scored["calibration"]
        parts.append(f"<h3>{_e(mode.replace('_', '-'))}</h3>")
        where = f"{name}, {mode.replace('_', '-')}"
        confusion = confusion_matrix_png(
            matrix, axis_labels, f"{where}: offense confusion ({missed} missed unit(s) not shown)"
        )
        reliability = reliability_png(
            calibration["bins"], f"{where}: ECE {calibration['ece']:.3f} over {calibration['n']} units"
        )
        parts.append(_image(confusion, f"offense confusion matrix of {where}"))
        parts.append(_image(reliability, f"reliability diagram of {where}"))
        detail = [[k, format_figure(v, scored["ci"].get(k))] for k, v in metrics.items() if isinstance(v, float)]
        parts.append("<h4>All figures</h4>" + _table(["figure", "value [95% interval]"], detail))
        parts.append("<h4>Slices</h4>" + _table(*slice_rows(scored)))
        parts.append("<h4>Offense per label</h4>")
        parts.append(
            _table(
                ["offense", *_PER_LABEL],
                _per_label_rows(label_set["offenses"], names["offense"], metrics["offense_detail"]),
            )
        )
        parts.append("<h4>Penalties per label (complete units)</h4>")
        parts.append(
            _table(
                ["penalty", *_PER_LABEL],
                _per_label_rows(label_set["penalties"], names["penalty"], metrics["penalty_detail"]),
            )
        )
        parts.append(f"<h4>Errors ({len(scored['errors'])})</h4>")
        errors = _table(_ERROR_HEADER, _error_rows(scored["errors"], names), "errors", raw=True)
        parts.append(f'<div class="scroll">{errors}</div>')
    parts.append("</section>")
    return "\n".join(parts)


def render_html(result: dict) -> str:
    """The whole report page: data, comparison tables, then per model its figures, slices and errors."""
    data = result["data"]
    parts = [
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>Evaluation report: {_e(', '.join(result['models']))}</title><style>{_CSS}</style></head><body>",
        "<h1>Evaluation report</h1>",
        f"<p>Data: {_e(', '.join(data['specs']))}; sha256 over {len(data['files'])} file(s): "
        f"<code>{_e(data['sha256'])}</code>; label set {_e(result['label_set']['name'])} "
        f"(<code>{_e(result['label_set']['fingerprint'])}</code>).</p>",
    ]
    axis_labels, figure_note = _figure_labels(result["label_set"])
    if figure_note:
        parts.append(f'<p class="note">{_e(figure_note)}</p>')
    if data["problems"]:
        items = "".join(f"<li>{_e(problem)}</li>" for problem in data["problems"])
        parts.append(f"<h2>{len(data['problems'])} gold record(s) left out</h2><ul>{items}</ul>")
    parts.append("<h2>Comparison</h2>")
    for mode in modes_of(result):
        parts.append(f"<h3>{_e(MODE_TITLES[mode])}</h3><p class='caption'>{_e(mode_caption(result, mode))}</p>")
        parts.append(f'<div class="scroll">{_table(*comparison_rows(result, mode), "comparison")}</div>')
        parts.append(
            "<p class='caption'>needs_review: share of found units flagged; figures of the unflagged units</p>"
        )
        parts.append(f'<div class="scroll">{_table(*review_rows(result, mode), "review")}</div>')
        parts.append(_per_label_f1_figures(result, mode))
    parts += [_model_section(name, entry, result, axis_labels) for name, entry in result["models"].items()]
    versions = ", ".join(f"{k} {v}" for k, v in result["versions"].items())
    parts.append(f'<h2>Versions</h2><p class="note">{_e(versions)}</p></body></html>\n')
    return "\n".join(parts)
