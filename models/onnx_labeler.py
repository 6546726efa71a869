"""Inference with an exported ONNX model (``penalty export``): onnxruntime runs the window graph.

Batching and pooling are ``models.windows``', the same as ``BertLabeler``'s, so an fp32 export scores like the
PyTorch model it came from.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from data.errors import ModelError
from data.labels import LabelSet
from models.export import ONNX, ONNX_NAME, OUTPUT_NAMES
from models.windows import WindowLabeler

logger = logging.getLogger(__name__)


class OnnxLabeler(WindowLabeler):
    """Scores case units with an onnxruntime session over the exported window graph."""

    model_type = ONNX

    def __init__(
        self, session, tokenizer, label_set: LabelSet, max_length: int = 256, stride: int = 64, batch_size: int = 32
    ) -> None:
        super().__init__(tokenizer, label_set, max_length, stride, batch_size)
        self.session = session
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

    def run_windows(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        return self.session.run(OUTPUT_NAMES, {"input_ids": input_ids, "attention_mask": attention_mask})
