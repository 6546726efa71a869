"""Inference with a fine-tuned multi-task encoder: batches of windows → label scores (``models.windows``)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from transformers import AutoTokenizer

from data.errors import ModelError
from data.labels import LabelSet
from models.multitask import MultiTaskModel
from models.windows import WindowLabeler

logger = logging.getLogger(__name__)
BERT = "bert"


class BertLabeler(WindowLabeler):
    """Scores case units with a ``MultiTaskModel`` in PyTorch."""

    model_type = BERT

    def __init__(
        self,
        model: MultiTaskModel,
        tokenizer,
        label_set: LabelSet,
        max_length: int = 256,
        stride: int = 64,
        batch_size: int = 32,
    ) -> None:
        super().__init__(tokenizer, label_set, max_length, stride, batch_size)
        self.model = model.eval()
        if list(model.config.offenses) != list(label_set.offenses) or list(model.config.penalties) != list(
            label_set.penalties
        ):
            raise ModelError("the model's heads do not match its labels.yaml; the model directory is inconsistent")

    @classmethod
    def load(cls, model_dir: Path, label_set: LabelSet, max_length: int, stride: int) -> BertLabeler:
        """Load weights and tokenizer from a model directory.

        Raises:
            ModelError: weights or tokenizer missing or unreadable.
        """
        try:
            model = MultiTaskModel.from_pretrained(model_dir)
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
        except (OSError, ValueError, RuntimeError, SafetensorError) as err:
            raise ModelError(f"cannot load model weights or tokenizer from {model_dir}: {err}") from err
        return cls(model, tokenizer, label_set, max_length, stride)

    @torch.inference_mode()
    def run_windows(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        device = next(self.model.parameters()).device
        ids, mask = torch.from_numpy(input_ids).to(device), torch.from_numpy(attention_mask).to(device)
        return [logits.float().cpu().numpy() for logits in self.model.window_logits(ids, mask)]
