"""Inference with an exported ONNX model (``penalty export``): the windows, batches and pooling of ``BertLabeler``.

onnxruntime runs the window graph; the windows of each case unit are pooled here in numpy exactly as
``MultiTaskModel`` pools them in torch (mean of offense and party logits, max of penalty logits), so an fp32 export
scores like the PyTorch model it came from.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from data.errors import ModelError
from data.labels import LabelSet
from data.types import LabelScores
from models.encoding import WindowCollator, encode_units
from models.export import ONNX, ONNX_NAME, OUTPUT_NAMES

logger = logging.getLogger(__name__)


class OnnxLabeler:
    """Scores case units with an onnxruntime session over the exported window graph."""

    model_type = ONNX

    def __init__(
        self, session, tokenizer, label_set: LabelSet, max_length: int = 256, stride: int = 64, batch_size: int = 32
    ) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.label_set = label_set
        self.max_length = max_length
        self.stride = stride
        self.batch_size = batch_size
        self.collate = WindowCollator(tokenizer.pad_token_id)
        widths = {o.name: o.shape[-1] for o in session.get_outputs()}
        sizes = (len(label_set.offenses), len(label_set.penalties), len(label_set.parties))
        expected = dict(zip(OUTPUT_NAMES, sizes, strict=True))
        if widths != expected:
            raise ModelError(
                f"the ONNX graph's outputs {widths} do not match its labels.yaml {expected}; re-export the model"
            )

    @classmethod
    def load(cls, model_dir: Path, label_set: LabelSet, max_length: int, stride: int, threads: int = 0) -> OnnxLabeler:
        """Open ``model.onnx`` and the tokenizer of an exported model directory.

        Args:
            threads: onnxruntime intra-op threads; 0 means as many as PyTorch uses (``torch.get_num_threads()``).

        Raises:
            ModelError: ``model.onnx`` or the tokenizer is missing, truncated or not a valid graph.
        """
        import onnxruntime as ort

        path = Path(model_dir) / ONNX_NAME
        if not path.is_file():
            raise ModelError(f"{model_dir}: {ONNX_NAME} is missing; export it again with 'penalty export'")
        options = ort.SessionOptions()
        # onnxruntime's own default (one thread per core) ignores OMP_NUM_THREADS, so N sharded processes would each
        # spawn a full pool; following torch's count makes OMP_NUM_THREADS=1 work for both runtimes alike
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Every batch has another (windows, tokens) shape; memory patterns are planned per shape and kept, so RSS
        # crept up over a crawl (benchmarks/inference.py --stream). The arena stays: it plateaus after the first
        # batches and is faster than allocating per run.
        options.enable_mem_pattern = False
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
        except Exception as err:  # onnxruntime's errors (InvalidProtobuf, Fail, NoSuchFile…) share no useful base
            raise ModelError(f"cannot load the ONNX model or tokenizer from {model_dir}: {err}") from err
        return cls(session, tokenizer, label_set, max_length, stride)

    def score_texts(self, texts: list[str]) -> list[LabelScores]:
        """Label scores per text, in input order; batches are sorted by length so padding stays small."""
        windows = encode_units(self.tokenizer, texts, self.max_length, self.stride)
        order = sorted(range(len(texts)), key=lambda i: sum(len(w) for w in windows[i]))
        scores: list[LabelScores | None] = [None] * len(texts)
        for begin in range(0, len(order), self.batch_size):
            chunk = order[begin : begin + self.batch_size]
            batch = self.collate([{"input_ids": windows[i]} for i in chunk])
            feeds = {"input_ids": batch["input_ids"].numpy(), "attention_mask": batch["attention_mask"].numpy()}
            offense, penalty, party = self.session.run(OUTPUT_NAMES, feeds)
            unit_index = batch["unit_index"].numpy()
            offense = _softmax(pool_windows(offense, unit_index, "mean"))
            penalty = _sigmoid(pool_windows(penalty, unit_index, "max"))
            party = _softmax(pool_windows(party, unit_index, "mean"))
            for row, i in enumerate(chunk):
                scores[i] = LabelScores.from_rows(
                    self.label_set, offense[row].tolist(), penalty[row].tolist(), party[row].tolist()
                )
        return scores  # type: ignore[return-value]


def pool_windows(values: np.ndarray, unit_index: np.ndarray, how: str) -> np.ndarray:
    """Pool window rows per unit (``unit_index`` gives each row's unit, units numbered 0..n-1).

    Mirrors ``models.multitask``: mean for offense and party (every window votes), max for penalties (a penalty
    stated in any window was imposed).
    """
    n_units = int(unit_index.max()) + 1
    values = values.astype(np.float32, copy=False)
    if how == "mean":
        sums = np.zeros((n_units, values.shape[1]), dtype=np.float32)
        np.add.at(sums, unit_index, values)
        counts = np.maximum(np.bincount(unit_index, minlength=n_units), 1).astype(np.float32)
        return sums / counts[:, None]
    if how == "max":
        out = np.full((n_units, values.shape[1]), np.finfo(np.float32).min, dtype=np.float32)
        np.maximum.at(out, unit_index, values)
        return out
    raise ValueError(f"how must be 'mean' or 'max', got {how!r}")


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-x)) overflows (with a RuntimeWarning) for x < -88 in float32; this form does not
    return np.exp(-np.logaddexp(0.0, -logits))
