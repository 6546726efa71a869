"""Reading the values annotators choose or type in the annotation tools: ``complete`` choices and fines.

Shared by the per-unit readers (``data.formats``) and the bulletin-level ones (``data.bulletin_tasks``), so a fine
typed as ``1,500元`` reads the same whichever kind of task it was typed in.
"""

from __future__ import annotations

import re

from data.errors import AnnotationError

_FINE = re.compile(r"\d{1,3}(?:[,，]\d{3})+|\d{1,15}")  # 1500 or 1,500 (grouped by thousands); 元 is dropped
_FINE_SEPARATORS = re.compile(r"[\s;；、]+")


def read_complete(value: object, where: str) -> bool:
    """``"true"``/``"false"`` as written by the annotation tools.

    Raises:
        AnnotationError: any other value (reading it as true would be a silent guess).
    """
    if value not in ("true", "false"):
        raise AnnotationError(f"'complete' must be true or false at {where}, found {value!r}")
    return value == "true"


def textarea_strings(value: object, where: str) -> list[str]:
    """A textarea's lines (Label Studio stores a list of strings).

    Raises:
        AnnotationError: the value is not a list of strings.
    """
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AnnotationError(f"expected the fine_amounts textarea to hold a list of strings at {where}")
    return value


def read_fines(text: str, where: str) -> list[int]:
    """Fines in whole yuan from one textarea entry: ``1500``, ``1,500`` and ``2000元``, several split by spaces, ``;``
    or ``、``.

    Raises:
        AnnotationError: a token is not a whole number of yuan (silently dropping it would lose a gold fine).
    """
    fines = []
    for token in _FINE_SEPARATORS.split(text.replace("元", " ").strip()):
        if not token:
            continue
        if _FINE.fullmatch(token) is None:
            raise AnnotationError(f"cannot read fine {token!r} at {where}; write whole yuan, e.g. 1500 or 1,500元")
        fines.append(int(re.sub(r"[,，]", "", token)))
    return fines
