"""Versions of Python and the libraries behind a model or a figure, stored with them for reproducibility.

Read from package metadata, never imported, so pure-Python layers (data/, eval/) do not pull in torch.
"""

from __future__ import annotations

import importlib.metadata
import platform

LIBRARIES = (
    "penalty", "torch", "transformers", "datasets", "evaluate", "scikit-learn", "numpy", "safetensors", "tokenizers",
    "matplotlib", "opencc-python-reimplemented",
)  # fmt: skip


def library_versions() -> dict[str, str]:
    """``{"python": ..., "<library>": "<version>" | "not installed"}``."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
