"""Slices of the gold data that models are known to handle differently: script, cited statute, procedure, issuer.

Each slice family maps a gold case to one value (or ``None`` when unknown, e.g. the issuer of most bulletins); the
harness reports the figures of every value so that a model that only works on simplified, administrative bulletins
shows it.
"""

from __future__ import annotations

import re

from data.evidence import find_statutes
from data.normalize import normalize
from data.types import GoldCase

# What each slice reports besides its size: enough to see a weak slice without a table per label.
SLICE_FIGURES = ("offense_accuracy", "offense_macro_f1", "penalty_micro_f1")
# labels.md: these penalties are criminal-procedure steps; any of them makes the case criminal.
CRIMINAL_PENALTIES = frozenset({"sentence", "arrest", "criminal_detention", "other_criminal_measure"})
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ISSUER_LINE = re.compile(r"^ISSUER:[ \t]*(\S+)[ \t]*$", re.MULTILINE)


def is_traditional(text: str) -> bool:
    """Whether the text is in traditional script: normalisation (OpenCC t2s) changes one of its CJK characters.

    Simplified text passes through unchanged, while a traditional unit has dozens of changed characters, so any
    change is a clear signal.
    """
    normalized = normalize(text)
    return any(
        char != text[offset] and _CJK.match(text[offset])
        for char, offset in zip(normalized.text, normalized.offsets, strict=True)
    )


def header_issuer(header: str) -> str | None:
    """The ``ISSUER:`` line of a bulletin's ``SOURCE:`` … ``---`` header, when it has one."""
    match = _ISSUER_LINE.search(header)
    return match.group(1) if match else None


def case_slices(case: GoldCase, issuer: str | None = None) -> dict[str, str | None]:
    """The slice value of each family for one gold case.

    Args:
        case: the gold case; its text decides script and statute, its penalties the procedure.
        issuer: the bulletin's issuer from its header; a gold record's own ``issuer`` field wins.

    Returns:
        ``{"script", "statute", "procedure", "issuer"}``; ``issuer`` is ``None`` when unknown.
    """
    # Statutes are searched in the normalised text so that 《網絡安全法》 in a traditional-script mirror counts too.
    statutes = find_statutes(normalize(case.text).text)
    return {
        "script": "traditional" if is_traditional(case.text) else "simplified",
        "statute": "cites a statute" if statutes else "no statute",
        "procedure": "criminal" if CRIMINAL_PENALTIES & set(case.penalties) else "administrative",
        "issuer": case.meta.get("issuer") or issuer,
    }
