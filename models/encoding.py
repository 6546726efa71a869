"""Case-unit texts → overlapping token windows, and the collator that batches them with dynamic padding.

Training and prediction share this, so a unit is windowed the same way in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

from data.normalize import normalize

LABEL_NAMES = ["offense_labels", "penalty_labels", "party_labels"]


def encode_units(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, stride: int
) -> list[list[list[int]]]:
    """Token-id windows per text (normalised first: simplified script, half-width digits, no pinyin artefacts).

    Windows overlap by ``stride`` tokens so a sentence cut at a window edge is whole in the next one.
    """
    encoded = tokenizer(
        [normalize(t).text for t in texts],
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_attention_mask=False,
    )
    windows: list[list[list[int]]] = [[] for _ in texts]
    for ids, unit in zip(encoded["input_ids"], encoded["overflow_to_sample_mapping"], strict=True):
        windows[unit].append(ids)
    return windows


@dataclass
class WindowCollator:
    """Flattens the windows of a batch of units, pads them to the longest window, and records ``unit_index``."""

    pad_token_id: int

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        windows = [w for f in features for w in f["input_ids"]]
        unit_index = [i for i, f in enumerate(features) for _ in f["input_ids"]]
        width = max(len(w) for w in windows)
        input_ids = torch.full((len(windows), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(windows), width), dtype=torch.long)
        for row, window in enumerate(windows):
            input_ids[row, : len(window)] = torch.tensor(window, dtype=torch.long)
            attention_mask[row, : len(window)] = 1
        batch = {"input_ids": input_ids, "attention_mask": attention_mask, "unit_index": torch.tensor(unit_index)}
        if "offense_labels" in features[0]:
            batch["offense_labels"] = torch.tensor([f["offense_labels"] for f in features], dtype=torch.long)
            batch["penalty_labels"] = torch.tensor([f["penalty_labels"] for f in features], dtype=torch.float)
            batch["party_labels"] = torch.tensor([f["party_labels"] for f in features], dtype=torch.long)
        return batch
