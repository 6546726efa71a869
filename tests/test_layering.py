"""style.md §1: dependencies point one way; data/ and eval/ never pull in torch."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "data.reader",
        "data.segment",
        "data.segment_lines",
        "data.segment_cues",
        "data.segment_offenders",
        "data.labels",
        "data.formats",
        "data.corpus",
        "data.evidence",
        "eval.metrics",
    ],
)
def test_layering_module_does_not_import_torch(module):
    code = f"import {module}, sys; print('torch' in sys.modules or 'transformers' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_layering_rules_baseline_needs_no_torch():
    code = "import models.rules, sys; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
